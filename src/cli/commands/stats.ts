/**
 * `rollback-tui stats [--env NAME] [--json]`: the stats JSON, or the dashboard as text. Without --env:
 * every environment in the configuration. Each history file is streamed line by line, never held.
 */
import type { Command } from 'commander';
import { formatDashboard, StatsAccumulator, statsFieldsOf } from '../../core/engine/index.js';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';
import { withHistoryReaders } from './history.js';

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
      const acc = new StatsAccumulator();
      await withHistoryReaders(ctx, opts, async (readers) => {
        for (const { env, reader } of readers) {
          await reader.forEachLine((line) => {
            const fields = statsFieldsOf(line);
            if (!fields) reader.countCorrupt();
            else if (fields.env === env) acc.add(fields);
          });
        }
      });
      if (opts.json) ctx.json(acc.stats());
      else ctx.out(formatDashboard(acc.dashboard(), ctx.envName(opts) ?? 'all environments'));
    });

}
