/**
 * `rollback-tui rollback --env NAME --reason TEXT [--to BACKUP] [--emergency] [--dry-run] [--yes]
 * [--break-lock] [--json]` (actions/rollback.ts, loaded when the command runs). Exit codes: 0 done (dry
 * run: the plan is valid), 1 failed, 2 rolled back but verification failed, 3 locked, 64 usage.
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';

export interface RollbackOptions {
  env?: string;
  reason?: string;
  to?: string;
  emergency?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  breakLock?: boolean;
  json?: boolean;
  hosts?: string;
}

/** The checks that need nothing but the options; returns the trimmed reason. */
export function checkRollbackOptions(opts: RollbackOptions): string {
  const reason = opts.reason?.trim() ?? '';
  if (!opts.dryRun && reason === '') {
    throw new UsageError('--reason TEXT is required for a rollback (it is recorded in history and the incident report)', 'add --reason "what is wrong", or --dry-run to only preview');
  }
  if (opts.to !== undefined && opts.to === '') throw new UsageError('--to needs a backup name', 'rollback-tui list --env NAME shows them');
  return reason;
}

export function registerRollback(program: Command, ctx: CliContext): void {
  program
    .command('rollback')
    .description('roll an environment back: standard, emergency (--emergency), targeted (--to) or a preview (--dry-run)')
    .option('--env <name>', 'environment (else ROLLBACK_ENV)')
    .option('--reason <text>', 'why (required except with --dry-run; recorded in history)')
    .option('--to <backup>', 'roll back to this backup (from `list`); default: the newest older than live, not marked bad')
    .option('--emergency', 'skip pre-validation, maintenance and verification (says so loudly)')
    .option('--dry-run', 'print the plan and change nothing (exit 0 when it is valid)')
    .option('-y, --yes', 'do not ask for confirmation (needed without a terminal)')
    .option('--break-lock', 'break a stale lock (or one left by a dead process); recorded in history')
    .option('--json', 'print the rollback as a JSON document on stdout (also when it fails)')
    .option('--hosts <names>', 'a fleet: only these hosts (names from executor.hosts, comma-separated); the others are left alone')
    .addHelpText(
      'after',
      examples(
        ['rollback-tui rollback --env prod --dry-run', 'preview: current -> target, each step and its command'],
        ['rollback-tui rollback --env prod --reason "5xx spike after deploy"', 'standard rollback (asks first)'],
        ['rollback-tui rollback --env prod --to backup_20241112_140000 --reason "..." --yes', 'targeted'],
        ['rollback-tui rollback --env prod --emergency --reason "site down" --yes', 'no verification'],
        ['rollback-tui rollback --env web --hosts app-2,app-3 --to backup_20241112_140000 --reason "..." --yes', 'a fleet: two of its hosts'],
      ) +
        '\nExit codes: 0 done, 1 failed, 2 rolled back but verification failed, 3 locked, 64 usage.\n' +
        'A fleet: 0 every host done, 2 every host switched but one or more failed verification, 1 the rollout stopped\n' +
        '(a host unreachable or without the target before any change, or more failed hosts than max_failures), 3 a lock is held on any host.\n',
    )
    .action(async (opts: RollbackOptions) => {
      // Usage problems first, before the configuration is even read.
      checkRollbackOptions(opts);
      await ctx.prepareEnv(opts);
      await (await import('../actions/rollback.js')).runRollbackCommand(ctx, opts);
    });
}
