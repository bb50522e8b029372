/**
 * `rollback-tui stats [--env NAME] [--json]`: the stats JSON, or the dashboard as text. Without --env:
 * every environment in the configuration. Each history file is streamed line by line, never held.
 */
import { formatDashboard, StatsAccumulator, statsFieldsOf, type HistoryEntry } from '../../core/engine/index.js';
import { mergeFleetOperations } from '../../core/fleet/index.js';
import type { CliContext } from '../context.js';
import type { StatsOptions } from '../commands/stats.js';
import { withHistoryReaders } from './history.js';

export async function runStats(ctx: CliContext, opts: StatsOptions): Promise<void> {
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
}

function parseEntry(line: string): HistoryEntry | null {
  try {
    const v = JSON.parse(line) as HistoryEntry | null;
    return typeof v === 'object' && v !== null && typeof v.env === 'string' && typeof v.timestamp === 'string' ? v : null;
  } catch {
    return null;
  }
}
