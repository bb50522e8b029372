/**
 * Versioned configuration files: `files:` lists absolute paths (appsettings.json, docker-compose.yml).
 * A snapshot copies them into `<backups_dir>/backup_YYYYMMDD_HHMMSS/` mirroring their absolute paths
 * (`/etc/app/a.json` -> `<backup>/etc/app/a.json`, so equal basenames cannot collide); names are unique
 * even within one second (`_1`, `_2`, ...). A switch restores each file atomically (copy with mode to a
 * fresh mktemp file beside it, fsync, rename over it); the set of files is restored one file at a time.
 * A file that is a symlink in the backup (or under one) is refused, never followed; the release diff
 * lists changed files and line counts, never their contents (config files hold secrets).
 * The live backup is recorded in `<backups_dir>/.live` and confirmed by comparing the files (`cmp`).
 */
import path from 'node:path';
import type { FilesTargetConfig } from '../config/schema.js';
import { UserError } from '../errors.js';
import type { Executor } from '../exec/types.js';
import type { MarkStore } from '../state/marks.js';
import { MARKS_LIST_FRAGMENT, parseMarks } from '../state/marks.js';
import {
  backupsFromEntries,
  DIR_ENTRIES,
  RESERVE_SNAPSHOT_NAME,
  PRUNE_SCRIPT,
  isLive,
  lastLine,
  LIST_TIMEOUT_MS,
  LONG_TIMEOUT_MS,
  makeBackup,
  MKTEMP_RANDOM,
  notFound,
  nulTokens,
  parseListOutput,
  retainAfterSnapshot,
  retentionVictims,
  runStoreScript,
  runTargetCheck,
  runValidateCommands,
  snapshotStampFloor,
  SWITCH_TIMEOUT_MS,
  targetPath,
} from './common.js';
import { assertBackupName, isSafeBackupName } from './names.js';
import type { Backup, BackupStore, StoreCallOptions, TargetCheck } from './types.js';

/** Prints X live <name> when the recorded live backup still matches every file. */
const LIVE_FRAGMENT = `
live=
if [ -f "$bd/.live" ]; then
  live=$(cat -- "$bd/.live")
  ok=1
  for f in "$@"; do cmp -s -- "$bd/$live$f" "$f" || { ok=0; break; }; done
  [ "$ok" = 1 ] || live=
fi
printf 'X\\0live\\0%s\\0' "$live"
`;

const LIST_SCRIPT = `
bd=$1 marks=$2 sizes=$3 pat='backup_*'; shift 3
${MARKS_LIST_FRAGMENT}
[ -d "$bd" ] && { ${LIVE_FRAGMENT} }
${DIR_ENTRIES}
exit 0
`;

/**
 * `linked DIR FILE`: is any component of DIR/FILE below DIR a symlink? A backup's files must be
 * regular files inside the backup: a link in it could make a restore copy (or a diff read) a file
 * from anywhere on the host.
 */
const LINKED_FRAGMENT = `
linked() {
  p=$1 rest=\${2#/}
  while :; do
    c=\${rest%%/*} p="$p/\${rest%%/*}"
    [ -L "$p" ] && return 0
    [ "$c" = "$rest" ] && return 1
    rest=\${rest#*/}
  done
}
`;

const CHECK_SCRIPT = `
bd=$1 name=$2; shift 2
[ -d "$bd" ] || exit 26
b="$bd/$name"
[ -L "$b" ] && exit 22
[ -d "$b" ] || exit 20
${LINKED_FRAGMENT}
for f in "$@"; do
  linked "$b" "$f" && { printf '%s\\n' "$f" >&2; exit 23; }
  [ -f "$b$f" ] || { printf '%s\\n' "$f" >&2; exit 21; }
  [ -d "$f" ] && { printf '%s\\n' "$f" >&2; exit 28; }
done
${LIVE_FRAGMENT.replace(/printf 'X.*\n/, '')}
[ -n "$live" ] && [ "$live" = "$name" ] && exit 24
:
`;

const RESTORE_SCRIPT = `${CHECK_SCRIPT}
for f in "$@"; do
  d=$(dirname -- "$f")
  mkdir -p -- "$d" || exit 33
  t=$(mktemp "$d/.$(basename -- "$f").rtui.${MKTEMP_RANDOM}") || exit 33
  cp -p -- "$b$f" "$t" || { rm -f -- "$t"; exit 33; }
  fsync_file "$t"
  mv -f -- "$t" "$f" || { rm -f -- "$t"; exit 33; }
  fsync_dir "$d"
  echo "restored $f"
done
lt=$(mktemp "$bd/.live.tmp.${MKTEMP_RANDOM}") && printf '%s' "$name" > "$lt" && mv -f -- "$lt" "$bd/.live"
fsync_dir "$bd"
`;

