/**
 * Git releases: `repo` is a working tree; a backup is a commit recorded as deployed. Records
 * live in `<backups_dir>/deployed` (default backups_dir: `<repo>/.rollback`), one `EPOCH FULLHASH` line
 * per snapshot; a backup's name is the 12-hex-digit abbreviation, its creation time the first record.
 * The switch is `git checkout -f <hash>` followed by the configured `build` commands (output streamed to
 * onLine, secrets redacted). A dirty tree (tracked changes) is refused unless emergency. The git CLI runs through the
 * executor for both local and remote: one code path, exercised by the local tests.
 */
import type { GitTargetConfig } from '../config/schema.js';
import { UserError } from '../errors.js';
import type { Executor } from '../exec/types.js';
import type { MarkStore } from '../state/marks.js';
import { MARKS_LIST_FRAGMENT, parseMarks } from '../state/marks.js';
import {
  isLive,
  lastLine,
  LONG_TIMEOUT_MS,
  makeBackup,
  MKTEMP_RANDOM,
  notFound,
  nulTokens,
  redactedLines,
  retainAfterSnapshot,
  retentionVictims,
  runStoreScript,
  runTargetCheck,
  runValidateCommands,
  SWITCH_TIMEOUT_MS,
  targetPath,
} from './common.js';
import { assertBackupName } from './names.js';
import type { Backup, BackupStore, StoreCallOptions, TargetCheck } from './types.js';

export const GIT_NAME_LENGTH = 12;
const HEX_NAME = /^[0-9a-f]{7,40}$/;

const GIT_ENV = 'export GIT_TERMINAL_PROMPT=0 LC_ALL=C\n';

const LIST_SCRIPT = `${GIT_ENV}
repo=$1 rec=$2 marks=$3
cd -- "$repo" 2>/dev/null || exit 26
git rev-parse --git-dir >/dev/null 2>&1 || exit 27
printf 'H\\0%s\\0' "$(git rev-parse -q --verify HEAD 2>/dev/null)"
${MARKS_LIST_FRAGMENT}
[ -f "$rec" ] || exit 0
awk 'NF == 2 && !($2 in t) { t[$2] = $1; printf "D%c%s%c%s%c", 0, $1, 0, $2, 0 }' "$rec"
awk 'NF == 2 { print $2 }' "$rec" | sort -u | git cat-file --batch-check='%(objectname) %(objecttype)' |
  awk '$2 == "commit" { print $1 }' | git log --no-walk=unsorted --stdin --format='C%x00%H%x00%ct%x00%s%x00'
`;

/** Resolve $name against the records: sets $h or exits 20 (none) / 29 (ambiguous). */
const RESOLVE = `
[ -f "$rec" ] || exit 20
h=$(awk -v p="$name" 'NF == 2 && index($2, p) == 1 { print $2 }' "$rec" | sort -u)
[ -n "$h" ] || exit 20
case $h in *"
"*) exit 29 ;; esac
`;

const CHECK_SCRIPT = `${GIT_ENV}
repo=$1 rec=$2 name=$3 emergency=$4
cd -- "$repo" 2>/dev/null || exit 26
git rev-parse --git-dir >/dev/null 2>&1 || exit 27
${RESOLVE}
git cat-file -e "$h^{commit}" 2>/dev/null || exit 21
[ "$(git rev-parse -q --verify HEAD 2>/dev/null)" = "$h" ] && exit 24
if [ "$emergency" != 1 ] && [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  git status --short --untracked-files=no | head -n 20 >&2
  exit 30
fi
printf '%s' "$h"
`;

const CHECKOUT_SCRIPT = `${CHECK_SCRIPT}
printf '\\n'
git checkout -f -q "$h" 2>&1 || exit 31
[ "$(git rev-parse HEAD)" = "$h" ] || exit 32
echo "checked out $h"
`;

const SNAPSHOT_SCRIPT = `${GIT_ENV}
repo=$1 rec=$2
cd -- "$repo" 2>/dev/null || exit 26
git rev-parse --git-dir >/dev/null 2>&1 || exit 27
h=$(git rev-parse -q --verify HEAD) || exit 40
mkdir -p -- "$(dirname -- "$rec")" || exit 1
t=$(date +%s)
if ! awk -v h="$h" 'NF == 2 && $2 == h { found = 1 } END { exit !found }' "$rec" 2>/dev/null; then
  printf '%s %s\\n' "$t" "$h" >> "$rec" || exit 1
  sync -d -- "$rec" 2>/dev/null || :
fi
printf '%s\\0%s\\0' "$h" "$(awk -v h="$h" 'NF == 2 && $2 == h { print $1; exit }' "$rec")"
git log -1 --format='%s' "$h"
`;

const PRUNE_SCRIPT = `
rec=$1; shift
[ -f "$rec" ] || exit 0
tmp=$(mktemp "$rec.tmp.${MKTEMP_RANDOM}") || exit 1
trap 'rm -f -- "$tmp"' EXIT
awk 'BEGIN { for (i = 1; i < ARGC; i++) drop[ARGV[i]] = 1; ARGC = 1 } NF == 2 && !($2 in drop)' "$@" < "$rec" > "$tmp" || exit 1
fsync_file "$tmp"
mv -f -- "$tmp" "$rec" || exit 1
fsync_dir "$(dirname -- "$rec")"
`;

