/**
 * The operator's own connection multiplexing. An operator whose ssh configuration (~/.ssh/config, the
 * executor's `ssh_config` or `options`) says `ControlMaster auto` with a `ControlPath` has a master
 * connection open from their own session, or wants one kept: plain `ssh` reuses it, and so should a
 * rollback, instead of paying a new handshake per command. `ssh -G` prints the configuration ssh would
 * use for the host (Match, Include and tokens resolved), which is the one honest way to read it.
 */
import { existsSync } from 'node:fs';
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
