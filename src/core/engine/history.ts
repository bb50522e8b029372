/**
 * The history log: append-only JSON Lines in `state_dir/history.jsonl`, written through the executor
 * (one write of the whole line onto the O_APPEND file, then fdatasync), so it lives beside the releases
 * and every operator sees the same log.
 *
 * Reading never holds the file whole (HistoryReader): newest first in line-aligned chunks read
 * backwards, one round trip each, so `--limit` reads only what it shows; or oldest first as a stream
 * of lines (stats). A torn last line (a crash mid-append: no trailing newline) is copied aside to
 * `history.torn.<cksum>` once, reported as a warning, and never breaks reading; the next append starts
 * on a fresh line. Corrupt lines in the middle are skipped with a warning.
 */
import { randomUUID } from 'node:crypto';
import { UserError } from '../errors.js';
import { shQuote } from '../exec/quote.js';
import { appendEntryHere } from '../state/local-files.js';
import { MKTEMP_RANDOM } from '../stores/common.js';
import type { Executor } from '../exec/types.js';
import type { HistoryEntry } from './types.js';

export const HISTORY_FILE = 'history.jsonl';

function isEntry(v: unknown): v is HistoryEntry {
  return typeof v === 'object' && v !== null && typeof (v as HistoryEntry).env === 'string' && typeof (v as HistoryEntry).timestamp === 'string';
}

export interface ReadHistoryResult {
  entries: HistoryEntry[];
  warnings: string[];
}

/** Where the state files are (a StateDir); the executor of the host that holds them comes beside it. */
export interface HistorySource {
  path(name: string): string;
}

/** The first chunk read backwards: `--limit 200` of ordinary entries in one round trip. */
const CHUNK_BYTES = 256 * 1024;
/** Chunks double up to this while a whole file is read: few round trips, little garbage at a time. */
const STEADY_CHUNK_BYTES = 4 * 1024 * 1024;
/** A chunk doubles while one line does not fit in it, up to this; a longer line ends reading there (with a warning). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Forward streaming (stats): a longer line arrives in pieces, each counted as a corrupt line. */
const STREAM_LINE_BYTES = 4 * 1024 * 1024;
/** Forward streaming (stats): no round trip may take longer than this. */
const STREAM_TIMEOUT_MS = 10 * 60_000;

/**
 * One round trip per chunk. With `open` (the first call): the file's size, and a torn tail (the bytes
 * after the last newline, once they have kept their size for a second: another process's append in
 * progress is waited for) copied aside once as `history.torn.<cksum>`; then the chunk of up to `len`
 * bytes that ends at `end` (always a line boundary), less the partial line at its start, after a line
 * saying how many bytes that partial line took. So every line that comes back is whole (and whole UTF-8).
 */
const READ_SCRIPT = String.raw`
umask 077
f=$1 end=$2 len=$3
if [ "$end" = open ]; then
  if [ ! -e "$f" ] && [ ! -L "$f" ]; then echo "H 0 0 -"; echo 0; exit 0; fi
  [ -f "$f" ] || exit 11
  size=$(wc -c < "$f") || exit 1
  size=$((size + 0)) torn=0 saved=-
  unended() { [ "$size" -gt 0 ] && [ -n "$(tail -c 1 -- "$f" | tr -d '\n')" ]; }
  # Another process's append still being written looks torn while it grows: torn is a tail that keeps
  # its size for a second (20 looks; where sleep takes no fraction, 20 s, and only for a torn file).
  k=0
  while [ $k -lt 20 ] && unended; do
    sleep 0.05 2>/dev/null || sleep 1
    t=$(wc -c < "$f") || exit 1; t=$((t + 0))
    if [ "$t" = "$size" ]; then k=$((k + 1)); else k=0; size=$t; fi
  done
  if unended; then
    torn=$(tail -n 1 -- "$f" | wc -c); torn=$((torn + 0))
    d=$(dirname -- "$f")
    saved="history.torn.$(tail -c "$torn" -- "$f" | cksum | cut -d ' ' -f 1)"
    if [ ! -e "$d/$saved" ]; then
      tmp=$(mktemp "$d/.tmp.torn.${MKTEMP_RANDOM}") &&
        { date -u +%Y-%m-%dT%H:%M:%SZ; tail -c "$torn" -- "$f"; } > "$tmp" && mv -f -- "$tmp" "$d/$saved" ||
        { rm -f -- "$tmp"; saved=!; }
    fi
  fi
  end=$((size - torn))
  echo "H $end $torn $saved"
fi
start=$((end - len)); [ "$start" -gt 0 ] || start=0
n=$((end - start)); skip=0
[ "$n" -gt 0 ] || { echo 0; exit 0; }
if [ "$start" -gt 0 ]; then skip=$(tail -c +$((start + 1)) -- "$f" | head -c "$n" | head -n 1 | wc -c); skip=$((skip + 0)); fi
echo "$skip"
[ "$skip" -lt "$n" ] && tail -c +$((start + skip + 1)) -- "$f" | head -c $((n - skip))
exit 0
`;

