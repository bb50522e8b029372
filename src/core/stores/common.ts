/** Pieces shared by the three stores: running a store script, errors, parsing NUL-separated output. */
import path from 'node:path';
import { redactSecrets } from '../config/redact.js';
import { UserError } from '../errors.js';
import type { ExecOptions, ExecResult, Executor } from '../exec/types.js';
import type { Backup, Marks, StoreCallOptions, TargetCheck } from './types.js';
import { backupNameProblem, formatBackupStamp, parseBackupTimestamp } from './names.js';

export const LIST_TIMEOUT_MS = 120_000;
export const SWITCH_TIMEOUT_MS = 300_000;
export const LONG_TIMEOUT_MS = 3_600_000;

/** sh functions every store script can use. */
export const SH_PRELUDE = `
fsync_file() { sync -d -- "$1" 2>/dev/null || :; }
fsync_dir() { sync -- "$1" 2>/dev/null || :; }
# Rename a symlink over another path without following it: GNU mv -T, BSD mv -h. Never plain mv.
replace_link() { if mv --version >/dev/null 2>&1; then mv -T -f -- "$1" "$2"; else mv -f -h -- "$1" "$2"; fi; }
`;

export interface ScriptFailure {
  (r: ExecResult): UserError | null;
}

export { MKTEMP_RANDOM } from '../exec/quote.js';

/**
 * Live output as a person sees it: every line through the one `redactSecrets` first (a build that
 * echoes its command line, a validate script that prints a token), whoever displays it.
 */
export function redactedLines(onLine: StoreCallOptions['onLine']): StoreCallOptions['onLine'] {
  return onLine && ((line, stream) => onLine(redactSecrets(line), stream));
}

export async function runStoreScript(
  executor: Executor,
  what: string,
  script: string,
  args: readonly string[],
  options: StoreCallOptions & { timeoutMs?: number; env?: Record<string, string> },
  failures: Record<number, (r: ExecResult) => UserError> = {},
): Promise<ExecResult> {
  const execOptions: ExecOptions = {
    timeoutMs: options.timeoutMs ?? LIST_TIMEOUT_MS,
    signal: options.signal,
    onLine: redactedLines(options.onLine),
    env: options.env,
  };
  const r = await executor.script(SH_PRELUDE + script, args, execOptions);
  const failure = storeScriptFailure(executor, what, r, failures, options.timeoutMs ?? LIST_TIMEOUT_MS);
  if (failure) throw failure;
  return r;
}

/** What a store script's result means: null when it passed, else the error naming what failed and why. */
export function storeScriptFailure(
  executor: Executor,
  what: string,
  r: ExecResult,
  failures: Record<number, (r: ExecResult) => UserError>,
  timeoutMs: number,
): UserError | null {
  if (r.timedOut) {
    return new UserError(`${what} timed out after ${Math.round(timeoutMs / 1000)}s on ${executor.description}`, {
      hint: 'check the host is not overloaded and the disk responds',
      code: 'TIMEOUT',
    });
  }
  if (r.exitCode === 0) return null;
  const mapped = failures[r.exitCode];
  if (mapped) return mapped(r);
  return new UserError(`${what} failed on ${executor.description}: ${lastLine(r.stderr) || `exit ${r.exitCode}`}`, { code: 'STORE_FAILED' });
}

/** A store's target check run on its own (one script, then the validate commands). */
export async function runTargetCheck(executor: Executor, check: TargetCheck, options: StoreCallOptions): Promise<void> {
  const r = await runStoreScript(executor, check.what, check.script, check.args, options, check.failures);
  await check.after(r.stdout);
}

export function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.trim() ?? '';
}

