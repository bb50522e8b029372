/**
 * Symlink releases: `backups_dir` holds one directory per release, `current` is a symlink to the live one
 * (or a deploy tool's layout under `deploy_to`, see layouts.ts). Every operation is one POSIX sh script on
 * stdin (same code locally and over SSH); names travel as positional arguments and are validated before
 * anything runs. Releases are ordered by order.ts (a layout's record or the names), not by mtime alone.
 *
 * Switch: optional config_link first (so the release is complete before it goes live), then a symlink
 * with a unique temporary name beside `current`, renamed over it (GNU `mv -T`, BSD `mv -h`: a rename(2),
 * never rm + ln), fsync of the directory, and the link read back.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { SymlinkTargetConfig } from '../config/schema.js';
import { UserError, type ErrorCode } from '../errors.js';
import type { ExecResult, Executor } from '../exec/types.js';
import type { MarkStore } from '../state/marks.js';
import { MARKS_LIST_FRAGMENT, parseMarks } from '../state/marks.js';
import {
  backupsFromEntries,
  DIR_ENTRIES,
  RESERVE_SNAPSHOT_NAME,
  PRUNE_SCRIPT,
  parseListOutput as parseList,
  isLive,
  LIST_TIMEOUT_MS,
  LONG_TIMEOUT_MS,
  MKTEMP_RANDOM,
  makeBackup,
  notFound,
  nulTokens,
  retainAfterSnapshot,
  retentionVictims,
  runStoreScript,
  runTargetCheck,
  runValidateCommands,
  snapshotStampFloor,
  SWITCH_TIMEOUT_MS,
  targetPath,
} from './common.js';
import {
  applyLayout,
  ARCHIVE_CHECK,
  deployLockHeld,
  LAYOUT_AFTER_SWITCH,
  LAYOUT_BEFORE_SWITCH,
  LAYOUT_LIST_FRAGMENT,
  layoutUser,
  RESTORE_SCRIPT,
} from './layouts.js';
import { assertBackupName, isSafeBackupName } from './names.js';
import { applyOrder, olderFirst } from './order.js';
import type { Backup, BackupStore, LiveRead, StoreCallOptions, SwitchOptions, TargetCheck } from './types.js';

const LIST_SCRIPT = `
bd=$1 cur=$2 pat=$3 marks=$4 sizes=$5 layout=$6 dt=$7
printf 'L\\0'; if [ -L "$cur" ]; then printf '%s' "$(readlink -- "$cur")"; fi; printf '\\0'
p=; if [ -e "$cur" ]; then p=$(cd -P -- "$cur" 2>/dev/null && pwd -P) || p=; fi
printf 'P\\0%s\\0' "$p"
if [ -d "$cur" ] && [ ! -L "$cur" ]; then printf 'R\\0'; fi
${MARKS_LIST_FRAGMENT}
${LAYOUT_LIST_FRAGMENT}
${DIR_ENTRIES}
exit 0
`;

/** Shared checks of a switch target; exit codes are mapped to messages in TS. */
const CHECK_TARGET = `
bd=$1 cur=$2 name=$3 cfgsrc=$4 cfgname=$5
[ -d "$bd" ] || exit 26
tgt="$bd/$name"
[ -L "$tgt" ] && exit 22
[ -e "$tgt" ] || exit 20
[ -d "$tgt" ] || exit 21
bdp=$(cd -P -- "$bd" && pwd -P) || exit 26
tp=$(cd -P -- "$tgt" && pwd -P) || exit 21
[ "$(dirname -- "$tp")" = "$bdp" ] || exit 23
if [ -d "$cur" ] && [ ! -L "$cur" ]; then exit 25; fi
if [ -e "$cur" ] && [ ! -L "$cur" ]; then exit 29; fi
if [ -e "$cur" ]; then
  cp_=$(cd -P -- "$cur" 2>/dev/null && pwd -P) || cp_=
  [ "$cp_" = "$tp" ] && exit 24
fi
if [ -n "$cfgsrc" ]; then
  [ -e "$cfgsrc" ] || exit 27
  if [ -d "$tgt/$cfgname" ] && [ ! -L "$tgt/$cfgname" ]; then exit 28; fi
fi
`;