const CHANGES_SCRIPT = `${GIT_ENV}
repo=$1 a=$2 b=$3
cd -- "$repo" 2>/dev/null || exit 26
git log --format='%h %an: %s' "$a..$b" -- 2>/dev/null | head -n 200
git log --format='%h %an: %s' "$b..$a" -- 2>/dev/null | head -n 200 | sed 's/^/reverted: /'
git diff --stat "$a" "$b" -- 2>/dev/null | tail -n 50
exit 0
`;

export class GitReleaseStore implements BackupStore {
  readonly strategy = 'git' as const;
  private readonly repo: string;
  private readonly records: string;

  constructor(
    private readonly cfg: GitTargetConfig,
    private readonly executor: Executor,
    private readonly marks: MarkStore | null,
    private readonly envName = 'default',
  ) {
    this.repo = targetPath('repo', cfg.repo);
    this.records = `${targetPath('backups_dir', cfg.backups_dir ?? `${this.repo}/.rollback`)}/deployed`;
  }

  /** Where deployed commits are recorded. */
  get recordsFile(): string {
    return this.records;
  }

  private checkName(name: string): void {
    assertBackupName(name);
    if (!HEX_NAME.test(name)) {
      throw new UserError(`invalid git backup name ${JSON.stringify(name)}: expected a commit hash (7-40 hex digits)`, {
        hint: `use a name from \`rollback-tui list --env ${this.envName}\``,
        code: 'INVALID_BACKUP_NAME',
      });
    }
  }

  private failures(name: string): Record<number, (r: { stderr: string }) => UserError> {
    return {
      20: () => notFound(name, `the deployed commits of ${this.repo}`, this.envName),
      21: () => new UserError(`commit ${name} is recorded as deployed but no longer exists in ${this.repo}`, {
        code: 'BACKUP_INVALID', hint: 'fetch it again (git fetch) or pick another backup' }),
      24: () => isLive(name, this.envName),
      26: () => new UserError(`repo ${this.repo} does not exist on ${this.executor.description}`, { code: 'CONFIG', hint: 'check target.repo' }),
      27: () => new UserError(`${this.repo} is not a git working tree`, { code: 'CONFIG', hint: 'check target.repo' }),
      29: () => new UserError(`backup name ${JSON.stringify(name)} matches several deployed commits`, {
        code: 'BACKUP_AMBIGUOUS', hint: 'use more hex digits' }),
      30: (r) => new UserError(`the working tree of ${this.repo} has uncommitted changes: ${lastLine(r.stderr)}`, {
        code: 'DIRTY_TREE',
        hint: 'commit or stash them (git stash), or use --emergency to discard them with git checkout -f',
      }),
      31: (r) => new UserError(`git checkout -f ${name} failed in ${this.repo}: ${lastLine(r.stderr) || 'see output'}`, { code: 'SWITCH_FAILED' }),
      32: () => new UserError(`HEAD is not ${name} after git checkout in ${this.repo}`, { code: 'SWITCH_FAILED' }),
      40: () => new UserError(`${this.repo} has no commit checked out (empty repository)`, { code: 'NOTHING_LIVE' }),
    };
  }

  async list(options: StoreCallOptions & { sizes?: boolean } = {}): Promise<Backup[]> {
    const r = await runStoreScript(this.executor, `listing ${this.repo}`, LIST_SCRIPT,
      [this.repo, this.records, this.marks?.path ?? ''], options, this.failures(''));
    const t = nulTokens(r.stdout);
    let head = '';
    let marksText: string | null = null;
    let marksProblem: string | null = null;
    const recorded = new Map<string, number>();
    const commits = new Map<string, { time: number; subject: string }>();
    for (let i = 0; i < t.length; ) {
      const tag = t[i];
      if (tag === 'H') { head = t[i + 1] ?? ''; i += 2; }
      else if (tag === 'M') { marksText = t[i + 1] ?? null; i += 2; }
      else if (tag === 'Q') { marksProblem = t[i + 1] ?? 'unreadable'; i += 2; }
      else if (tag === 'D') { recorded.set(t[i + 2] ?? '', Number(t[i + 1]) * 1000); i += 3; }
      else if (tag?.endsWith('C')) {
        // git log separates records with a newline: "\nC" after the first one.
        commits.set(t[i + 1] ?? '', { time: Number(t[i + 2]) * 1000, subject: t[i + 3] ?? '' });
        i += 4;
      } else if (tag === '\n' || tag === '') { i++; }
      else throw new Error(`unexpected git list output near ${JSON.stringify(tag?.slice(0, 40))}`);
    }
    const marks = parseMarks(marksText, this.marks?.path, marksProblem);
    this.marks?.saw(marksText, marksProblem);
    const live = head ? head.slice(0, GIT_NAME_LENGTH) : null;
    const list: { b: Backup; order: number }[] = [];
    let order = 0;
    for (const [hash, at] of recorded) {
      const c = commits.get(hash);
      order++;
      if (!c) continue; // recorded but gone from the repository
      list.push({ b: makeBackup(hash.slice(0, GIT_NAME_LENGTH), at, marks, live, { createdMs: at, detail: c.subject }), order });
    }
    // Newest first; records made within the same second keep their file order.
    return list.sort((x, y) => y.b.createdMs - x.b.createdMs || y.order - x.order).map((x) => x.b);
  }