/** Newest first; ties by name, descending. */
export function sortNewestFirst(list: Backup[]): Backup[] {
  return list.sort((a, b) => b.createdMs - a.createdMs || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
}

export function makeBackup(
  name: string,
  fallbackMs: number,
  marks: Marks,
  live: string | null,
  extra: { sizeBytes?: number | null; detail?: string; createdMs?: number; unusable?: string } = {},
): Backup {
  const createdMs = extra.createdMs ?? parseBackupTimestamp(name)?.getTime() ?? fallbackMs;
  const b: Backup = {
    name,
    created: new Date(createdMs).toISOString(),
    createdMs,
    sizeBytes: extra.sizeBytes ?? null,
    current: name === live,
    knownGood: marks.knownGood.includes(name),
    bad: marks.bad.includes(name),
  };
  if (extra.detail !== undefined) b.detail = extra.detail;
  if (extra.unusable !== undefined) b.unusable = extra.unusable;
  if (marks.damaged !== undefined) b.marksDamaged = marks.damaged;
  return b;
}

/** Why a listed entry can never be a switch target (a symlink, an unsafe name), or undefined. */
export function unusableReason(name: string, isLink: boolean): string | undefined {
  if (isLink) return 'a symlink, not a release directory';
  const problem = backupNameProblem(name);
  return problem === null ? undefined : `unsafe name: ${problem}`;
}

/**
 * The backups of a directory listing (symlink and files stores), newest first: directories and symlinks
 * matching the pattern (dot entries and regular files are not backups); symlinks and unsafe names are
 * listed as unusable, with why (also as `detail`, so every view shows it).
 */
export function backupsFromEntries(out: ListOutput, marks: Marks, live: string | null): Backup[] {
  const list = out.entries
    .filter((e) => e.type !== 'f' && !e.name.startsWith('.'))
    .map((e) => {
      const unusable = unusableReason(e.name, e.type === 'l');
      return makeBackup(e.name, e.mtimeMs, marks, live, {
        sizeBytes: out.sizes.get(e.name) ?? null,
        ...(unusable === undefined ? {} : { unusable, detail: `unusable: ${unusable}` }),
      });
    });
  return sortNewestFirst(list);
}

/**
 * The lowest timestamp (`YYYYMMDD_HHMMSS`, UTC) a new snapshot may be named with: one second after the
 * newest usable entry. A snapshot copies what is live now, so it is the newest thing; named from the
 * clock alone it could sort older than releases named in local time (east of UTC) and become the
 * default target, a copy of the release being rolled back from. '' when there is no entry.
 */
export function snapshotStampFloor(list: readonly Backup[]): string {
  const newest = Math.max(-Infinity, ...list.filter((b) => !b.unusable).map((b) => b.createdMs));
  return Number.isFinite(newest) ? formatBackupStamp(new Date(Math.floor(newest / 1000) * 1000 + 1000)) : '';
}

/**
 * Retention after a snapshot: applies `keep` when configured. Refused (nothing deleted) when marks.json is
 * damaged: that is reported through onWarning (the snapshot itself is kept), or thrown without one.
 */
export async function retainAfterSnapshot(
  keep: number | undefined,
  prune: (keep: number, options: StoreCallOptions) => Promise<string[]>,
  options: StoreCallOptions,
): Promise<void> {
  if (keep === undefined) return;
  try {
    await prune(keep, options);
  } catch (err) {
    if (!(err instanceof UserError) || err.code !== 'MARKS_DAMAGED' || !options.onWarning) throw err;
    options.onWarning(`the snapshot was taken, but retention (keep: ${keep}) was not applied: ${err.message}`);
  }
}

/**
 * A configured path on the target host, checked and normalised once (every store's constructor): absolute,
 * no NUL or line breaks (they would split the scripts' output), no trailing slash.
 */
export function targetPath(key: string, value: string): string {
  if (!path.posix.isAbsolute(value) || /[\0\n\r]/.test(value)) {
    throw new UserError(`target.${key} must be an absolute path, got ${JSON.stringify(value)}`, {
      code: 'CONFIG',
      hint: `write target.${key} as an absolute path on the target host, e.g. /opt/app/backups`,
    });
  }
  return path.posix.normalize(value).replace(/(.)\/+$/, '$1');
}

/**
 * Retention over a list as `list()` returns it (newest first): the newest `keep` stay; of the older ones,
 * delete all but the live one, known-good ones, the newest one older than live and the newest older one
 * not marked bad (the default rollback target). Unusable entries are neither counted nor deleted (they are
 * not ours). Refused (MARKS_DAMAGED) when marks.json is damaged: known-good ones could not be protected.
 */
export function retentionVictims(all: readonly Backup[], keep: number): string[] {
  if (!Number.isInteger(keep) || keep < 1) throw new UserError(`keep must be a positive integer, got ${keep}`, { code: 'CONFIG' });
  const damaged = all.find((b) => b.marksDamaged)?.marksDamaged;
  if (damaged) throw new UserError(`retention refused: ${damaged}`, { code: 'MARKS_DAMAGED' });
  const list = all.filter((b) => !b.unusable);
  const liveIndex = list.findIndex((b) => b.current);
  const protectedNames = new Set<string>();
  if (liveIndex >= 0) {
    const older = list.slice(liveIndex + 1);
    protectedNames.add(list[liveIndex]!.name);
    if (older[0]) protectedNames.add(older[0].name);
    const target = older.find((b) => !b.bad);
    if (target) protectedNames.add(target.name);
  }
  for (const b of list) if (b.knownGood) protectedNames.add(b.name);
  return list.slice(keep).filter((b) => !protectedNames.has(b.name)).map((b) => b.name);
}

export function notFound(name: string, where: string, envName: string): UserError {
  return new UserError(`backup ${JSON.stringify(name)} not found in ${where}`, {
    hint: `run \`rollback-tui list --env ${envName}\` to see the backups`,
    code: 'BACKUP_NOT_FOUND',
  });
}

export function isLive(name: string, envName: string): UserError {
  return new UserError(`backup ${JSON.stringify(name)} is already live`, {
    hint: `pick an older one from \`rollback-tui list --env ${envName}\``,
    code: 'TARGET_IS_LIVE',
  });
}

/** Run the target's `validate:` commands with ROLLBACK_TARGET / ROLLBACK_TARGET_PATH; throw on the first failure. */
export async function runValidateCommands(
  executor: Executor,
  commands: readonly string[] | undefined,
  name: string,
  backupPath: string,
  options: StoreCallOptions,
): Promise<void> {
  for (const command of commands ?? []) {
    const r = await executor.shell(command, {
      env: { ROLLBACK_TARGET: name, ROLLBACK_TARGET_PATH: backupPath },
      timeoutMs: SWITCH_TIMEOUT_MS,
      signal: options.signal,
      onLine: redactedLines(options.onLine),
    });
    if (r.exitCode !== 0 || r.timedOut) {
      const why = r.timedOut ? 'timed out' : `exit ${r.exitCode}`;
      const detail = lastLine(r.stderr) || lastLine(r.stdout);
      throw new UserError(`validation of ${JSON.stringify(name)} failed: \`${command}\` (${why})${detail ? `: ${detail}` : ''}`, {
        hint: 'fix the backup or pick another one; --emergency skips validate commands',
        code: 'VALIDATION_FAILED',
      });
    }
  }
}

/** Split NUL-separated output into tokens (a trailing empty token is dropped). */
export function nulTokens(text: string): string[] {
  const t = text.split('\0');
  if (t.at(-1) === '') t.pop();
  return t;
}

/**
 * The listing part of a list script: expects $bd (backups dir), $pat (glob), $sizes (1 for du). Prints
 * B (physical backups dir), E (mtime, type d/f/l of the entry itself, symlinks not followed, name) per
 * entry -- GNU find in one process, else a loop --
 * and with sizes a Z ... z block of du records. One process tree, one round trip, any number of entries.
 */
/**
 * Shell fragment: reserve a snapshot directory `$bd/$n` named `$prefix$stamp` or `..._N` (exit 41 when
 * none is free), where $stamp is the host's UTC clock, or $floor (snapshotStampFloor) when that is later.
 * It starts above the highest suffix taken in this second: after retention pruned "$base", reusing it
 * would make the newest snapshot sort as the oldest of the second.
 */
export const RESERVE_SNAPSHOT_NAME = `stamp=$(date -u +%Y%m%d_%H%M%S)
if [ -n "$floor" ]; then stamp=$(printf '%s\\n%s\\n' "$stamp" "$floor" | LC_ALL=C sort | tail -n 1); fi
base="$prefix$stamp"
n=$base; i=0
for e in "$bd/$base" "$bd/$base"_*; do
  [ -e "$e" ] || continue
  s=\${e#"$bd/$base"}; s=\${s#_}
  case $s in '') s=0 ;; *[!0-9]*) continue ;; esac
  [ "$s" -lt "$i" ] || { i=$((s + 1)); n="\${base}_$i"; }
done
while ! mkdir -- "$bd/$n" 2>/dev/null; do
  i=$((i + 1)); n="\${base}_$i"
  [ "$i" -lt 1000 ] || exit 41
done`;

/** Remove the named backups of `$1` (retention); prints each removed name, NUL-terminated. */
export const PRUNE_SCRIPT = `
bd=$1; shift
for n in "$@"; do rm -rf -- "$bd/$n" || exit 1; printf '%s\\0' "$n"; done
fsync_dir "$bd"
`;

export const DIR_ENTRIES = `
cd -- "$bd" 2>/dev/null || { printf 'N\\0'; exit 0; }
printf 'B\\0%s\\0' "$(pwd -P)"
if find . -maxdepth 0 -printf '' 2>/dev/null; then
  find . -mindepth 1 -maxdepth 1 -name "$pat" -printf 'E\\0%T@\\0%y\\0%f\\0'
else
  IFS=
  for f in $pat; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    if [ -L "$f" ]; then t=l; elif [ -d "$f" ]; then t=d; else t=f; fi
    m=$(stat -c %Y -- "$f" 2>/dev/null || stat -f %m -- "$f")
    printf 'E\\0%s\\0%s\\0%s\\0' "$m" "$t" "$f"
  done
fi
if [ "$sizes" = 1 ]; then
  IFS=
  printf 'Z\\0'
  if du -0 -sk -- /dev/null >/dev/null 2>&1; then
    for f in $pat; do [ -d "$f" ] && [ ! -L "$f" ] && printf '%s\\0' "$f"; done | xargs -0 du -0 -sk -- 2>/dev/null
  else
    for f in $pat; do
      [ -d "$f" ] && [ ! -L "$f" ] || continue
      k=$(du -sk -- "$f" 2>/dev/null | cut -f1)
      printf '%s\\t%s\\0' "$k" "$f"
    done
  fi
  printf 'z\\0'
fi
`;

/** Parsed output of the list script. */
export interface ListOutput {
  linkText: string | null;
  physicalCurrent: string;
  currentIsRealDir: boolean;
  marksText: string | null;
  /** The marks path exists but could not be read (Q). */
  marksProblem: string | null;
  backupsDirMissing: boolean;
  physicalBackupsDir: string;
  /** type: d directory, l symlink (never followed), f anything else. */
  entries: { name: string; mtimeMs: number; type: 'd' | 'l' | 'f' }[];
  sizes: Map<string, number>;
  /** Store-specific single values (tag -> value), e.g. the files store's recorded live name. */
  extra: Map<string, string>;
}

const ARITY: Record<string, number> = { L: 1, P: 1, R: 0, M: 1, Q: 1, N: 0, B: 1, E: 3, Z: 0, X: 2 };

export function parseListOutput(stdout: string): ListOutput {
  const out: ListOutput = {
    linkText: null,
    physicalCurrent: '',
    currentIsRealDir: false,
    marksText: null,
    marksProblem: null,
    backupsDirMissing: false,
    physicalBackupsDir: '',
    entries: [],
    sizes: new Map(),
    extra: new Map(),
  };
  const t = nulTokens(stdout);
  let i = 0;
  while (i < t.length) {
    const tag = t[i] ?? '';
    const n = ARITY[tag];
    if (n === undefined) throw new Error(`unexpected list output near ${JSON.stringify(tag.slice(0, 40))}`);
    const f = t.slice(i + 1, i + 1 + n);
    i += 1 + n;
    switch (tag) {
      case 'L': out.linkText = f[0] ? f[0] : null; break;
      case 'P': out.physicalCurrent = f[0] ?? ''; break;
      case 'R': out.currentIsRealDir = true; break;
      case 'M': out.marksText = f[0] ?? null; break;
      case 'Q': out.marksProblem = f[0] ?? 'unreadable'; break;
      case 'N': out.backupsDirMissing = true; break;
      case 'B': out.physicalBackupsDir = f[0] ?? ''; break;
      case 'E': {
        const type = f[1] === 'd' || f[1] === 'l' ? f[1] : 'f';
        out.entries.push({ mtimeMs: Math.round(Number(f[0]) * 1000), type, name: f[2] ?? '' });
        break;
      }
      case 'X': out.extra.set(f[0] ?? '', f[1] ?? ''); break;
      case 'Z':
        // du records "KB<tab>NAME" until the closing 'z'.
        while (i < t.length && t[i] !== 'z') {
          const rec = t[i] ?? '';
          const tab = rec.indexOf('\t');
          if (tab > 0) out.sizes.set(rec.slice(tab + 1).replace(/^\.\//, ''), Number(rec.slice(0, tab)) * 1024);
          i++;
        }
        i++;
        break;
    }
  }
  return out;
}