/** Deployer's lock, checked before anything (exit 37 wins, as exit 3): args 6.. as in SWITCH_SCRIPT. */
const DEPLOY_LOCK_CHECK = `
layout=$6 dt=$7 breaklock=$9
if [ "$layout" = deployer ] && [ "$breaklock" != 1 ] && [ -f "$dt/.dep/deploy.lock" ]; then head -c 200 -- "$dt/.dep/deploy.lock" >&2; exit 37; fi
`;

/** Args after CHECK_TARGET's five: layout deploy_to user breaklock fled archive relative-link-text. */
const SWITCH_SCRIPT = `${DEPLOY_LOCK_CHECK}${CHECK_TARGET}
layout=$6 dt=$7 user=$8 breaklock=$9 fled=\${10} archive=\${11} rel=\${12}
${LAYOUT_BEFORE_SWITCH}
if [ -n "$cfgsrc" ]; then
  l="$tgt/$cfgname"; lt="$tgt/.$cfgname.rtui-$$"
  rm -f -- "$lt"
  ln -s -- "$cfgsrc" "$lt" || exit 31
  replace_link "$lt" "$l" || { rm -f -- "$lt"; exit 31; }
  fsync_dir "$tgt"
  [ "$(readlink -- "$l")" = "$cfgsrc" ] || exit 32
  echo "linked $l -> $cfgsrc"
fi
d=$(dirname -- "$cur"); b=$(basename -- "$cur")
tmp="$d/.$b.rtui-$$-$(date +%s)"
rm -f -- "$tmp"
lt=$tgt
if [ "$layout" = deployer ] && [ -L "$cur" ]; then case $(readlink -- "$cur") in /*) ;; *) lt=$rel ;; esac; fi
ln -s -- "$lt" "$tmp" || exit 33
replace_link "$tmp" "$cur" || { rm -f -- "$tmp"; exit 33; }
fsync_dir "$d"
[ "$(readlink -- "$cur")" = "$lt" ] || exit 34
echo "switched $cur -> $lt"
${LAYOUT_AFTER_SWITCH}
`;

const LIVE_SCRIPT = `
bd=$1 cur=$2
if [ -d "$cur" ] && [ ! -L "$cur" ]; then printf 'R\\0'; fi
p=; if [ -e "$cur" ]; then p=$(cd -P -- "$cur" 2>/dev/null && pwd -P) || p=; fi
printf 'P\\0%s\\0' "$p"
b=$(cd -P -- "$bd" 2>/dev/null && pwd -P) || b=
printf 'B\\0%s\\0' "$b"
`;

const SNAPSHOT_SCRIPT = `
bd=$1 cur=$2 prefix=$3 floor=$4
[ -e "$cur" ] || exit 40
src=$(cd -P -- "$cur" && pwd -P) || exit 40
mkdir -p -- "$bd" || exit 1
${RESERVE_SNAPSHOT_NAME}
tmp=$(mktemp -d "$bd/.rtui-snap-${MKTEMP_RANDOM}") || { rmdir -- "$bd/$n"; exit 42; }
trap 'rm -rf -- "$tmp"' EXIT
if ! { cp -a -- "$src/." "$tmp" 2>/dev/null || cp -pR -- "$src/." "$tmp"; }; then rmdir -- "$bd/$n"; exit 42; fi
if mv --version >/dev/null 2>&1; then mv -T -- "$tmp" "$bd/$n" || { rmdir -- "$bd/$n"; exit 42; }
else rmdir -- "$bd/$n" && mv -- "$tmp" "$bd/$n" || exit 42; fi
fsync_dir "$bd"
printf '%s\\0%s\\0' "$n" "$(date +%s)"
`;

