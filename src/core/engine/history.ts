/**
 * The history log: append-only JSON Lines in `state_dir/history.jsonl`, written through the executor
 * (StateDir.appendLine: one append + fdatasync), so it lives beside the releases and every operator sees
 * the same log.
 *
 * Reading takes one round trip (the whole file) and parses it line by line from the end, so `--limit`
 * does not parse what it does not show. A torn last line (a crash mid-append: no trailing newline, or
 * not JSON) is detected, copied aside to `history.torn.<timestamp>` once, reported as a warning, and
 * never breaks reading; the next append starts on a fresh line. Corrupt lines in the middle are skipped
 * with a warning.
 */
import { randomUUID } from 'node:crypto';
import { UserError } from '../errors.js';
import { shQuote } from '../exec/quote.js';
import type { Executor } from '../exec/types.js';
import type { HistoryEntry } from './types.js';

/** The subset of StateDir the history needs (helper-2's StateDir satisfies it). */
export interface HistoryState {
  read(name: string, options?: { maxBytes?: number }): Promise<string | null>;
  appendLine(name: string, line: string): Promise<void>;
  writeAtomic(name: string, content: string): Promise<void>;
  list(dir?: string): Promise<string[]>;
}

export const HISTORY_FILE = 'history.jsonl';

export interface ParsedHistory {
  /** Newest first. */
  entries: HistoryEntry[];
  /** The torn tail (text after the last newline that is not a complete entry), or null. */
  torn: string | null;
  /** 1-based line numbers of corrupt lines (excluding the torn tail). */
  corrupt: number[];
  /** Total complete lines in the file. */
  lines: number;
}

function isEntry(v: unknown): v is HistoryEntry {
  return typeof v === 'object' && v !== null && typeof (v as HistoryEntry).env === 'string' && typeof (v as HistoryEntry).timestamp === 'string';
}

/**
 * Parse the file's text. Newest entries are last in the file; the result is newest first and stops
 * after `limit` entries (filtered by `env` when given).
 */
export function parseHistory(text: string, options: { limit?: number; env?: string } = {}): ParsedHistory {
  const limit = options.limit ?? Infinity;
  const entries: HistoryEntry[] = [];
  const corrupt: number[] = [];
  let torn: string | null = null;
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) !== 10) {
    // The last append did not finish (no trailing newline): whatever follows the last newline is torn,
    // even if it happens to parse: the next append would otherwise glue onto it.
    const nl = text.lastIndexOf('\n');
    torn = text.slice(nl + 1);
    end = nl + 1;
  }
  // Count lines cheaply (one pass for the newline count).
  let lines = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) lines++;
  let lineNo = lines;
  let stop = end - 1; // index of the newline terminating the current line
  while (stop >= 0 && entries.length < limit) {
    const start = text.lastIndexOf('\n', stop - 1) + 1;
    const raw = text.slice(start, stop);
    if (raw.trim() !== '') {
      if (options.env && !raw.includes(options.env)) {
        // cheap pre-filter: the env name must appear in the line
      } else {
        try {
          const v: unknown = JSON.parse(raw);
          if (!isEntry(v)) corrupt.push(lineNo);
          else if (!options.env || v.env === options.env) entries.push(v);
        } catch {
          corrupt.push(lineNo);
        }
      }
    }
    lineNo--;
    stop = start - 1;
  }
  return { entries, torn, corrupt, lines };
}

export interface ReadHistoryResult {
  entries: HistoryEntry[];
  warnings: string[];
}

/** Years of rollbacks are a few MB; 100,000 entries are ~40 MB. Past this, archive the log. */
export const HISTORY_MAX_BYTES = 256 * 1024 * 1024;