/**
 * Reads `history.jsonl` without ever holding it whole: newest first in line-aligned chunks read
 * backwards (so `--limit 1` of a 200 MB log reads one chunk), or oldest first as a stream of lines
 * (stats). Memory stays flat whatever the size of the file. Torn and corrupt lines end up in `warnings`.
 */
export class HistoryReader {
  readonly warnings: string[] = [];
  private corrupt = 0;
  private readonly file: string;
  private readonly where: string;

  constructor(
    source: HistorySource,
    private readonly executor: Executor,
    private readonly options: { env?: string; label?: string } = {},
  ) {
    this.file = source.path(HISTORY_FILE);
    this.where = options.label ? `${options.label}: ` : '';
  }

  private async chunk(end: number | 'open', len: number): Promise<{ header: string[] | null; skip: number; body: string }> {
    const r = await this.executor.script(READ_SCRIPT, [this.file, String(end), String(len)], { timeoutMs: 60_000, maxOutputBytes: len + 4096 });
    if (r.exitCode === 11) {
      throw new UserError(`cannot read ${this.file}: it is not a regular file`, { hint: `move ${this.file} aside`, code: 'STATE_NOT_A_FILE' });
    }
    if (r.exitCode !== 0 || r.truncated) {
      throw new UserError(`cannot read ${this.file} (${this.executor.description}): ${r.stderr.trim().split('\n').pop() || `exit ${r.exitCode}`}`, {
        hint: 'check that the state directory exists and is readable',
        code: 'STATE_DIR',
      });
    }
    let text = r.stdout;
    let header: string[] | null = null;
    if (end === 'open') {
      const nl = text.indexOf('\n');
      header = text.slice(0, nl).split(' ');
      text = text.slice(nl + 1);
    }
    const nl = text.indexOf('\n');
    return { header, skip: Number(text.slice(0, nl)), body: text.slice(nl + 1) };
  }

  /** Reads the header of the first call: where the complete lines end; reports a torn tail. */
  private opened(header: string[]): number {
    const [, end = '0', torn = '0', saved = '-'] = header;
    if (Number(torn) > 0) {
      this.warnings.push(
        `${this.where}the last line of ${HISTORY_FILE} is incomplete (a write was interrupted); it was skipped and ${saved === '!' ? 'could not be saved aside' : `saved as ${saved}`}`,
      );
    }
    return Number(end);
  }

  private parse(raw: string): HistoryEntry | null {
    if (raw.trim() === '') return null;
    if (this.options.env && !raw.includes(this.options.env)) return null; // cheap pre-filter
    try {
      const v: unknown = JSON.parse(raw);
      if (isEntry(v)) return !this.options.env || v.env === this.options.env ? v : null;
    } catch {
      // counted below
    }
    this.corrupt++;
    return null;
  }