const CHANGES_SCRIPT = `
bd=$1 from=$2 to=$3
[ -d "$bd/$from" ] || exit 20
[ -d "$bd/$to" ] || exit 20
# Links inside a release are compared as links (their targets as text), never followed.
nd=; diff --no-dereference /dev/null /dev/null >/dev/null 2>&1 && nd=--no-dereference
LC_ALL=C diff -rq $nd -- "$bd/$from" "$bd/$to" 2>&1 | head -n 500
exit 0
`;

function liveName(physicalCurrent: string, physicalBackupsDir: string): string | null {
  if (!physicalCurrent || !physicalBackupsDir) return null;
  return path.posix.dirname(physicalCurrent) === physicalBackupsDir ? path.posix.basename(physicalCurrent) : null;
}

/** `cd -P -- dir && pwd -P` in-process: the physical path of a directory on this machine, or ''. */
async function physicalDirHere(p: string): Promise<string> {
  try {
    const real = await fsp.realpath(p);
    return (await fsp.stat(real)).isDirectory() ? real : '';
  } catch {
    return '';
  }
}

export class SymlinkReleaseStore implements BackupStore {
  readonly strategy = 'symlink' as const;
  private readonly bd: string;
  private readonly cur: string;
  /** The deploy tool's deploy_to with a layout, else ''. */
  private readonly dt: string;

  constructor(
    private readonly cfg: SymlinkTargetConfig,
    private readonly executor: Executor,
    private readonly marks: MarkStore | null,
    private readonly envName = 'default',
  ) {
    this.dt = cfg.layout ? targetPath('deploy_to', cfg.deploy_to ?? '') : '';
    this.bd = this.dt ? `${this.dt}/releases` : targetPath('backups_dir', cfg.backups_dir ?? '');
    this.cur = this.dt ? `${this.dt}/current` : targetPath('current', cfg.current ?? '');
  }

  /** Every directory in releases/ is a release of a deploy tool's layout. */
  private get pattern(): string {
    return this.cfg.layout ? '*' : (this.cfg.pattern ?? 'backup_*');
  }

  private marksPath(): string {
    return this.marks ? this.marks.path : '';
  }

  async list(options: StoreCallOptions & { sizes?: boolean } = {}): Promise<Backup[]> {
    const r = await runStoreScript(
      this.executor,
      `listing ${this.bd}`,
      LIST_SCRIPT,
      [this.bd, this.cur, this.pattern, this.marksPath(), options.sizes ? '1' : '0', this.cfg.layout ?? '', this.dt],
      { ...options, timeoutMs: options.sizes ? LONG_TIMEOUT_MS : LIST_TIMEOUT_MS },
    );
    const out = parseList(r.stdout);
    const marks = parseMarks(out.marksText, this.marksPath(), out.marksProblem);
    this.marks?.saw(out.marksText, out.marksProblem);
    const backups = backupsFromEntries(out, marks, liveName(out.physicalCurrent, out.physicalBackupsDir));
    if (!this.cfg.layout) return applyOrder(backups);
    const l = applyLayout(this.cfg.layout, backups, out.extra, marks, this.dt);
    return applyOrder(l.backups, l.recorded);
  }

  liveRead(): LiveRead {
    return {
      script: LIVE_SCRIPT,
      args: [this.bd, this.cur],
      parse: (stdout) => {
        const out = parseList(stdout);
        return liveName(out.physicalCurrent, out.physicalBackupsDir);
      },
    };
  }

  async live(options: StoreCallOptions = {}): Promise<string | null> {
    // The monitor asks on every sample: on this machine the two physical paths are read in-process, not
    // by a shell a second (most of an idle console's processes).
    if (this.executor.kind === 'local') {
      const [cur, bd] = await Promise.all([physicalDirHere(this.cur), physicalDirHere(this.bd)]);
      return liveName(cur, bd);
    }
    const read = this.liveRead();
    const r = await runStoreScript(this.executor, `reading ${this.cur}`, read.script, read.args, options);
    return read.parse(r.stdout);
  }

