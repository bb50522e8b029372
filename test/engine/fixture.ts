/**
 * Engine test fixture: a temp symlink store with N releases (each with its own demo/service.mjs
 * behaviour in release.json), the real demo service started/stopped by the environment's service
 * commands on a free port, a config file for the built CLI, and helpers to run the CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { makeReleaseLayout, type ReleaseLayout } from '../helpers/releases.js';
import { freePort } from '../../src/core/net.js';
import { shQuote } from '../../src/core/exec/quote.js';
export { freePort };

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const bin = path.join(repo, 'bin/rollback-tui.js');
export const serviceJs = path.join(repo, 'demo/service.mjs');

/**
 * Poll `fn` every 20 ms until it is truthy (or throw after timeoutMs). The default deadline is for a
 * loaded machine (the suite runs three files at once on two cores): what it waits for spawns processes.
 */
export async function pollUntil<T>(fn: () => T | Promise<T>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export type ReleaseSpec = Record<string, unknown>;

export interface FixtureOptions {
  /** release.json of each release, oldest first (default: 3 healthy). The newest is live. */
  releases?: ReleaseSpec[];
  /** Policy overrides (rollback_policy), merged over fast test defaults. */
  policy?: Record<string, unknown>;
  /** Extra environment keys (health, maintenance, executor, logs ...). */
  env?: Record<string, unknown>;
  envName?: string;
  /** Slow service commands: sleep this many seconds in stop/start (for signal tests). */
  serviceDelaySeconds?: number;
  /** Do not start the service for the live release in setup. */
  noStart?: boolean;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Fixture {
  layout: ReleaseLayout;
  port: number;
  configFile: string;
  envName: string;
  pidFile: string;
  logFile: string;
  /** Names oldest first. */
  names: string[];
  live(): string;
  startService(): Promise<void>;
  stopService(): Promise<void>;
  serviceVersion(): Promise<string | null>;
  /**
   * The version the service answers with once it listens (null if it never does within the time).
   * For a rollback cut short after `start`: service.start daemonises and returns before the new
   * process listens, and only `verify` would have waited for it.
   */
  serviceVersionOnceUp(timeoutMs?: number): Promise<string | null>;
  cli(args: string[], opts?: { env?: Record<string, string>; input?: string }): Promise<CliRun>;
  spawnCli(args: string[], opts?: { env?: Record<string, string> }): ChildProcess & { out: () => CliRun };
  history(): Array<Record<string, unknown>>;
  marks(): { known_good: string[]; bad: string[] };
  writeConfig(envExtra?: Record<string, unknown>, policy?: Record<string, unknown>): void;
  cleanup(): Promise<void>;
}

export async function makeFixture(o: FixtureOptions = {}): Promise<Fixture> {
  const specs = o.releases ?? [{}, {}, {}];
  const envName = o.envName ?? 'test';
  const layout = makeReleaseLayout({
    count: specs.length,
    content: (name, dir, i) => {
      writeFileSync(path.join(dir, 'VERSION'), `${name}\n`);
      writeFileSync(path.join(dir, 'release.json'), JSON.stringify({ version: name, ...specs[i] }));
      writeFileSync(path.join(dir, `file-${i}.txt`), `only in ${name}\n`);
    },
  });
  const port = await freePort();
  const pidFile = path.join(layout.root, 'service.pid');
  const logFile = path.join(layout.root, 'service.log');
  const delay = o.serviceDelaySeconds ? `sleep ${o.serviceDelaySeconds}; ` : '';
  const start = `${delay}${sh(process.execPath)} ${sh(serviceJs)} --daemon --port ${port} --release-dir ${sh(layout.current)} --pid-file ${sh(pidFile)} --log-file ${sh(logFile)}`;
  const stop = `${delay}${sh(process.execPath)} ${sh(serviceJs)} --stop --pid-file ${sh(pidFile)}`;
  const configFile = path.join(layout.root, 'rollback-config.yml');
  const baseEnv = {
    target: layout.symlinkTarget(),
    service: { start, stop, timeout_seconds: 30 },
    health: [{ http: { url: `http://127.0.0.1:${port}/health`, timeout_seconds: 1 } }],
    logs: { file: logFile, lines: 20 },
    state_dir: layout.stateDir,
  };
  const writeConfig = (envExtra: Record<string, unknown> = {}, policy: Record<string, unknown> = {}) => {
    const pol = {
      ...policy,
      rollback: { health_check_timeout_seconds: 5, stability_seconds: 0.3, poll_interval_seconds: 0.05, ...(policy.rollback as object) },
      notifications: { timeout_seconds: 1, retries: 1, ...(policy.notifications as object) },
    };
    writeFileSync(
      configFile,
      stringify({ rollback_policy: pol, environments: { [envName]: { ...baseEnv, ...o.env, ...envExtra } } }, { lineWidth: 0 }),
    );
  };
  writeConfig({}, o.policy ?? {});

  const run = (cmd: string) =>
    new Promise<void>((resolve, reject) => {
      const c = spawn('sh', ['-c', cmd], { stdio: 'ignore' });
      c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
    });

  // Generous per request: a stopped service refuses at once, and a running one may answer late on a
  // loaded machine (null then would read as "down").
  const serviceVersion = async (): Promise<string | null> => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
      return ((await res.json()) as { version: string }).version;
    } catch {
      return null;
    }
  };

  const fx: Fixture = {
    layout,
    port,
    configFile,
    envName,
    pidFile,
    logFile,
    names: layout.names,
    live: () => path.basename(readlinkSync(layout.current)),
    startService: async () => {
      await run(start);
      await pollUntil(async () => (await serviceVersion()) !== null, 30_000, 'the service to listen');
    },
    stopService: () => run(stop),
    serviceVersion,
    serviceVersionOnceUp: (timeoutMs = 30_000) => pollUntil(serviceVersion, timeoutMs, 'the service to listen').catch(() => null),
    cli: (args, opts = {}) =>
      new Promise<CliRun>((resolve) => {
        const c = spawn(process.execPath, [bin, '--config', configFile, ...args], {
          env: { ...process.env, NO_COLOR: '1', ROLLBACK_ENV: '', ...opts.env },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
        c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        c.stdin.end(opts.input ?? '');
        c.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
      }),
    spawnCli: (args, opts = {}) => spawnBuiltCli(configFile, args, opts.env),
    history: () => {
      const f = path.join(layout.stateDir, 'history.jsonl');
      if (!existsSync(f)) return [];
      return readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    marks: () => {
      const f = path.join(layout.stateDir, 'marks.json');
      return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { known_good: string[]; bad: string[] }) : { known_good: [], bad: [] };
    },
    writeConfig,
    cleanup: async () => {
      await run(`${sh(process.execPath)} ${sh(serviceJs)} --stop --pid-file ${sh(pidFile)}`).catch(() => undefined);
      layout.cleanup();
    },
  };
  if (!o.noStart) {
    // A service that never listens still left a daemon behind: clean up before failing the test.
    await fx.startService().catch(async (err: unknown) => {
      await fx.cleanup();
      throw err;
    });
  }
  return fx;
}

/** The built CLI on `configFile` as a child process; `out()` is what it printed so far and how it ended. */
export function spawnBuiltCli(configFile: string, args: string[], env: Record<string, string> = {}): ChildProcess & { out: () => CliRun } {
  const c = spawn(process.execPath, [bin, '--config', configFile, ...args], {
    env: { ...process.env, NO_COLOR: '1', ROLLBACK_ENV: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { out: () => CliRun };
  let stdout = '';
  let stderr = '';
  c.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  c.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  c.out = () => ({ code: c.exitCode, signal: c.signalCode as NodeJS.Signals | null, stdout, stderr });
  return c;
}

/** Files in the state dir (for "changes nothing" assertions). */
export function stateFiles(fx: Fixture): string[] {
  const walk = (d: string, pre = ''): string[] =>
    existsSync(d)
      ? readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [`${pre}${e.name}/`, ...walk(path.join(d, e.name), `${pre}${e.name}/`)] : [`${pre}${e.name}`]))
      : [];
  return walk(fx.layout.stateDir);
}

/** A lock of environment `test` left two hours ago by alice@bastion (pid 4242, op rb-old): stale, of another host. */
export function plantStaleLock(fx: Fixture): void {
  mkdirSync(path.join(fx.layout.stateDir, 'locks'), { recursive: true });
  const old = new Date(Date.now() - 2 * 3600_000).toISOString();
  writeFileSync(
    path.join(fx.layout.stateDir, 'locks', 'test.owner.json'),
    JSON.stringify({ user: 'alice', host: 'bastion', pid: 4242, operation_id: 'rb-old', operation: 'rollback', env: 'test', started_at: old, refreshed_at: old, version: '0.1.0', initiated_by: 'alice@bastion' }),
  );
}

/** Quote for the fixture's sh command strings: the product's one quoting function. */
export const sh = shQuote;