  /** Entries newest first, read backwards chunk by chunk; stop iterating to stop reading. */
  async *newestFirst(): AsyncGenerator<HistoryEntry> {
    let len = CHUNK_BYTES;
    let c = await this.chunk('open', len);
    let end = this.opened(c.header ?? []);
    while (end > 0) {
      const start = Math.max(0, end - len);
      if (c.skip >= end - start) {
        // No whole line in `len` bytes: one long line. Read a bigger chunk, up to a limit.
        if (len >= MAX_LINE_BYTES) {
          this.warnings.push(`${this.where}a line of ${HISTORY_FILE} longer than ${MAX_LINE_BYTES} bytes ends at byte ${end}: older entries were not read (archive the file)`);
          break;
        }
        len *= 2;
      } else {
        const lines = c.body.split('\n');
        for (let i = lines.length - 1; i >= 0; i--) {
          const e = this.parse(lines[i]!);
          if (e) yield e;
        }
        end = start + c.skip;
        len = Math.min(len * 2, STEADY_CHUNK_BYTES); // further back: fewer, larger round trips
      }
      if (end > 0) c = await this.chunk(end, len);
    }
    this.reportCorrupt();
  }

  /** Every line oldest first, as a stream (nothing is kept): `onLine` gets each raw line. */
  async forEachLine(onLine: (raw: string) => void): Promise<void> {
    const { header } = await this.chunk('open', 0);
    const end = this.opened(header ?? []);
    if (end === 0) return;
    const r = await this.executor.script('head -c "$2" -- "$1"', [this.file, String(end)], {
      timeoutMs: STREAM_TIMEOUT_MS,
      maxOutputBytes: STREAM_LINE_BYTES,
      onLine: (line) => {
        if (line.trim() !== '') onLine(line);
      },
    });
    if (r.exitCode !== 0 || r.timedOut) {
      throw new UserError(`cannot read ${this.file} (${this.executor.description}): ${r.timedOut ? 'timed out' : r.stderr.trim().split('\n').pop() || `exit ${r.exitCode}`}`, {
        code: 'STATE_DIR',
      });
    }
  }

  /** A line that is not an entry (for callers that parse lines themselves). */
  countCorrupt(): void {
    this.corrupt++;
  }

  reportCorrupt(): void {
    if (this.corrupt > 0) this.warnings.push(`${this.where}${this.corrupt} corrupt line(s) in ${HISTORY_FILE} skipped`);
    this.corrupt = 0;
  }
}

/** Read newest first, at most `limit` entries. A torn tail is set aside (copied to history.torn.<cksum>, once) and reported. */
export async function readHistoryFrom(
  source: HistorySource,
  executor: Executor,
  options: { limit?: number; env?: string; label?: string } = {},
): Promise<ReadHistoryResult> {
  const reader = new HistoryReader(source, executor, options);
  const entries: HistoryEntry[] = [];
  const limit = options.limit ?? Infinity;
  if (limit > 0) {
    for await (const e of reader.newestFirst()) {
      entries.push(e);
      if (entries.length >= limit) break;
    }
  }
  reader.reportCorrupt();
  return { entries, warnings: reader.warnings };
}

/**
 * The largest line an entry may take. Concurrent appenders each write their line with one write(2)
 * onto the O_APPEND file, which the kernel does not interleave; a cap keeps that one write small and
 * every line readable by every reader.
 */
export const HISTORY_ENTRY_MAX_BYTES = 64 * 1024;

function cut(text: string | null | undefined, max: number): string | null | undefined {
  if (typeof text !== 'string' || text.length <= max) return text;
  return `${text.slice(0, max)}... [truncated: ${text.length} characters in all]`;
}

/**
 * The entry as one JSON line of at most HISTORY_ENTRY_MAX_BYTES: the free-text fields (reason,
 * explanation, error, each step's output) are cut shorter, with a marker, until it fits.
 */