  private checkArgs(name: string, o: SwitchOptions & { fled?: string; archive?: boolean } = {}): string[] {
    const cl = this.cfg.config_link;
    const rel = path.posix.relative(path.posix.dirname(this.cur), `${this.bd}/${name}`);
    return [
      this.bd, this.cur, name, cl?.source ?? '', cl?.name ?? 'config.json',
      this.cfg.layout ?? '', this.dt, layoutUser(), o.breakLock ? '1' : '0', o.fled ?? '', o.archive ? '1' : '0', rel,
    ];
  }

  private failures(name: string): Record<number, (r: ExecResult) => UserError> {
    const cl = this.cfg.config_link;
    const e = (msg: string, code: ErrorCode, hint?: string) => () => new UserError(msg, { code, hint });
    return {
      20: () => notFound(name, this.bd, this.envName),
      21: e(`backup ${JSON.stringify(name)} in ${this.bd} is not a directory`, 'BACKUP_INVALID'),
      22: e(`backup ${JSON.stringify(name)} in ${this.bd} is a symlink, not a release directory`, 'BACKUP_INVALID',
        'a backup must be a real directory inside backups_dir'),
      23: e(`backup ${JSON.stringify(name)} resolves outside ${this.bd}`, 'BACKUP_INVALID'),
      24: () => isLive(name, this.envName),
      25: e(`${this.cur} is a real directory, not a symlink: refusing to replace it`, 'CURRENT_NOT_SYMLINK',
        `move it into ${this.bd} as a release and make ${this.cur} a symlink to it (ln -sn)`),
      26: e(`backups_dir ${this.bd} does not exist on ${this.executor.description}`, 'BACKUP_NOT_FOUND',
        'check target.backups_dir in the config'),
      27: e(`config_link source ${cl?.source ?? ''} does not exist on ${this.executor.description}`, 'CONFIG_LINK',
        'check target.config_link.source in the config'),
      28: e(`${this.bd}/${name}/${cl?.name ?? ''} is a real directory: refusing to replace it with the config link`, 'CONFIG_LINK'),
      29: e(`${this.cur} is a regular file, not a symlink: refusing to replace it`, 'CURRENT_NOT_SYMLINK'),
      31: e(`could not create the config link in ${this.bd}/${name}`, 'SWITCH_FAILED', 'check permissions on the release directory'),
      32: e(`the config link in ${this.bd}/${name} does not point at ${cl?.source ?? ''} after the switch`, 'SWITCH_FAILED'),
      33: e(`could not replace ${this.cur} (rename failed); it still points where it did`, 'SWITCH_FAILED',
        `check permissions on ${path.posix.dirname(this.cur)}`),
      34: e(`${this.cur} does not point at ${this.bd}/${name} after the switch (changed concurrently?)`, 'SWITCH_FAILED',
        `inspect it with \`readlink ${this.cur}\``),
      35: e(`could not restore ${name} from ${this.dt}/rolled-back-release-${name}.tar.gz`, 'BACKUP_INVALID',
        `check the archive with \`tar -tzf ${this.dt}/rolled-back-release-${name}.tar.gz\` and free space in ${this.bd}`),
      36: e(`${this.dt}/rolled-back-release-${name}.tar.gz holds no releases/${name} directory`, 'BACKUP_INVALID'),
      37: (r) => deployLockHeld(this.dt, r.stderr),
    };
  }

  /** Capistrano: `name` exists only as a rolled-back-release archive (--to restores it). */
  private async archivedOnly(name: string, options: StoreCallOptions): Promise<boolean> {
    if (this.cfg.layout !== 'capistrano') return false;
    const list = await this.list({ signal: options.signal });
    return list.some((b) => b.name === name && b.detail?.startsWith('archived') === true);
  }