/** Read newest first. A torn tail is set aside (copied to history.torn.<ts>, once) and reported. */
export async function readHistoryFrom(
  state: HistoryState,
  options: { limit?: number; env?: string; label?: string } = {},
): Promise<ReadHistoryResult> {
  const text = (await state.read(HISTORY_FILE, { maxBytes: HISTORY_MAX_BYTES })) ?? '';
  const parsed = parseHistory(text, options);
  const warnings: string[] = [];
  const where = options.label ? `${options.label}: ` : '';
  if (parsed.torn !== null) {
    const saved = await setAsideTorn(state, parsed.torn).catch((err: Error) => `(could not save it: ${err.message})`);
    warnings.push(
      `${where}the last line of ${HISTORY_FILE} is incomplete (a write was interrupted); it was skipped and saved as ${saved}`,
    );
  }
  if (parsed.corrupt.length) {
    const shown = parsed.corrupt.slice(0, 5).join(', ');
    warnings.push(`${where}${parsed.corrupt.length} corrupt line(s) in ${HISTORY_FILE} skipped (line ${shown}${parsed.corrupt.length > 5 ? ', ...' : ''})`);
  }
  return { entries: parsed.entries, warnings };
}

function tornName(torn: string): string {
  // Name by content so reading twice does not save twice.
  let h = 0;
  for (let i = 0; i < torn.length; i++) h = (Math.imul(h, 31) + torn.charCodeAt(i)) | 0;
  return `history.torn.${(h >>> 0).toString(16)}`;
}

async function setAsideTorn(state: HistoryState, torn: string): Promise<string> {
  const name = tornName(torn);
  const existing = await state.list('').catch(() => [] as string[]);
  if (!existing.includes(name)) await state.writeAtomic(name, `${new Date().toISOString()}\n${torn}`);
  return name;
}

/**
 * Append one entry in one round trip: if the file ends in a torn line (no trailing newline), that
 * fragment is first copied to `history.torn.<epoch>` and the entry starts on a new line (the fragment
 * stays behind as a skipped corrupt line). One write of the line (cat of a temp file onto the O_APPEND
 * file), then fdatasync where `sync -d` exists.
 */
export async function appendHistoryTo(state: HistoryState & { path(name: string): string }, executor: Executor, entry: HistoryEntry): Promise<void> {
  const line = JSON.stringify(entry);
  if (/[\n\r\0]/.test(line)) throw new Error('history entry serialised with a line break or NUL');
  const script = `set -e
umask 077
f=$1; d=$(dirname -- "$f"); mkdir -p -- "$d"
tmp="$d/.tmp.append.$$"
trap 'rm -f -- "$tmp"' EXIT
: > "$tmp"
if [ -s "$f" ] && [ "$(tail -c 1 -- "$f" | od -An -c | tr -d ' ')" != '\\n' ]; then
  tail -n 1 -- "$f" > "$d/history.torn.$(date +%s)" || :
  echo "torn" >&2
  printf '\\n' >> "$tmp"
fi
printf '%s\\n' ${shQuote(line)} >> "$tmp"
cat -- "$tmp" >> "$f"
sync -d -- "$f" 2>/dev/null || :`;
  const r = await executor.script(script, [state.path(HISTORY_FILE)], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) {
    throw new UserError(`cannot append to ${state.path(HISTORY_FILE)} (${executor.description}): ${r.stderr.trim().split('\n').pop() || `exit ${r.exitCode}`}`, {
      hint: 'check that the state directory exists and is writable',
      code: 'STATE_DIR',
    });
  }
}

export function newEntryId(): string {
  return `rb-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomUUID().slice(0, 8)}`;
}

/** Fill defaults so callers (monitor: automation_paused, escalation) can give only what matters. */
export function makeEntry(partial: Partial<HistoryEntry> & Pick<HistoryEntry, 'env' | 'kind' | 'initiated_by'>): HistoryEntry {
  return {
    id: partial.id ?? newEntryId(),
    timestamp: partial.timestamp ?? new Date().toISOString(),
    trigger: 'manual',
    from: null,
    to: null,
    reason: '',
    success: true,
    verification: 'skipped',
    duration_ms: 0,
    steps: [],
    error: null,
    ...partial,
  };
}
