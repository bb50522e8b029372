/**
 * `rollback-tui stats [--env NAME] [--json]`: the stats JSON, or the dashboard as text. Without --env:
 * every environment in the configuration. Each history file is streamed line by line, never held.
 */
import type { Command } from 'commander';
import { formatDashboard, StatsAccumulator, statsFieldsOf, type HistoryEntry } from '../../core/engine/index.js';
import { mergeFleetOperations } from '../../core/fleet/index.js';
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
        // A fleet rollback has one entry per host and counts once: its entries are kept (fleet
        // histories are one line per host and operation) and merged per operation id.
        const fleetEntries: HistoryEntry[] = [];
        for (const { env, host, reader } of readers) {
          await reader.forEachLine((line) => {
            if (host !== undefined) {
              const e = parseEntry(line);
              if (!e) reader.countCorrupt();
              else if (e.env === env) fleetEntries.push({ ...e, host: e.host ?? host });
              return;
            }
            const fields = statsFieldsOf(line);
            if (!fields) reader.countCorrupt();
            else if (fields.env === env) acc.add(fields);
          });
        }
        for (const e of mergeFleetOperations(fleetEntries)) acc.add(e);
      });
      if (opts.json) ctx.json(acc.stats());
      else ctx.out(formatDashboard(acc.dashboard(), ctx.envName(opts) ?? 'all environments'));
    });

}

function parseEntry(line: string): HistoryEntry | null {
  try {
    const v = JSON.parse(line) as HistoryEntry | null;
    return typeof v === 'object' && v !== null && typeof v.env === 'string' && typeof v.timestamp === 'string' ? v : null;
  } catch {
    return null;
  }
}