  async targetCheck(name: string, options: StoreCallOptions & SwitchOptions = {}): Promise<TargetCheck> {
    assertBackupName(name);
    const base = { args: this.checkArgs(name, options), failures: this.failures(name) };
    if (await this.archivedOnly(name, options)) {
      // Restored by the switch; until then only the archive can be checked.
      return { ...base, what: `checking the archive of ${name}`, script: `${DEPLOY_LOCK_CHECK}\nname=$3\n${ARCHIVE_CHECK}`, after: async () => {} };
    }
    return {
      ...base,
      what: `checking ${name}`,
      script: `${DEPLOY_LOCK_CHECK}${CHECK_TARGET}\nexit 0`,
      after: () => (options.emergency ? Promise.resolve() : runValidateCommands(this.executor, this.cfg.validate, name, `${this.bd}/${name}`, options)),
    };
  }

  async validateTarget(name: string, options: StoreCallOptions & SwitchOptions = {}): Promise<void> {
    await runTargetCheck(this.executor, await this.targetCheck(name, options), options);
  }

  /** A deploy tool's layout may restore an archived release before its switch: the journal goes first, on its own. */
  get switchRunsBefore(): boolean {
    return !this.cfg.layout;
  }

  async switchTo(name: string, options: StoreCallOptions & SwitchOptions = {}): Promise<void> {
    assertBackupName(name);
    let fled: string | undefined;
    let archive = false;
    if (this.cfg.layout) {
      const list = await this.list({ signal: options.signal });
      const live = list.find((b) => b.current);
      const target = list.find((b) => b.name === name);
      fled = live?.name;
      // Capistrano archives the release a rollback leaves; a switch forward leaves it in place.
      archive = this.cfg.layout === 'capistrano' && !!live && !!target && olderFirst(target, live) < 0;
      if (target?.detail?.startsWith('archived') && this.cfg.layout === 'capistrano') {
        await runStoreScript(this.executor, `restoring ${name}`, RESTORE_SCRIPT, [this.dt, this.bd, name],
          { ...options, timeoutMs: LONG_TIMEOUT_MS }, this.failures(name));
      }
    }
    await runStoreScript(
      this.executor,
      `switching ${this.cur} to ${name}`,
      this.switchRunsBefore && options.before ? `${options.before}\n${SWITCH_SCRIPT}` : SWITCH_SCRIPT,
      this.checkArgs(name, { ...options, ...(fled ? { fled } : {}), archive }),
      { ...options, timeoutMs: SWITCH_TIMEOUT_MS },
      this.failures(name),
    );
  }

  /** The name prefix of new snapshots: the pattern without its trailing `*` (default `backup_`). */
  private snapshotPrefix(): string {
    const m = /^([A-Za-z0-9._-]*)\*$/.exec(this.pattern);
    if (!m) {
      throw new UserError(`cannot name a snapshot for pattern ${JSON.stringify(this.pattern)}`, {
        hint: 'snapshots need target.pattern of the form PREFIX* (e.g. backup_*)',
        code: 'CONFIG',
      });
    }
    return m[1] ?? '';
  }

  /**
   * Copy the live release into a new backup, named after the clock but never older than the newest entry
   * (snapshotStampFloor), then apply `keep:`. The scripts' machine output is never streamed to onLine.
   */
  async snapshot(options: StoreCallOptions = {}): Promise<Backup> {
    if (this.cfg.layout) {
      throw new UserError(`snapshots are not taken on a ${this.cfg.layout} layout: ${this.cfg.layout} makes the releases in ${this.bd}`, {
        code: 'SNAPSHOT_UNSUPPORTED',
        hint: this.cfg.layout === 'capistrano' ? 'deploy with `cap <stage> deploy`' : 'deploy with `dep deploy`',
      });
    }
    const prefix = this.snapshotPrefix();
    const quiet = { signal: options.signal };
    const floor = snapshotStampFloor(await this.list(quiet));
    const r = await runStoreScript(
      this.executor,
      `snapshot of ${this.cur}`,
      SNAPSHOT_SCRIPT,
      [this.bd, this.cur, prefix, floor],
      { ...quiet, timeoutMs: LONG_TIMEOUT_MS },
      {
        40: () => new UserError(`nothing is live: ${this.cur} does not exist`, { code: 'NOTHING_LIVE', hint: 'deploy a release first' }),
        41: () => new UserError('could not find a free snapshot name', { code: 'SNAPSHOT_FAILED' }),
        42: (res) => new UserError(`copying ${this.cur} into ${this.bd} failed: ${res.stderr.trim().split('\n').at(-1) ?? ''}`, {
          code: 'SNAPSHOT_FAILED',
          hint: `check free space and permissions in ${this.bd}`,
        }),
      },
    );
    const [name = '', now = '0'] = nulTokens(r.stdout);
    const marks = this.marks ? await this.marks.read() : { knownGood: [], bad: [] };
    const backup = makeBackup(name, Number(now) * 1000, marks, null);
    await retainAfterSnapshot(this.cfg.keep, (keep, o) => this.prune(keep, o), options);
    return backup;
  }

