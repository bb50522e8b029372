import type { UserError } from '../errors.js';
import type { ExecResult } from '../exec/types.js';

/**
 * Backup stores: where releases (or config snapshots, or deployed git commits) live and which one is
 * live. All operations go through an Executor so they run the same locally and over SSH.
 */

/** One entry of `list` (its JSON form uses snake_case; see toListJson in the list command). */
export interface Backup {
  name: string;
  /** ISO 8601 creation time (from a `backup_YYYYMMDD_HHMMSS` name, the commit time, or the mtime). */
  created: string;
  createdMs: number;
  /** Null until computed (sizes are lazy: they can be slow). */
  sizeBytes: number | null;
  current: boolean;
  knownGood: boolean;
  bad: boolean;
  /** Extra context: the git commit subject, the number of files in a files snapshot, why it is unusable. */
  detail?: string;
  /**
   * Set when the entry can never be a rollback target (why: a symlink, not a release directory; an unsafe
   * name). Listed so the operator sees it; skipped by the default target, `verify` and retention.
   */
  unusable?: string;
  /**
   * Set (to the warning naming the file and the fix) when marks.json is damaged: knownGood/bad of this
   * entry are unknown, so no default or automatic rollback may pick a target from this list. Container
   * releases also set it when two releases run at once: which one is live, so which is older, is unknown.
   */
  marksDamaged?: string;
  /**
   * Position in the store's own order (0 = the oldest), from a layout's record or the names; when set it
   * decides what is older (olderFirst), not `createdMs`.
   */
  order?: number;
}

export interface StoreCallOptions {
  signal?: AbortSignal;
  /** Live output of long steps (git checkout + build commands). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Non-fatal problems (snapshot: retention skipped because marks.json is damaged). Without it they throw. */
  onWarning?: (message: string) => void;
}

export interface SwitchOptions {
  emergency?: boolean;
  /** `--break-lock`: also break a deploy tool's own lock (Deployer's .dep/deploy.lock). */
  breakLock?: boolean;
  /**
   * sh lines the switch's script runs first, before it changes anything (the journal naming the step),
   * so that they cost no round trip of their own. Only for a store whose `switchRunsBefore` is true.
   */
  before?: string;
}

/**
 * A store's check of a switch target as one sh fragment with its own positional arguments, so that it can
 * run inside a larger script (the rollback's preflight: lock, journal and this check in one round trip).
 */
export interface TargetCheck {
  /** For messages: "checking backup_20240101_000000". */
  what: string;
  /** The fragment (it may `exit`: it runs in a subshell); the stores' sh prelude is put before it. */
  script: string;
  args: string[];
  /** Errors by the fragment's exit code. */
  failures: Record<number, (r: ExecResult) => UserError>;
  /** Once the fragment passed, with its stdout: the rest of the validation (the configured `validate:` commands). */
  after(stdout: string): Promise<void>;
}

/** A store's live read as one sh fragment (for a combined script: the preflight reads live under the lock). */
export interface LiveRead {
  script: string;
  args: string[];
  /** The live release from the fragment's stdout (null: nothing recognisable is live). */
  parse(stdout: string): string | null;
}

export interface BackupStore {
  readonly strategy: 'symlink' | 'git' | 'files' | 'container';
  /** Newest first, with current/known-good/bad marks. One round trip over SSH. */
  list(options?: StoreCallOptions & { sizes?: boolean }): Promise<Backup[]>;
  /** Name of the live backup, or null when nothing recognisable is live. */
  live(options?: StoreCallOptions): Promise<string | null>;
  /**
   * Check that `name` is a valid switch target: a safe name, exists, right kind, inside backups_dir,
   * not the live one, and the configured `validate:` commands pass. Throws UserError (exit 1) saying why.
   * `emergency` relaxes what emergency rollbacks may skip (git: a dirty tree).
   */
  validateTarget(name: string, options?: StoreCallOptions & SwitchOptions): Promise<void>;
  /** live() as a fragment for a combined script (stores whose live read is one script). */
  liveRead?(): LiveRead;
  /** validateTarget as a fragment for a combined script (stores whose check is one script). */
  targetCheck?(name: string, options?: StoreCallOptions & SwitchOptions): Promise<TargetCheck>;
  /** Make `name` live. Atomic where the strategy allows (symlink: rename over `current`). */
  switchTo(name: string, options?: StoreCallOptions & SwitchOptions): Promise<void>;
  /** switchTo runs `options.before` first, in the switch's own script, before anything changes. */
  readonly switchRunsBefore?: boolean;
  /** Take a backup of what is live now; returns it. */
  snapshot(options?: StoreCallOptions): Promise<Backup>;
  /** Retention: remove the oldest beyond `keep`, never the live, a known-good, or the newest older than live. */
  prune(keep: number, options?: StoreCallOptions): Promise<string[]>;
  /** The commands a switch to `name` will run, shown in the plan preview. */
  describeSwitch(name: string): string[];
  /** What pre-validation of `name` checks, for the preview (default: a generic sentence). */
  describeValidate?(name: string): string[];
  /** What differs between two backups, for the incident report (git log lines, changed files). */
  changes(from: string, to: string, options?: StoreCallOptions): Promise<string[]>;
}

/** known_good / bad marks kept in state_dir. */
export interface Marks {
  knownGood: string[];
  bad: string[];
  /** marks.json exists but cannot be read as marks: the warning naming the file and the fix. */
  damaged?: string;
}
