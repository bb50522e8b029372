/**
 * `rollback-tui stats [--env NAME] [--json]`: the stats JSON, or the rollback statistics dashboard as text.
 * Without --env: every environment in the configuration.
 */
import type { Command } from 'commander';
import { computeDashboard, computeStats, formatDashboard } from '../../core/engine/index.js';
import { mergeFleetOperations } from '../../core/fleet/index.js';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';
import { collectHistory } from './history.js';

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
    .action(async (opts: { env?: string; json?: boolean }) => {
      // A fleet rollback counts once, however many hosts it covered.
      const entries = mergeFleetOperations(await collectHistory(ctx, opts.env ? { env: opts.env } : {}));
      if (opts.json) ctx.json(computeStats(entries));
      else ctx.out(formatDashboard(computeDashboard(entries), ctx.envName(opts) ?? 'all environments'));
    });

}