  async prune(keep: number, options: StoreCallOptions = {}): Promise<string[]> {
    const quiet = { signal: options.signal };
    const victims = retentionVictims(await this.list(quiet), keep).filter(isSafeBackupName);
    if (victims.length === 0) return [];
    const r = await runStoreScript(this.executor, `pruning ${this.bd}`, PRUNE_SCRIPT, [this.bd, ...victims], { ...quiet, timeoutMs: LONG_TIMEOUT_MS });
    const removed = nulTokens(r.stdout);
    if (this.marks && removed.length > 0) await this.marks.forget(removed);
    return removed;
  }

  describeSwitch(name: string): string[] {
    const steps: string[] = [];
    const target = `${this.bd}/${name}`;
    const cl = this.cfg.config_link;
    if (cl) steps.push(`ln -s ${cl.source} ${target}/.${cl.name}.tmp && mv -T ${target}/.${cl.name}.tmp ${target}/${cl.name}`);
    const dir = path.posix.dirname(this.cur);
    const tmp = `${dir}/.${path.posix.basename(this.cur)}.tmp`;
    steps.push(`ln -s ${target} ${tmp}`, `mv -T ${tmp} ${this.cur}   (atomic rename)`, `sync ${dir}; readlink ${this.cur}`);
    if (this.cfg.layout === 'capistrano') {
      steps.push(
        `tar -czf ${this.dt}/rolled-back-release-<live>.tar.gz ${this.bd}/<live> && rm -rf ${this.bd}/<live>   (as cap deploy:rollback)`,
        `echo "${layoutUser()} rolled back to release ${name}" >> ${this.dt}/revisions.log`,
      );
    } else if (this.cfg.layout === 'deployer') {
      steps.unshift(`hold ${this.dt}/.dep/deploy.lock during the switch`);
      steps.push(`echo "<time>,${layoutUser()}" > ${this.bd}/<live>/BAD_RELEASE   (as dep rollback)`);
    }
    return steps;
  }

  async changes(from: string, to: string, options: StoreCallOptions = {}): Promise<string[]> {
    assertBackupName(from);
    assertBackupName(to);
    const missing = new UserError('', { code: 'CHANGES_ARCHIVED' });
    const r = await runStoreScript(this.executor, `comparing ${from} and ${to}`, CHANGES_SCRIPT, [this.bd, from, to], options, {
      20: () => (this.cfg.layout === 'capistrano' ? missing : notFound(`${from}" or "${to}`, this.bd, this.envName)),
    }).catch(async (err: unknown) => {
      if (err !== missing) throw err;
      // Capistrano: the release rolled back away from is archived by now; say what each one deployed.
      const list = await this.list({ signal: options.signal });
      const what = (n: string) => list.find((b) => b.name === n)?.detail ?? 'not found';
      return { stdout: `${from}: ${what(from)}\n${to}: ${what(to)}\n` };
    });
    return r.stdout.split('\n').filter((l) => l.length > 0).map((l) => l.split(`${this.bd}/`).join(''));
  }
}
