/**
 * The operator's own connection multiplexing. An operator whose ssh configuration (~/.ssh/config, the
 * executor's `ssh_config` or `options`) says `ControlMaster auto` with a `ControlPath` has a master
 * connection open from their own session, or wants one kept: plain `ssh` reuses it, and so should a
 * rollback, instead of paying a new handshake per command. `ssh -G` prints the configuration ssh would
 * use for the host (Match, Include and tokens resolved), which is the one honest way to read it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SshExecutorConfig } from '../config/schema.js';
import { runProcess } from './run.js';

export interface OperatorMultiplexing {
  /** The control socket, tokens expanded (`%C`, `~`). */
  controlPath: string;
  /** Whether the operator keeps masters after their last session (ControlPersist other than `no`). */
  persists: boolean;
}

/** The `ssh -G` lines this reads, as `key value` (keys are printed lower-case). */
export function parseMultiplexing(sshG: string): OperatorMultiplexing | null {
  const value = (key: string): string | undefined => {
    const line = sshG.split('\n').find((l) => l.startsWith(`${key} `));
    return line?.slice(key.length + 1).trim();
  };
  // Only `auto` is reuse-or-become-master. `yes`/`ask` always try to be the master, and `autoask`
  // asks on the terminal before each reuse, which a batch-mode command cannot answer.
  if (value('controlmaster') !== 'auto') return null;
  const controlPath = value('controlpath');
  if (controlPath === undefined || controlPath === '' || controlPath === 'none') return null;
  const persist = value('controlpersist');
  return { controlPath, persists: persist !== undefined && persist !== 'no' && persist !== 'false' };
}

/**
 * The operator's multiplexing for `host` under `args` (the executor's -F/-p/-l/-o options), or null:
 * none configured, or ssh could not read its configuration (then the calls report that themselves).
 */
export async function operatorMultiplexing(args: readonly string[], host: string, signal: AbortSignal): Promise<OperatorMultiplexing | null> {
  try {
    const r = await runProcess({ file: 'ssh', args: [...args, '-G', '--', host], input: '', what: 'reading the ssh configuration' }, { signal, timeoutMs: 10_000 });
    return r.exitCode === 0 ? parseMultiplexing(r.stdout) : null;
  } catch {
    return null;
  }
}

/**
 * Whether a run should go through the operator's socket. A socket that exists is reused (a stale one
 * is replaced by ssh itself under `ControlMaster auto`). Without one, the operator's configuration
 * makes a master only if it persists: a master made with no ControlPersist would never end, so then
 * the run keeps to its own private master instead.
 */
export function useOperatorSocket(mux: OperatorMultiplexing): boolean {
  return mux.persists || existsSync(mux.controlPath);
}

const CONTROL_MASTER = /^\s*controlmaster\s*[=\s]/im;
const INCLUDE = /^\s*include\s*[=\s]\s*(.+)$/gim;
/** The nesting ssh itself allows. */
const MAX_INCLUDE_DEPTH = 16;
const mentionMemo = new Map<string, boolean>();

/**
 * Whether any ssh configuration the executor reads could turn multiplexing on: a cheap look for a
 * `ControlMaster` line in the files (and their Includes) and `options`, so that the usual case (no one
 * multiplexes) costs no `ssh -G` process per host. Anything it cannot follow for sure (an Include with
 * tokens, a glob in a directory part, an unreadable file) counts as "could", and `ssh -G` decides.
 */
export function mayMultiplex(cfg: Pick<SshExecutorConfig, 'ssh_config' | 'options'>): boolean {
  if (Object.keys(cfg.options ?? {}).some((k) => k.toLowerCase() === 'controlmaster')) return true;
  const home = os.homedir();
  const files = cfg.ssh_config !== undefined ? (cfg.ssh_config === 'none' ? [] : [{ file: cfg.ssh_config, user: true }]) : [
    { file: path.join(home, '.ssh', 'config'), user: true },
    { file: '/etc/ssh/ssh_config', user: false },
  ];
  const key = JSON.stringify(files);
  let found = mentionMemo.get(key);
  if (found === undefined) {
    found = files.some(({ file, user }) => mentions(file.replace(/^~(?=\/)/, home), user ? path.join(home, '.ssh') : '/etc/ssh', 0));
    mentionMemo.set(key, found);
  }
  return found;
}

function mentions(file: string, includeDir: string, depth: number): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  if (CONTROL_MASTER.test(text)) return true;
  if (depth >= MAX_INCLUDE_DEPTH) return true;
  for (const m of text.matchAll(INCLUDE)) {
    for (const raw of (m[1] ?? '').trim().split(/\s+/)) {
      const arg = raw.replace(/^"(.*)"$/, '$1').replace(/^~(?=\/)/, os.homedir());
      if (/[%$]/.test(arg)) return true;
      const full = path.isAbsolute(arg) ? arg : path.join(includeDir, arg);
      const dir = path.dirname(full);
      if (/[*?[]/.test(dir)) return true;
      const base = path.basename(full);
      let names: string[];
      if (/[*?[]/.test(base)) {
        if (/\[/.test(base)) return true;
        const re = new RegExp(`^${base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
        try {
          names = readdirSync(dir).filter((n) => re.test(n));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
          return true;
        }
      } else {
        names = [base];
      }
      if (names.some((n) => mentions(path.join(dir, n), includeDir, depth + 1))) return true;
    }
  }
  return false;
}
