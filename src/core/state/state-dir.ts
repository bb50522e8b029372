/**
 * The state directory (history, lock, journal, marks, incidents, baselines) on the host that holds the
 * releases. Every operation is ONE executor round trip (a small POSIX sh script on stdin), so it runs the
 * same locally and over SSH. Content travels inside the script as a quoted literal (stdin), never on a
 * command line.
 *
 * Names are relative to the state directory: one safe segment (`history.jsonl`, `lock`) or a known
 * subdirectory plus one segment (`incidents/2024-11-12T15-30-00.md`).
 */
import path from 'node:path';
import { UserError } from '../errors.js';
import { MKTEMP_RANDOM, shQuote } from '../exec/quote.js';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../exec/run.js';
import { appendLinesHere, createExclusiveHere, readHere, removeHere, writeAtomicHere } from './local-files.js';
import { STATE_FUNCTIONS, stateCall } from './state-script.js';
import type { ExecResult, Executor } from '../exec/types.js';

/** Subdirectories a name may live in. */
export const STATE_SUBDIRS = ['incidents', 'baselines', 'journal', 'locks', 'history', 'runs'] as const;

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._@+-]*$/;

export interface StateStat {
  /** Modification time (ms since epoch, whole seconds) by the host's clock. */
  mtimeMs: number;
  sizeBytes: number;
  isDir: boolean;
  /** The host's clock when stat ran (compare mtimes against this, not the local clock). */
  nowMs: number;
}

export class StateDir {
  readonly root: string;
  private readonly subdirs: readonly string[];

  constructor(
    private readonly executor: Executor,
    root: string,
    options: { subdirs?: readonly string[] } = {},
  ) {
    if (!path.posix.isAbsolute(root)) throw new UserError(`state_dir must be an absolute path, got ${JSON.stringify(root)}`, { code: 'CONFIG' });
    if (/[\0\n\r]/.test(root)) throw new UserError('state_dir contains control characters', { code: 'CONFIG' });
    this.root = path.posix.normalize(root).replace(/\/+$/, '') || '/';
    this.subdirs = options.subdirs ?? STATE_SUBDIRS;
  }

  /** Validate a name; returns it. Throws on `..`, absolute paths, unknown subdirectories, control chars. */
  checkName(name: string, allowDir = false): string {
    const parts = name.split('/');
    const ok =
      (parts.length === 1 && SEGMENT.test(name) && name !== '.' && name !== '..') ||
      (parts.length === 2 && this.subdirs.includes(parts[0] ?? '') && SEGMENT.test(parts[1] ?? '') && !(parts[1] ?? '').startsWith('..')) ||
      (allowDir && name === '');
    if (!ok || name.includes('..')) {
      throw new Error(`invalid state file name ${JSON.stringify(name)} (one safe segment, or ${this.subdirs.join('/|')}/ + one)`);
    }
    return name;
  }

  path(name: string): string {
    this.checkName(name, true);
    return name === '' ? this.root : `${this.root}/${name}`;
  }

  private async run(what: string, script: string, args: string[], okCodes: number[] = [0], maxOutputBytes?: number): Promise<ExecResult> {
    const r = await this.executor.script(STATE_FUNCTIONS + script, args, { timeoutMs: 30_000, ...(maxOutputBytes ? { maxOutputBytes } : {}) });
    if (!okCodes.includes(r.exitCode)) {
      throw this.error(what, r.timedOut ? 'timed out after 30s' : r.stderr.trim().split('\n').at(-1) || `exit ${r.exitCode}`);
    }
    return r;
  }

  /** The error of an operation on this state dir that failed: what, where, the system's reason, the fix. */
  error(what: string, detail: string): UserError {
    return new UserError(`cannot ${what} in state dir ${this.root} (${this.executor.description}): ${detail}`, {
      hint: `check that ${this.root} exists and is writable by the user rollback-tui runs as`,
      code: 'STATE_DIR',
    });
  }