const SNAPSHOT_SCRIPT = `
bd=$1 floor=$2 prefix=backup_; shift 2
for f in "$@"; do [ -f "$f" ] || { printf '%s\\n' "$f" >&2; exit 43; }; done
mkdir -p -- "$bd" || exit 1
${RESERVE_SNAPSHOT_NAME}
tmp="$bd/.rtui-snap-$$"
rm -rf -- "$tmp"; mkdir -- "$tmp" || exit 42
trap 'rm -rf -- "$tmp"' EXIT
for f in "$@"; do
  mkdir -p -- "$tmp$(dirname -- "$f")" && cp -p -- "$f" "$tmp$f" || { rmdir -- "$bd/$n"; exit 42; }
done
if mv --version >/dev/null 2>&1; then mv -T -- "$tmp" "$bd/$n" || { rmdir -- "$bd/$n"; exit 42; }
else rmdir -- "$bd/$n" && mv -- "$tmp" "$bd/$n" || exit 42; fi
lt=$(mktemp "$bd/.live.tmp.${MKTEMP_RANDOM}") && printf '%s' "$n" > "$lt" && mv -f -- "$lt" "$bd/.live"
fsync_dir "$bd"
printf '%s\\0%s\\0' "$n" "$(date +%s)"
`;

/**
 * What changed between two backups, by file: names and line counts only. The contents of config files
 * hold secrets in every format there is, so they never reach an incident report; and a symlink in a
 * backup is named, never followed.
 */
const CHANGES_SCRIPT = `
bd=$1 a=$2 b=$3; shift 3
[ -d "$bd/$a" ] && [ -d "$bd/$b" ] || exit 20
${LINKED_FRAGMENT}
for f in "$@"; do
  x="$bd/$a$f" y="$bd/$b$f"
  if linked "$bd/$a" "$f" || linked "$bd/$b" "$f"; then printf '%s: a symlink in a backup (not compared)\\n' "$f"
  elif [ ! -f "$x" ] && [ ! -f "$y" ]; then :
  elif [ ! -f "$x" ]; then printf '%s: only in %s (%s lines)\\n' "$f" "$b" "$(wc -l < "$y" | tr -d ' ')"
  elif [ ! -f "$y" ]; then printf '%s: only in %s (%s lines)\\n' "$f" "$a" "$(wc -l < "$x" | tr -d ' ')"
  elif ! cmp -s -- "$x" "$y"; then
    printf '%s: changed (%s lines)\\n' "$f" "$(LC_ALL=C diff -- "$x" "$y" | awk '/^>/ { n++ } /^</ { o++ } END { printf "+%d -%d", n, o }')"
  fi
done
exit 0
`;

export class ConfigFilesStore implements BackupStore {
  readonly strategy = 'files' as const;
  private readonly bd: string;
  private readonly files: string[];

  constructor(
    private readonly cfg: FilesTargetConfig,
    private readonly executor: Executor,
    private readonly marks: MarkStore | null,
    private readonly envName = 'default',
  ) {
    this.bd = targetPath('backups_dir', cfg.backups_dir);
    this.files = cfg.files.map((f) => {
      if (!path.posix.isAbsolute(f) || /[\0\n\r]/.test(f) || f.endsWith('/')) {
        throw new UserError(`target.files entries must be absolute file paths, got ${JSON.stringify(f)}`, {
          hint: 'e.g. /opt/app/appsettings.json',
          code: 'CONFIG',
        });
      }
      return path.posix.normalize(f);
    });
  }

  private failures(name: string): Record<number, (r: { stderr: string }) => UserError> {
    return {
      20: () => notFound(name, this.bd, this.envName),
      21: (r) => new UserError(`backup ${JSON.stringify(name)} does not contain ${lastLine(r.stderr)}`, {
        code: 'BACKUP_INVALID', hint: 'it was taken with a different files: list; pick another backup' }),
      22: () => new UserError(`backup ${JSON.stringify(name)} in ${this.bd} is a symlink, not a backup directory`, { code: 'BACKUP_INVALID' }),
      23: (r) => new UserError(`backup ${JSON.stringify(name)}: ${lastLine(r.stderr)} is a symlink inside the backup (or under one): refusing to restore what it points at`, {
        code: 'BACKUP_INVALID', hint: `a backup's files must be regular files inside it; replace the link in ${this.bd}/${name} with the file, or pick another backup` }),
      24: () => isLive(name, this.envName),
      26: () => new UserError(`backups_dir ${this.bd} does not exist on ${this.executor.description}`, { code: 'BACKUP_NOT_FOUND',
        hint: 'take a snapshot first (rollback-tui snapshot)' }),
      28: (r) => new UserError(`${lastLine(r.stderr)} is a directory: refusing to replace it with a file`, { code: 'SWITCH_FAILED' }),
      33: (r) => new UserError(`restoring the files of ${name} failed: ${lastLine(r.stderr)}`, {
        code: 'SWITCH_FAILED', hint: 'files restored before the failure are already replaced; check permissions and retry' }),
      41: () => new UserError('could not find a free snapshot name', { code: 'SNAPSHOT_FAILED' }),
      42: (r) => new UserError(`copying the files into ${this.bd} failed: ${lastLine(r.stderr)}`, { code: 'SNAPSHOT_FAILED',
        hint: `check free space and permissions in ${this.bd}` }),
      43: (r) => new UserError(`cannot snapshot: ${lastLine(r.stderr)} does not exist`, { code: 'SNAPSHOT_FAILED',
        hint: 'check target.files in the config' }),
    };
  }

