/**
 * What `rollback-tui history` runs (commands/history.ts registers it), and the reading `stats` shares:
 * newest first, a readable table or JSON. Without --env: every environment in the configuration (each
 * state_dir read once; entries merged newest first).
 */
import { UsageError } from '../../core/errors.js';
import { environmentNames, resolveEnvironment } from '../../core/config/load.js';
import {
  formatDuration,
  readHistory,
  reportInterrupted,
  type HistoryEntry,
} from '../../core/engine/index.js';
import { displayName } from '../../core/stores/names.js';
import type { HistoryOptions } from '../commands/history.js';
import type { CliContext } from '../context.js';
import { formatTable } from '../output.js';

function parseLimit(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--limit must be a positive whole number, got ${JSON.stringify(v)}`, '--limit 20');
  return Number(v);
}

/** Entries of one or all environments, newest first, with read warnings printed. */
export async function collectHistory(ctx: CliContext, opts: { env?: string; limit?: number }): Promise<HistoryEntry[]> {
  const loaded = await ctx.loadConfig();
  const name = ctx.envName(opts);
  const names = name !== undefined ? [name] : environmentNames(loaded);
  if (name !== undefined) await ctx.resolveEnv(opts); // 64 for an unknown name
  const seen = new Set<string>();
  const all: HistoryEntry[] = [];
  for (const n of names) {
    const env = resolveEnvironment(loaded, n);
    const handle = await ctx.openEnvironment(env, { closeOnSignal: true });
    try {
      await reportInterrupted(handle, (m) => ctx.warn(m));
      const { entries, warnings } = await readHistory(handle, opts.limit !== undefined ? { limit: opts.limit } : {});
      for (const w of warnings) ctx.warn(w);
      for (const e of entries) {
        const key = `${e.id}|${e.env}|${e.timestamp}`;
        if (seen.has(key)) continue;
        seen.add(key);
        all.push(e);
      }
    } finally {
      await handle.close();
    }
  }
  all.sort((a, b) => (a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : 0));
  return opts.limit !== undefined ? all.slice(0, opts.limit) : all;
}

function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

export function historyTable(entries: HistoryEntry[]): string {
  const rows = entries.map((e) => [
    e.timestamp.slice(0, 19).replace('T', ' '),
    e.env,
    e.kind,
    e.trigger,
    e.from || e.to ? `${e.from ? displayName(e.from) : '-'} -> ${e.to ? displayName(e.to) : '-'}` : '-',
    e.kind === 'lock_broken' || e.kind.startsWith('automation') || e.kind === 'escalation' ? 'note' : e.success ? 'ok' : 'FAILED',
    e.verification,
    formatDuration(e.duration_ms),
    displayName(e.initiated_by),
    clip(displayName(e.reason || e.explanation || ''), 40),
  ]);
  return formatTable(['TIME (UTC)', 'ENV', 'KIND', 'TRIGGER', 'FROM -> TO', 'RESULT', 'VERIFY', 'TOOK', 'BY', 'REASON'], rows);
}

export async function runHistory(ctx: CliContext, opts: HistoryOptions): Promise<void> {
  const limit = parseLimit(opts.limit);
  const entries = await collectHistory(ctx, { ...(opts.env ? { env: opts.env } : {}), ...(limit !== undefined ? { limit } : {}) });
  if (opts.json) ctx.json(entries);
  else if (entries.length === 0) ctx.out('no rollbacks recorded');
  else ctx.stdout.write(historyTable(entries));
}
