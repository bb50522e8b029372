/**
 * Log tailing for the `log_errors` trigger: each tick reads only the lines that are new since the last
 * tick and counts those matching the trigger's patterns.
 * - `logs.file`: read from the byte offset reached last time (through the executor, so it works over
 *   SSH); a file that shrank was rotated or truncated and is read from the start. A trailing partial
 *   line waits for the next tick.
 * - `logs.command` (e.g. `journalctl -u app -n 50`): prints the recent lines each time; the new ones
 *   are those after the longest overlap with the previous output.
 * The first read only positions the tail (history before the monitor started is not counted).
 */
import type { ResolvedEnvironment } from '../../config/schema.js';
import type { Executor } from '../../exec/types.js';
import { errorText } from './sample.js';

const TAIL_FILE_SCRIPT = `
f="$1"; off="$2"; max="$3"
if [ ! -e "$f" ]; then echo "no such file: $f" >&2; exit 66; fi
size=$(wc -c < "$f" | tr -d ' ')
if [ "$size" -lt "$off" ]; then off=0; fi
n=$((size - off)); if [ "$n" -gt "$max" ]; then off=$((size - max)); n=$max; fi
echo "$off $size"
if [ "$n" -gt 0 ]; then tail -c +$((off + 1)) "$f" | head -c "$n"; fi
`;

const MAX_READ_BYTES = 1024 * 1024;

export type LogRead = { ok: true; count: number; lines: string[] } | { ok: false; error: string };

/** New lines of `next` given the previous output `prev`: after the longest suffix of prev that prefixes next. */
export function newLines(prev: readonly string[], next: readonly string[]): string[] {
  const max = Math.min(prev.length, next.length);
  for (let k = max; k > 0; k--) {
    let match = true;
    for (let i = 0; i < k; i++) {
      if (prev[prev.length - k + i] !== next[i]) {
        match = false;
        break;
      }
    }
    if (match) return next.slice(k);
  }
  return [...next];
}

export class LogTail {
  private offset: number | null = null;
  private prev: string[] | null = null;
  private readonly patterns: RegExp[];

  constructor(
    private readonly logs: NonNullable<ResolvedEnvironment['logs']>,
    patterns: readonly string[],
    private readonly executor: Executor,
    private readonly timeoutMs: number,
  ) {
    this.patterns = patterns.map((p) => new RegExp(p));
  }

  /** Forget the position (the release changed: its logs start anew from the current end). */
  reset(): void {
    this.offset = null;
    this.prev = null;
  }

  private matching(lines: readonly string[]): string[] {
    return lines.filter((l) => this.patterns.some((re) => re.test(l)));
  }

  async read(signal?: AbortSignal): Promise<LogRead> {
    try {
      if (this.logs.file) return await this.readFile(this.logs.file, signal);
      if (this.logs.command) return await this.readCommand(this.logs.command, signal);
      return { ok: false, error: 'logs: neither file nor command is set' };
    } catch (err) {
      return { ok: false, error: `logs: ${errorText(err)}` };
    }
  }

  private async readFile(file: string, signal?: AbortSignal): Promise<LogRead> {
    const first = this.offset === null;
    const r = await this.executor.script(TAIL_FILE_SCRIPT, [file, String(first ? 0 : this.offset), String(first ? 0 : MAX_READ_BYTES)], {
      timeoutMs: this.timeoutMs,
      signal,
    });
    if (r.timedOut) return { ok: false, error: `logs.file: timed out after ${this.timeoutMs} ms` };
    if (r.exitCode !== 0) return { ok: false, error: `logs.file: ${r.stderr.trim().split('\n').pop() || `exit ${r.exitCode}`}` };
    const nl = r.stdout.indexOf('\n');
    const [offText, sizeText] = r.stdout.slice(0, nl).split(' ');
    const size = Number(sizeText);
    if (first) {
      this.offset = size;
      return { ok: true, count: 0, lines: [] };
    }
    const chunk = r.stdout.slice(nl + 1);
    const end = chunk.lastIndexOf('\n');
    const complete = end >= 0 ? chunk.slice(0, end) : '';
    // Offsets are bytes; keep the partial last line for the next tick.
    this.offset = Number(offText) + Buffer.byteLength(end >= 0 ? chunk.slice(0, end + 1) : '');
    const lines = complete === '' ? [] : complete.split('\n');
    const hits = this.matching(lines);
    return { ok: true, count: hits.length, lines: hits };
  }

  private async readCommand(command: string, signal?: AbortSignal): Promise<LogRead> {
    const r = await this.executor.shell(command, { timeoutMs: this.timeoutMs, signal, maxOutputBytes: MAX_READ_BYTES });
    if (r.timedOut) return { ok: false, error: `logs.command: timed out after ${this.timeoutMs} ms` };
    if (r.exitCode !== 0) return { ok: false, error: `logs.command: exit ${r.exitCode}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').pop()}` : ''}` };
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    const prev = this.prev;
    this.prev = lines;
    if (prev === null) return { ok: true, count: 0, lines: [] };
    const hits = this.matching(newLines(prev, lines));
    return { ok: true, count: hits.length, lines: hits };
  }
}
