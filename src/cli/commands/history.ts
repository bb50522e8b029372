/**
 * `rollback-tui history [--env NAME] [--limit N] [--json]`: newest first, a readable table or JSON.
 * Without --env: every environment in the configuration (each state_dir read once; entries merged
 * newest first). A fleet: every host's state_dir, each entry shown as ENV/HOST (a fleet rollback has
 * one entry per host, with one operation id).
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { environmentNames, resolveEnvironment } from '../../core/config/load.js';
import { openEnvironment } from '../../core/environment.js';
import {
  formatDuration,
  readHistory,
  reportInterrupted,
  type HistoryEntry,
} from '../../core/engine/index.js';
import { displayName } from '../../core/stores/names.js';
import { isFleet, openFleet, resolveFleet } from '../../core/fleet/index.js';
import type { CliContext } from '../context.js';
import { examples, formatTable } from '../output.js';

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
  const take = (entries: HistoryEntry[], host?: string): void => {
    for (const e of entries) {
      if (host !== undefined) e.host ??= host;
      const key = `${e.id}|${e.env}|${e.timestamp}|${e.host ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      all.push(e);
    }
  };
  const limit = opts.limit !== undefined ? { limit: opts.limit } : {};
  for (const n of names) {
    const env = resolveEnvironment(loaded, n);
    if (isFleet(env)) {
      // A fleet: every host's state_dir, side by side; an unreachable host is said, the others shown.
      const open = openFleet(await resolveFleet(env), { closeOnSignal: true });
      try {
        const read = await open.each(async (m) => {
          await reportInterrupted(m.handle, (msg) => ctx.warn(`${m.host.name}: ${msg}`));
          return readHistory(m.handle, limit);
        });
        for (const { name: host, result } of read) {
          if (result.status === 'rejected') ctx.warn(`${n}: the history of ${host} could not be read: ${(result.reason as Error).message}`);
          else {
            for (const w of result.value.warnings) ctx.warn(`${host}: ${w}`);
            take(result.value.entries, host);
          }
        }
      } finally {
        await open.close();
      }
      continue;
    }
    const handle = openEnvironment(env, { closeOnSignal: true });
    try {
      await reportInterrupted(handle, (m) => ctx.warn(m));
      const { entries, warnings } = await readHistory(handle, limit);
      for (const w of warnings) ctx.warn(w);
      take(entries);
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
    e.host ? `${e.env}/${e.host}` : e.env,
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
    .action(async (opts: { env?: string; limit?: string; json?: boolean }) => {
      const limit = parseLimit(opts.limit);
      const entries = await collectHistory(ctx, { ...(opts.env ? { env: opts.env } : {}), ...(limit !== undefined ? { limit } : {}) });
      if (opts.json) ctx.json(entries);
      else if (entries.length === 0) ctx.out('no rollbacks recorded');
      else ctx.stdout.write(historyTable(entries));
    });

}
