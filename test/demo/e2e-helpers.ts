/**
 * What the demo's pseudo-terminal tests read: the tmux pane's text, a state directory's history, and,
 * for a wait that fails, the screen together with the sandbox's state (a loaded machine makes every
 * stage late: the failure must say which stage the demo was in).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { HistoryEntry } from '../../src/core/engine/types.js';
import { waitFor } from '../../src/demo/sandbox.js';

/** The pane's text now ('' while tmux has no pane yet or is gone). */
export function paneText(tmux: (...args: string[]) => string): string {
  try {
    return tmux('capture-pane', '-p', '-t', '0');
  } catch {
    return '';
  }
}

/** The history of the environment whose state_dir is `dir`/state, oldest first ([] before the first entry). */
export function historyUnder(dir: string): HistoryEntry[] {
  const file = path.join(dir, 'state', 'history.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as HistoryEntry);
}

/** The release `dir`/current points at, by name. */
export function liveUnder(dir: string): string {
  try {
    return path.basename(fs.realpathSync(path.join(dir, 'current')));
  } catch (err) {
    return `(none: ${(err as Error).message})`;
  }
}

function tail(file: string, lines: number): string[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-lines)
    .map((l) => (l.length > 240 ? `${l.slice(0, 240)}…` : l));
}

/**
 * The sandbox as it is now: per host (one for the single-host demo) the live release, the last history
 * entries and the service log's tail; then the last notifications the demo's offline channel received.
 */
export function sandboxState(dir: string): string {
  if (!fs.existsSync(dir)) return `sandbox ${dir}: removed`;
  const hostsDir = path.join(dir, 'hosts');
  const places: Array<[string, string]> = fs.existsSync(hostsDir)
    ? fs.readdirSync(hostsDir).sort().map((h) => [h, path.join(hostsDir, h)])
    : [['demo', dir]];
  const out = [`sandbox ${dir}:`];
  for (const [name, d] of places) {
    const recent = historyUnder(d)
      .slice(-3)
      .map((h) => `${h.timestamp} ${h.trigger} ${h.from} -> ${h.to} ${h.success ? 'ok' : `failed: ${h.error}`}`);
    out.push(`  ${name}: live ${liveUnder(d)}; last history: ${recent.join(' | ') || 'none'}`);
    for (const l of tail(path.join(d, 'logs', 'service.log'), 3)) out.push(`    service.log: ${l}`);
  }
  for (const l of tail(path.join(dir, 'logs', 'notifications.jsonl'), 5)) out.push(`  notification: ${l}`);
  return out.join('\n');
}

/**
 * Poll `check` until it holds; on the deadline, or when `check` throws (a stage that went wrong), fail
 * with `context()` (the screen and the sandbox's state) in the message.
 */
export async function until(check: () => boolean, what: string, timeoutMs: number, context: () => string): Promise<void> {
  await waitFor(check, what, timeoutMs).catch((err: Error) => {
    throw new Error(`${err.message}\n${context()}`);
  });
}
