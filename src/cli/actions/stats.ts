/**
 * What `rollback-tui stats` runs (commands/stats.ts registers it): the stats JSON, or the rollback statistics dashboard as text.
 * Without --env: every environment in the configuration.
 */
import { computeDashboard, computeStats, formatDashboard } from '../../core/engine/index.js';
import type { StatsOptions } from '../commands/stats.js';
import type { CliContext } from '../context.js';
import { collectHistory } from './history.js';

export async function runStats(ctx: CliContext, opts: StatsOptions): Promise<void> {
  const entries = await collectHistory(ctx, opts.env ? { env: opts.env } : {});
  if (opts.json) ctx.json(computeStats(entries));
  else ctx.out(formatDashboard(computeDashboard(entries), ctx.envName(opts) ?? 'all environments'));
}
