/**
 * For the adoption suites: the built bin run in a working directory (as a user runs `init` and then the
 * other commands beside the file it wrote), and a Deployer deploy_path built from Deployer's documented
 * format (Deployer itself is not installable here): releases/N, `current -> releases/N` (relative, as
 * `ln -nfs --relative` makes it), `.dep/releases_log` (one JSON object per release), `.dep/latest_release`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/core/net.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'rollback-tui.js');
export const REPO_ROOT = ROOT;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The bin in `cwd` (so the config is found from there), with USER pinned for the records it writes. */
export function runCli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd, USER: 'oncall', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface DeployerDir {
  root: string;
  deployPath: string;
  /** In releases_log order (oldest first). */
  names: string[];
  cleanup(): void;
}

/**
 * `names` in deploy order; `live` the one current points at (default the last). Every release directory
 * gets the same mtime, so only the record (or the names) can order them.
 */
export function makeDeployerDir(names: string[], options: { live?: string; log?: boolean; bad?: string[] } = {}): DeployerDir {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'rtui-dep-')));
  const deployPath = path.join(root, 'var', 'www', 'app');
  mkdirSync(path.join(deployPath, 'releases'), { recursive: true });
  mkdirSync(path.join(deployPath, '.dep'));
  mkdirSync(path.join(deployPath, 'shared'));
  const same = new Date('2024-06-01T00:00:00Z');
  const log: string[] = [];
  names.forEach((name, i) => {
    const dir = path.join(deployPath, 'releases', name);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'VERSION'), `${name}\n`);
    if (options.bad?.includes(name)) writeFileSync(path.join(dir, 'BAD_RELEASE'), '2024-06-01T10:00:00+0000,alice\n');
    utimesSync(dir, same, same);
    const created = new Date(Date.UTC(2024, 5, 1, 9, 0, 0) + i * 3600_000).toISOString().replace(/\.\d{3}Z$/, '+0000');
    log.push(JSON.stringify({ created_at: created, release_name: name, user: 'alice', target: 'main' }));
  });
  if (options.log !== false) writeFileSync(path.join(deployPath, '.dep', 'releases_log'), `${log.join('\n')}\n`);
  writeFileSync(path.join(deployPath, '.dep', 'latest_release'), `${names.at(-1)}\n`);
  symlinkSync(`releases/${options.live ?? names.at(-1)}`, path.join(deployPath, 'current'));
  return { root, deployPath, names, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Gone, or a zombie not yet reaped (PID 1 here reaps late). */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return / Z /.test(stat.slice(stat.lastIndexOf(')')));
  } catch {
    return true;
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RunningService {
  port: number;
  stop(): Promise<void>;
}

/**
 * demo/service.mjs serving `current` with its working directory there (as a deployed app runs), on a
 * free port; resolves once it listens.
 */
export async function startReleaseService(current: string): Promise<RunningService> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'demo', 'service.mjs'), '--port', String(port), '--release-dir', current], {
    cwd: current,
    stdio: 'ignore',
  });
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    for (let delay = 10; child.pid !== undefined && !gone(child.pid); delay = Math.min(delay * 2, 200)) await pause(delay);
  };
  for (let delay = 10; !(await listening(port)); delay = Math.min(delay * 2, 200)) {
    if (child.exitCode !== null) throw new Error(`the service on port ${port} exited (${child.exitCode})`);
    await pause(delay);
  }
  return { port, stop };
}
