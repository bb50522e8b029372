/**
 * `rollback-tui stats [--env NAME] [--json]`: the stats JSON, or the rollback statistics dashboard as
 * text (actions/stats.ts, loaded when the command runs).
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';

export interface StatsOptions {
  env?: string;
  json?: boolean;
}

export function registerStats(program: Command, ctx: CliContext): void {
  program
    .command('stats')
    .description('rollback totals, success rate, by trigger and environment, median duration')
    .option('--env <name>', 'one environment')
    .option('--json', 'print the stats as a JSON document on stdout')
    .addHelpText(
      'after',
      examples(
        ['rollback-tui stats', 'all environments'],
        ['rollback-tui stats --env prod --json', '{total, succeeded, failed, success_rate, by_trigger, by_env, median_duration_ms}'],
      ),
    )
    .action(async (opts: StatsOptions) => {
      await (await import('../actions/stats.js')).runStats(ctx, opts);
    });
}
