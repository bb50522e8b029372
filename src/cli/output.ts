/**
 * Output helpers shared by the subcommands: `--json` documents go to stdout only; logs, warnings and
 * progress go to stderr.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { isUserError } from '../core/errors.js';

/** Anything with a `write(string)`: process.stdout, a test buffer. */
export interface Writer {
  write(chunk: string): unknown;
}

/** One JSON document, pretty-printed, newline-terminated. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * What `--json` prints on stdout when a command fails before printing its own document: a usage
 * error, a configuration error, an unknown environment, a held lock, a bug. One line, so it is also a
 * valid last line of a JSON-lines stream (`monitor --json`).
 */
export interface FailureDocument {
  ok: false;
  /** The message printed on stderr, without the program name. */
  error: string;
  exit_code: number;
  /** Machine-readable: USAGE, CONFIG, UNKNOWN_ENV, LOCK_HELD, INVALID_BACKUP_NAME, INTERNAL, ... */
  code: string;
  hint?: string;
  /** Each configuration problem, one line each (`file:line:col: key: what`). */
  errors?: string[];
}

export function failureDocument(err: unknown, exitCode: number): FailureDocument {
  if (isUserError(err)) {
    const problems = (err as { problems?: unknown }).problems;
    return {
      ok: false,
      error: err.message,
      exit_code: exitCode,
      code: err.code,
      ...(err.hint !== undefined ? { hint: err.hint } : {}),
      ...(Array.isArray(problems) ? { errors: problems.map(String) } : {}),
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, error: `internal error (this is a bug, please report it): ${message}`, exit_code: exitCode, code: 'INTERNAL' };
}

/** `--json` among the words of a command line (before a `--`), for failures before the options are parsed. */
export function argvAsksForJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
}

/** A writer that collects everything written (tests, captured commander output). */
export class BufferWriter implements Writer {
  private chunks: string[] = [];
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  text(): string {
    return this.chunks.join('');
  }
}

/**
 * A chalk instance honouring `--no-color` and NO_COLOR (https://no-color.org: any non-empty value);
 * FORCE_COLOR is left to chalk. Without a terminal there is no colour unless forced.
 */
export function makeColor(opts: { color: boolean; env: NodeJS.ProcessEnv; isTTY: boolean; baseLevel: 0 | 1 | 2 | 3 }): ChalkInstance {
  const noColor = !opts.color || (opts.env.NO_COLOR !== undefined && opts.env.NO_COLOR !== '');
  const forced = opts.env.FORCE_COLOR !== undefined && opts.env.FORCE_COLOR !== '0' && opts.env.FORCE_COLOR !== 'false';
  let level: 0 | 1 | 2 | 3 = 0;
  if (!noColor && (opts.isTTY || forced)) level = opts.baseLevel === 0 && forced ? 1 : opts.baseLevel;
  return new Chalk({ level });
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** Aligned columns for human-readable lists (no colour codes in the width computation). */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const visible = (s: string) => s.replace(ANSI, '').length;
  const widths = headers.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visible(c)))))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** The "Examples:" block shown after a command's help. */
export function examples(...lines: [command: string, what: string][]): string {
  const width = Math.max(...lines.map(([c]) => c.length));
  return `\nExamples:\n${lines.map(([c, w]) => `  $ ${c.padEnd(width)}  # ${w}`).join('\n')}\n`;
}