  async ensure(): Promise<void> {
    await this.run('create the directory', 'umask 077\nmkdir -p -- "$1"', [this.root]);
  }

  /**
   * File content, or null when it does not exist (STATE_NOT_A_FILE when the path is something else). `maxBytes` raises the executor's output cap (the
   * history log grows large); a file larger than the cap is an error, never silently cut short.
   */
  async read(name: string, options: { maxBytes?: number } = {}): Promise<string | null> {
    if (this.executor.kind === 'local') return this.readHere(name, options.maxBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
    const r = await this.run(
      `read ${name}`,
      // Opened once, then read from the open descriptor: a file moved aside or replaced between the
      // test and the read (a lock being broken, an atomic rewrite) reads whole or as absent, never as
      // a spurious "No such file". `command exec` so a failed open does not end the shell.
      // Something else at the name (a directory, a dangling link) is said only when seen twice: a file
      // renamed away and back between two tests looks like one for an instant.
      `n=0 odd=0
while :; do
  if [ -f "$1" ]; then
    if { command exec 3<"$1"; } 2>/dev/null; then exec cat <&3; fi
  elif [ -e "$1" ] || [ -L "$1" ]; then odd=$((odd+1)); [ "$odd" -lt 2 ] || exit 11
  else exit 10; fi
  n=$((n+1)); [ "$n" -lt 50 ] || { echo "$1 keeps disappearing while it is read" >&2; exit 1; }
done`,
      [this.path(name)],
      [0, 10, 11],
      options.maxBytes,
    );
    if (r.exitCode === 11) {
      throw new UserError(`cannot read ${name} in state dir ${this.root}: ${this.path(name)} is not a regular file`, {
        hint: `move ${this.path(name)} aside`,
        code: 'STATE_NOT_A_FILE',
      });
    }
    if (r.truncated) {
      throw new UserError(`cannot read ${name} in state dir ${this.root}: it is larger than ${options.maxBytes ?? DEFAULT_MAX_OUTPUT_BYTES} bytes`, {
        hint: `archive it (move ${this.path(name)} aside) and start a new one`,
        code: 'STATE_DIR',
      });
    }
    return r.exitCode === 10 ? null : r.stdout;
  }

  /** A local file operation with the same error as the scripts' (what, where, the system's reason). */
  private async here<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw this.error(what, (err as Error).message);
    }
  }

  private async readHere(name: string, cap: number): Promise<string | null> {
    const file = this.path(name);
    const r = await this.here(`read ${name}`, () => readHere(file, cap));
    if ('absent' in r) return null;
    if ('notAFile' in r) throw new UserError(`cannot read ${name} in state dir ${this.root}: ${file} is not a regular file`, { hint: `move ${file} aside`, code: 'STATE_NOT_A_FILE' });
    if ('tooLarge' in r) {
      throw new UserError(`cannot read ${name} in state dir ${this.root}: it is larger than ${cap} bytes`, { hint: `archive it (move ${file} aside) and start a new one`, code: 'STATE_DIR' });
    }
    return r.text;
  }

  /**
   * Replace a file atomically: temp file in the same directory, fsync, rename, fsync the directory.
   * Temp files come from `mktemp` (created exclusively, mode 0600): a link planted at a predictable name
   * cannot redirect the write.
   */
  async writeAtomic(name: string, content: string): Promise<void> {
    if (content.includes('\0')) throw new Error('state file content contains a NUL byte');
    if (this.executor.kind === 'local') return this.here(`write ${name}`, () => writeAtomicHere(this.path(name), content));
    await this.run(`write ${name}`, stateCall('write_atomic', this.path(name), content), []);
  }

  /**
   * writeAtomic, only if the file still holds `expected` (null: if it does not exist): false, and
   * nothing written, when it holds something else. A read-modify-write that read the file earlier (in
   * another call's script) then needs one round trip, and a change made meanwhile is not lost.
   */
  async writeIfUnchanged(name: string, expected: string | null, content: string): Promise<boolean> {
    if (content.includes('\0') || expected?.includes('\0')) throw new Error('state file content contains a NUL byte');
    if (this.executor.kind === 'local') {
      if ((await this.read(name)) !== expected) return false;
      await this.writeAtomic(name, content);
      return true;
    }
    const unchanged = expected === null ? '! { [ -e "$1" ] || [ -L "$1" ]; }' : `[ -f "$1" ] && printf '%s' ${shQuote(expected)} | cmp -s - "$1"`;
    const r = await this.run(`write ${name}`, `${unchanged} || exit 12\n${stateCall('write_atomic', this.path(name), content)}`, [this.path(name)], [0, 12]);
    return r.exitCode === 0;
  }

  /** Append one line (no newline inside) with a single write, then fdatasync. */
  appendLine(name: string, line: string): Promise<void> {
    return this.appendLines(name, [line]);
  }

  /**
   * Append lines (no newline inside any) with a single write, then fdatasync: several lines in one
   * round trip, and concurrent appenders cannot interleave within them.
   */
  async appendLines(name: string, lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    for (const line of lines) {
      if (line.includes('\n') || line.includes('\r')) throw new Error('appendLine: a line must not contain a newline');
      if (line.includes('\0')) throw new Error('appendLine: a line must not contain a NUL byte');
    }
    if (this.executor.kind === 'local') return this.here(`append to ${name}`, () => appendLinesHere(this.path(name), lines));
    // printf into a temp file, then one `cat` (a single write(2) for text below its 128 KiB buffer) onto
    // the O_APPEND target, so concurrent appenders cannot interleave within a line.
    const script = `set -e
umask 077
f=$1; d=$(dirname -- "$f"); mkdir -p -- "$d"
tmp=$(mktemp "$d/.tmp.append.${MKTEMP_RANDOM}")
trap 'rm -f -- "$tmp"' EXIT
printf '%s\\n' ${lines.map(shQuote).join(' ')} > "$tmp"
cat -- "$tmp" >> "$f"
fsync_file "$f"`;
    await this.run(`append to ${name}`, script, [this.path(name)]);
  }

  /**
   * Create a file only if it does not exist yet, with its full content from the first instant: a temp
   * file beside it is written and fsynced, then hard-linked to the name (link(2) fails if the name
   * exists: an atomic test-and-set that never shows an empty or half-written file, over SSH too).
   * True if this call created it, false if it already existed.
   */
  async createExclusive(name: string, content: string): Promise<boolean> {
    if (content.includes('\0')) throw new Error('state file content contains a NUL byte');
    if (this.executor.kind === 'local') return this.here(`create ${name}`, () => createExclusiveHere(this.path(name), content));
    const r = await this.run(`create ${name}`, `${stateCall('create_exclusive', this.path(name), content)}\nexit $?`, [], [0, 10]);
    return r.exitCode === 0;
  }

  /**
   * Compare-and-swap a file created with createExclusive: if it still holds exactly `expected`, move it
   * aside (one atomic rename: of two callers, only one can move a given file), check again what was
   * moved, and create `content` in its place exclusively. 'replaced': done; 'missing': there was no
   * file; 'changed': it holds something else (left, or put back, as it was); 'taken': it was removed,
   * but someone else created the name before ours could be.
   */
  async replaceIfUnchanged(name: string, expected: string, content: string): Promise<'replaced' | 'missing' | 'changed' | 'taken'> {
    if (content.includes('\0') || expected.includes('\0')) throw new Error('state file content contains a NUL byte');
    const script = `umask 077
f=$1; d=$(dirname -- "$f"); b=$(basename -- "$f")
old=$(mktemp "$d/.tmp.replaced.$b.${MKTEMP_RANDOM}") || exit 1
tmp=$(mktemp "$d/.tmp.$b.${MKTEMP_RANDOM}") || { rm -f -- "$old"; exit 1; }
trap 'rm -f -- "$old" "$tmp"' EXIT
same() { printf '%s' ${shQuote(expected)} | cmp -s - "$1"; }
[ -f "$f" ] || exit 11
same "$f" || { [ -f "$f" ] || exit 11; exit 12; }
if ! err=$(mv -f -- "$f" "$old" 2>&1); then [ -e "$f" ] || exit 11; same "$f" || exit 12; printf '%s\n' "$err" >&2; exit 1; fi
if ! same "$old"; then ln -- "$old" "$f" 2>/dev/null; exit 12; fi
printf '%s' ${shQuote(content)} > "$tmp" || exit 1
fsync_file "$tmp"
if ln -- "$tmp" "$f" 2>/dev/null; then fsync_dir "$d"; exit 0; fi
exit 13`;
    const r = await this.run(`replace ${name}`, script, [this.path(name)], [0, 11, 12, 13]);
    return ({ 0: 'replaced', 11: 'missing', 12: 'changed', 13: 'taken' } as const)[r.exitCode as 0 | 11 | 12 | 13];
  }

  /**
   * Remove a lock's owner file unless another operation's id is in it (the lock was broken and taken
   * again meanwhile): over SSH one round trip, not a read and a remove. A missing or unreadable file
   * counts as the caller's.
   */
  async removeIfOwner(name: string, operationId: string): Promise<void> {
    if (this.executor.kind !== 'local') {
      await this.run(`remove ${name}`, stateCall('remove_if_owner', this.path(name), operationId), [], [0, 10]);
      return;
    }
    const text = await this.read(name).catch(() => null);
    let owner: unknown;
    try {
      owner = text === null ? undefined : (JSON.parse(text) as { operation_id?: unknown }).operation_id;
    } catch {
      owner = undefined;
    }
    if (owner === undefined || owner === operationId) await this.remove(name);
  }

  async remove(name: string): Promise<void> {
    if (this.executor.kind === 'local') return this.here(`remove ${name}`, () => removeHere(this.path(name)));
    await this.run(`remove ${name}`, stateCall('remove_file', this.path(name)), []);
  }

  /** Names in a subdirectory ('' for the root), sorted; temp files are left out. Missing dir -> []. */
  async list(subdir = ''): Promise<string[]> {
    if (subdir !== '' && !this.subdirs.includes(subdir)) throw new Error(`unknown state subdirectory ${JSON.stringify(subdir)}`);
    const dir = subdir === '' ? this.root : `${this.root}/${subdir}`;
    const script = `[ -d "$1" ] || exit 0
cd -- "$1" || exit 1
for f in * .[!.]*; do
  [ -e "$f" ] || [ -L "$f" ] || continue
  case $f in .tmp.*) continue ;; esac
  printf '%s\\0' "$f"
done`;
    const r = await this.run(`list ${subdir || '.'}`, script, [dir]);
    return r.stdout.split('\0').filter((s) => s.length > 0).sort();
  }

  async stat(name: string): Promise<StateStat | null> {
    const script = `[ -e "$1" ] || { date +%s; exit 10; }
date +%s
stat -c '%Y %s %F' -- "$1" 2>/dev/null || stat -f '%m %z %HT' -- "$1"`;
    const r = await this.run(`stat ${name}`, script, [this.path(name)], [0, 10]);
    if (r.exitCode === 10) return null;
    const [now, info] = r.stdout.split('\n');
    const m = /^(\d+) (\d+) (.*)$/.exec(info ?? '');
    if (!m) throw new Error(`unexpected stat output: ${JSON.stringify(r.stdout)}`);
    return {
      nowMs: Number(now) * 1000,
      mtimeMs: Number(m[1]) * 1000,
      sizeBytes: Number(m[2]),
      isDir: /directory/i.test(m[3] ?? ''),
    };
  }
}
