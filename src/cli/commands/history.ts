/**
 * `rollback-tui history [--env NAME] [--limit N] [--json]`: newest first, a readable table or JSON
 * (actions/history.ts, loaded when the command runs).
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';

export interface HistoryOptions {
  env?: string;
  limit?: string;
  json?: boolean;
}

export function registerHistory(program: Command, ctx: CliContext): void {
  program
    .command('history')
    .description('rollbacks and lock breaks, newest first (all environments without --env)')
    .option('--env <name>', 'one environment')
    .option('--limit <n>', 'at most N entries')
    .option('--json', 'print the entries as a JSON array on stdout')
    .addHelpText(
      'after',
      examples(
        ['rollback-tui history --env prod --limit 20', 'the last 20 entries of prod'],
        ['rollback-tui history --json', 'every environment, for scripts'],
      ),
    )
    .action(async (opts: HistoryOptions) => {
      await (await import('../actions/history.js')).runHistory(ctx, opts);
    });
}