  async live(options: StoreCallOptions = {}): Promise<string | null> {
    const r = await runStoreScript(this.executor, `reading HEAD of ${this.repo}`,
      `${GIT_ENV}cd -- "$1" 2>/dev/null || exit 26\ngit rev-parse -q --verify HEAD || exit 0`, [this.repo], options, this.failures(''));
    const h = r.stdout.trim();
    return h ? h.slice(0, GIT_NAME_LENGTH) : null;
  }

  async targetCheck(name: string, options: StoreCallOptions & { emergency?: boolean } = {}): Promise<TargetCheck> {
    this.checkName(name);
    return {
      what: `checking ${name}`,
      script: CHECK_SCRIPT,
      args: [this.repo, this.records, name, options.emergency ? '1' : '0'],
      failures: this.failures(name),
      // The script prints the commit's full hash: the validate commands' ROLLBACK_TARGET_PATH.
      after: (stdout) => (options.emergency ? Promise.resolve() : runValidateCommands(this.executor, this.cfg.validate, name, stdout.trim(), options)),
    };
  }

  async validateTarget(name: string, options: StoreCallOptions & { emergency?: boolean } = {}): Promise<void> {
    await runTargetCheck(this.executor, await this.targetCheck(name, options), options);
  }

  async switchTo(name: string, options: StoreCallOptions & { emergency?: boolean } = {}): Promise<void> {
    this.checkName(name);
    await runStoreScript(this.executor, `checking out ${name}`, CHECKOUT_SCRIPT,
      [this.repo, this.records, name, options.emergency ? '1' : '0'], { ...options, timeoutMs: SWITCH_TIMEOUT_MS }, this.failures(name));
    for (const command of this.cfg.build ?? []) {
      const r = await this.executor.shell(command, {
        cwd: this.repo,
        timeoutMs: LONG_TIMEOUT_MS,
        signal: options.signal,
        onLine: redactedLines(options.onLine),
      });
      if (r.exitCode !== 0 || r.timedOut) {
        throw new UserError(
          `build step \`${command}\` failed (${r.timedOut ? 'timed out' : `exit ${r.exitCode}`}) after checking out ${name}: ${lastLine(r.stderr) || lastLine(r.stdout)}`,
          { code: 'BUILD_FAILED', hint: `the tree is at ${name} but not built; fix the build or roll back to another commit` },
        );
      }
    }
  }

  async snapshot(options: StoreCallOptions = {}): Promise<Backup> {
    const r = await runStoreScript(this.executor, `recording HEAD of ${this.repo}`, SNAPSHOT_SCRIPT,
      [this.repo, this.records], { signal: options.signal }, this.failures(''));
    const [hash = '', at = '0', subject = ''] = nulTokens(r.stdout);
    const marks = this.marks ? await this.marks.read() : { knownGood: [], bad: [] };
    const name = hash.slice(0, GIT_NAME_LENGTH);
    const b = makeBackup(name, Number(at) * 1000, marks, name, { createdMs: Number(at) * 1000, detail: subject.trim() });
    await retainAfterSnapshot(this.cfg.keep, (keep, o) => this.prune(keep, o), options);
    return b;
  }

  async prune(keep: number, options: StoreCallOptions = {}): Promise<string[]> {
    const quiet = { signal: options.signal };
    const victims = retentionVictims(await this.list(quiet), keep);
    if (victims.length === 0) return [];
    // Records hold full hashes: find them by prefix in one more listing-free step.
    const full = await this.fullHashes(victims, quiet);
    await runStoreScript(this.executor, `pruning ${this.records}`, PRUNE_SCRIPT, [this.records, ...full], quiet);
    if (this.marks) await this.marks.forget(victims);
    return victims;
  }

  private async fullHashes(names: string[], options: StoreCallOptions): Promise<string[]> {
    const r = await runStoreScript(this.executor, 'reading records',
      `[ -f "$1" ] && awk 'NF == 2 { print $2 }' "$1" | sort -u`, [this.records], options);
    const all = r.stdout.split('\n').filter(Boolean);
    return all.filter((h) => names.some((n) => h.startsWith(n)));
  }

  describeSwitch(name: string): string[] {
    return [`git -C ${this.repo} checkout -f ${name}`, ...(this.cfg.build ?? []).map((c) => `(cd ${this.repo} && ${c})`)];
  }

  async changes(from: string, to: string, options: StoreCallOptions = {}): Promise<string[]> {
    this.checkName(from);
    this.checkName(to);
    const r = await runStoreScript(this.executor, `comparing ${from} and ${to}`, CHANGES_SCRIPT, [this.repo, from, to], options, this.failures(from));
    return r.stdout.split('\n').filter((l) => l.length > 0);
  }
}