  async list(options: StoreCallOptions & { sizes?: boolean } = {}): Promise<Backup[]> {
    const r = await runStoreScript(this.executor, `listing ${this.bd}`, LIST_SCRIPT,
      [this.bd, this.marks?.path ?? '', options.sizes ? '1' : '0', ...this.files],
      { ...options, timeoutMs: options.sizes ? LONG_TIMEOUT_MS : LIST_TIMEOUT_MS });
    const out = parseListOutput(r.stdout);
    const marks = parseMarks(out.marksText, this.marks?.path, out.marksProblem);
    this.marks?.saw(out.marksText, out.marksProblem);
    return backupsFromEntries(out, marks, out.extra.get('live') || null);
  }

  async live(options: StoreCallOptions = {}): Promise<string | null> {
    const r = await runStoreScript(this.executor, `reading ${this.bd}/.live`, `bd=$1; shift\n[ -d "$bd" ] || exit 0\n${LIVE_FRAGMENT}`,
      [this.bd, ...this.files], options);
    return parseListOutput(r.stdout).extra.get('live') || null;
  }

  async targetCheck(name: string, options: StoreCallOptions & { emergency?: boolean } = {}): Promise<TargetCheck> {
    assertBackupName(name);
    return {
      what: `checking ${name}`,
      script: CHECK_SCRIPT,
      args: [this.bd, name, ...this.files],
      failures: this.failures(name),
      after: () => (options.emergency ? Promise.resolve() : runValidateCommands(this.executor, this.cfg.validate, name, `${this.bd}/${name}`, options)),
    };
  }

  async validateTarget(name: string, options: StoreCallOptions & { emergency?: boolean } = {}): Promise<void> {
    await runTargetCheck(this.executor, await this.targetCheck(name, options), options);
  }

  async switchTo(name: string, options: StoreCallOptions & { emergency?: boolean } = {}): Promise<void> {
    assertBackupName(name);
    await runStoreScript(this.executor, `restoring ${name}`, RESTORE_SCRIPT, [this.bd, name, ...this.files],
      { ...options, timeoutMs: SWITCH_TIMEOUT_MS }, this.failures(name));
  }

  /** Copy the files into a new backup (never named older than the newest entry), then apply `keep:`. */
  async snapshot(options: StoreCallOptions = {}): Promise<Backup> {
    const quiet = { signal: options.signal };
    const floor = snapshotStampFloor(await this.list(quiet));
    const r = await runStoreScript(this.executor, `snapshot of ${this.files.length} files`, SNAPSHOT_SCRIPT,
      [this.bd, floor, ...this.files], { ...quiet, timeoutMs: LONG_TIMEOUT_MS }, this.failures(''));
    const [name = '', now = '0'] = nulTokens(r.stdout);
    const marks = this.marks ? await this.marks.read() : { knownGood: [], bad: [] };
    const b = makeBackup(name, Number(now) * 1000, marks, name, { detail: `${this.files.length} files` });
    await retainAfterSnapshot(this.cfg.keep, (keep, o) => this.prune(keep, o), options);
    return b;
  }

  async prune(keep: number, options: StoreCallOptions = {}): Promise<string[]> {
    const quiet = { signal: options.signal };
    const victims = retentionVictims(await this.list(quiet), keep).filter(isSafeBackupName);
    if (victims.length === 0) return [];
    const r = await runStoreScript(this.executor, `pruning ${this.bd}`, PRUNE_SCRIPT, [this.bd, ...victims], quiet);
    const removed = nulTokens(r.stdout);
    if (this.marks && removed.length > 0) await this.marks.forget(removed);
    return removed;
  }

  describeSwitch(name: string): string[] {
    return this.files.map((f) => {
      const tmp = `${path.posix.dirname(f)}/.${path.posix.basename(f)}.rtui.${MKTEMP_RANDOM}`;
      return `cp -p ${this.bd}/${name}${f} <mktemp ${tmp}> && mv <that temp file> ${f}`;
    });
  }

  async changes(from: string, to: string, options: StoreCallOptions = {}): Promise<string[]> {
    assertBackupName(from);
    assertBackupName(to);
    const r = await runStoreScript(this.executor, `comparing ${from} and ${to}`, CHANGES_SCRIPT, [this.bd, from, to, ...this.files], options, this.failures(`${from}" or "${to}`));
    return r.stdout.split('\n').filter((l) => l.length > 0);
  }
}
