/** Running the built bin as a script or an operator would: a child process with a clean environment. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'rollback-tui.js');

export interface BinRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `rollback-tui ARGS` with only PATH, a temporary HOME, NO_COLOR and `env`; stdin is /dev/null. */
export function runBin(args: readonly string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<BinRun> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH ?? '', HOME: mkdtempSync(path.join(os.tmpdir(), 'rtui-home-')), NO_COLOR: '1', ...opts.env };
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? os.tmpdir(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Writes `text` as rollback-config.yml in a new temporary folder; returns the file's path. */
export function writeConfigFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rtui-cfg-')), 'rollback-config.yml');
  writeFileSync(file, text);
  return file;
}

/** A local symlink environment block (two-space indented under `environments:`). */
export function symlinkEnvironment(name: string, layout: { backupsDir: string; current: string; stateDir: string }): string {
  return [
    `  ${name}:`,
    '    target:',
    '      strategy: symlink',
    `      backups_dir: ${JSON.stringify(layout.backupsDir)}`,
    `      current: ${JSON.stringify(layout.current)}`,
    `    state_dir: ${JSON.stringify(layout.stateDir)}`,
    '',
  ].join('\n');
}
