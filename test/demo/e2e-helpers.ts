/** What the demo's pseudo-terminal tests read: the tmux pane's text, and a state directory's history. */
import fs from 'node:fs';
import path from 'node:path';
import type { HistoryEntry } from '../../src/core/engine/types.js';

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