export function historyLine(entry: HistoryEntry): string {
  let line = JSON.stringify(entry);
  for (const max of [4096, 512, 64]) {
    if (Buffer.byteLength(line) <= HISTORY_ENTRY_MAX_BYTES) return line;
    const shorter: HistoryEntry = {
      ...entry,
      reason: cut(entry.reason, max)!,
      error: cut(entry.error, max) ?? null,
      steps: entry.steps.map((st) => (st.error ? { ...st, error: cut(st.error, max)! } : st)),
      ...(entry.explanation !== undefined ? { explanation: cut(entry.explanation, max)! } : {}),
    };
    line = JSON.stringify(shorter);
  }
  if (Buffer.byteLength(line) <= HISTORY_ENTRY_MAX_BYTES) return line;
  // Still too long: fields beyond the recorded ones. Keep what every reader needs.
  const { id, timestamp, env, kind, trigger, from, to, success, verification, duration_ms, initiated_by } = entry;
  return JSON.stringify({
    id, timestamp, env, kind, trigger, from, to, reason: cut(entry.reason, 64), initiated_by, success, verification, duration_ms,
    steps: entry.steps.map(({ name, status, ms }) => ({ name, status, ms })),
    error: cut(entry.error, 64) ?? null,
  });
}

/**
 * `append_history FILE LINE`, an sh function (for one script with other steps): if the file ends in a
 * torn line (no trailing newline), that fragment is first copied to `history.torn.<epoch>` and the entry
 * starts on a new line (the fragment stays behind as a skipped corrupt line); another process's append
 * still being written (the file grows) is waited for, not taken for torn. The line goes from a
 * private temp file onto the O_APPEND file in one write(2) (`dd` with one block of its exact size), then
 * fdatasync where `sync -d` exists. Runs in a subshell: `set -e` and its trap stay inside.
 */
export const APPEND_HISTORY_FUNCTION = `
append_history() ( set -e
umask 077
f=$1; d=$(dirname -- "$f"); mkdir -p -- "$d"
tmp=$(mktemp "$d/.tmp.append.${MKTEMP_RANDOM}")
trap 'rm -f -- "$tmp"' EXIT
unended() { [ -s "$f" ] && [ -n "$(tail -c 1 -- "$f" | tr -d '\\n')" ]; }
if unended; then
  # Another append still being written looks the same while it grows: torn is a tail that keeps its
  # size for a second (20 looks; where sleep takes no fraction, 20 s, and only for a torn file).
  s=$(wc -c < "$f"); k=0
  while [ $k -lt 20 ] && unended; do
    sleep 0.05 2>/dev/null || sleep 1
    t=$(wc -c < "$f"); if [ "$t" = "$s" ]; then k=$((k + 1)); else k=0; s=$t; fi
  done
fi
if unended; then
  tail -n 1 -- "$f" > "$d/history.torn.$(date +%s)" || :
  echo "torn" >&2
  printf '\\n' >> "$tmp"
fi
printf '%s\\n' "$2" >> "$tmp"
n=$(wc -c < "$tmp"); n=$((n + 0))
dd if="$tmp" bs="$n" count=1 2>/dev/null >> "$f"
sync -d -- "$f" 2>/dev/null || :
)
`;

/** The entry's one line, checked: no line break or NUL may reach the log. */
export function historyLineOf(entry: HistoryEntry): string {
  const line = historyLine(entry);
  if (/[\n\r\0]/.test(line)) throw new Error('history entry serialised with a line break or NUL');
  return line;
}

/** The error of an append that failed: the file, the host, the reason. */
export function historyAppendError(file: string, executor: Executor, detail: string): UserError {
  return new UserError(`cannot append to ${file} (${executor.description}): ${detail}`, {
    hint: 'check that the state directory exists and is writable',
    code: 'STATE_DIR',
  });
}

/**
 * Append one entry: in-process on this machine (the same torn-line handling, one O_APPEND write, then
 * fdatasync), else in one round trip (APPEND_HISTORY_FUNCTION).
 */
export async function appendHistoryTo(state: HistorySource, executor: Executor, entry: HistoryEntry): Promise<void> {
  const line = historyLineOf(entry);
  const file = state.path(HISTORY_FILE);
  if (executor.kind === 'local') {
    try {
      return await appendEntryHere(file, line);
    } catch (err) {
      throw historyAppendError(file, executor, (err as Error).message);
    }
  }
  const r = await executor.script(`${APPEND_HISTORY_FUNCTION}append_history "$1" ${shQuote(line)}`, [file], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw historyAppendError(file, executor, r.stderr.trim().split('\n').pop() || `exit ${r.exitCode}`);
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
