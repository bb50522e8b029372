/**
 * One error model for the whole tool. A `UserError` is something the operator can act on (bad input,
 * unreachable host, lock held): it carries a one-line message, a "try" hint and its exit code.
 * Anything else that escapes is a bug and is rendered with a short stack and exit code 1.
 */

/** The exit codes of the command line (docs/CLI.md). */
export const ExitCode = {
  OK: 0,
  FAILED: 1,
  VERIFICATION_FAILED: 2,
  LOCKED: 3,
  USAGE: 64,
  CONFIG: 78,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Every machine-readable error code the tool reports (JSON output, tests, the monitor's decisions).
 * One union, so a misspelt code is a type error instead of a silently unmatched branch.
 */
export type ErrorCode =
  // general
  | 'FAILED'
  | 'USAGE'
  | 'CONFIG'
  | 'UNKNOWN_ENV'
  | 'NO_CONSOLE'
  | 'NOT_CONFIRMED'
  | 'PLAN_CHANGED'
  | 'INTERNAL'
  // running commands, locally or over SSH
  | 'ABORTED'
  | 'SPAWN'
  | 'TIMEOUT'
  | 'TRANSPORT'
  // the lock and the state directory
  | 'LOCK_HELD'
  | 'STATE_DIR'
  | 'STATE_DIR_UNWRITABLE'
  | 'STATE_NOT_A_FILE'
  | 'MARKS_DAMAGED'
  // backups and the live release
  | 'BACKUP_NOT_FOUND'
  | 'BACKUP_AMBIGUOUS'
  | 'BACKUP_INVALID'
  | 'INVALID_BACKUP_NAME'
  | 'NOTHING_LIVE'
  | 'NO_TARGET'
  | 'TARGET_IS_LIVE'
  | 'LIVE_CHANGED'
  | 'CURRENT_NOT_SYMLINK'
  | 'CONFIG_LINK'
  | 'DIRTY_TREE'
  | 'BUILD_FAILED'
  | 'SNAPSHOT_FAILED'
  | 'STORE_FAILED'
  | 'SWITCH_FAILED'
  | 'VALIDATION_FAILED'
  // deploy tools' layouts and init
  | 'DEPLOY_LOCKED'
  | 'SNAPSHOT_UNSUPPORTED'
  | 'CHANGES_ARCHIVED'
  | 'INIT_EXISTS'
  | 'INIT_NO_DIR'
  | 'INIT_NOTHING_FOUND'
  // container releases
  | 'ENGINE_FAILED'
  | 'TARGET_DID_NOT_START'
  // fleets
  | 'DRIFT'
  | 'UNREACHABLE'
  | 'PRECHECK_FAILED'
  | 'UNLOCK_FAILED';

export interface UserErrorOptions {
  /** What the operator should try next, e.g. "run `rollback-tui list --env prod` to see the backups". */
  hint?: string;
  exitCode?: ExitCode;
  cause?: unknown;
  /** Machine-readable code for JSON output and tests, e.g. "LOCK_HELD", "BACKUP_NOT_FOUND". */
  code?: ErrorCode;
}

export class UserError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  readonly code: ErrorCode;

  constructor(message: string, options: UserErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.FAILED;
    this.code = options.code ?? 'FAILED';
  }
}

export class UsageError extends UserError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: ExitCode.USAGE, code: 'USAGE' });
    this.name = 'UsageError';
  }
}

/** A configuration problem: the message already names file:line:col and the key path. */
export class ConfigError extends UserError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super(message, { hint, exitCode: ExitCode.CONFIG, code: 'CONFIG', cause });
    this.name = 'ConfigError';
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

/** Render an error for stderr: users get `error: message` + `try: hint`; bugs get a short stack. */
export function formatError(err: unknown, prog = 'rollback-tui'): string {
  if (isUserError(err)) {
    const lines = [`${prog}: ${err.message}`];
    if (err.hint) lines.push(`  try: ${err.hint}`);
    return lines.join('\n');
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const stack = (e.stack ?? e.message).split('\n').slice(0, 6).join('\n');
  return `${prog}: internal error (this is a bug, please report it):\n${stack}`;
}

export function exitCodeOf(err: unknown): ExitCode {
  return isUserError(err) ? err.exitCode : ExitCode.FAILED;
}
