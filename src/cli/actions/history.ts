/**
 * `rollback-tui history [--env NAME] [--limit N] [--json]`: newest first, a readable table or JSON.
 * Without --env: every environment in the configuration (each one's history read backwards, merged
 * newest first). The file is streamed, never read whole: memory stays flat whatever its size. A fleet:
 * every host's state_dir, each entry shown as ENV/HOST (a fleet rollback has one entry per host, with
 * one operation id).
 */
import { UsageError } from '../../core/errors.js';
import { environmentNames, resolveEnvironment } from '../../core/config/load.js';
import { openEnvironment } from '../../core/environment.js';
import type { ResolvedEnvironment } from '../../core/config/schema.js';
import { formatDuration, HistoryReader, reportInterrupted, type HistoryEntry } from '../../core/engine/index.js';
import { isFleet, openFleet, resolveFleet, type OpenFleet } from '../../core/fleet/index.js';
import { displayName } from '../../core/stores/names.js';
import type { CliContext } from '../context.js';
import type { HistoryOptions } from '../commands/history.js';
import { formatTable } from '../output.js';

function parseLimit(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--limit must be a positive whole number, got ${JSON.stringify(v)}`, '--limit 20');
  return Number(v);
}

/** The environments a history or stats command reads: the one named, or every one in the configuration. */
async function selectedEnvironments(ctx: CliContext, opts: { env?: string }): Promise<ResolvedEnvironment[]> {
  const loaded = await ctx.loadConfig();
  const name = ctx.envName(opts);
  if (name !== undefined) return [(await ctx.resolveEnv(opts)).env]; // 64 for an unknown name
  return environmentNames(loaded).map((n) => resolveEnvironment(loaded, n));
}

/**
 * Run `use` with a history reader for each selected environment (its interrupted-rollback report
 * printed first), then print the readers' warnings. Each environment's handle stays open until `use`
 * is done, since readers read as they are iterated.
 */
export interface HistorySource {
  env: string;
  /** A fleet host's name: its entries are that host's. */
  host?: string;
  reader: HistoryReader;
}

export async function withHistoryReaders<T>(ctx: CliContext, opts: { env?: string }, use: (readers: HistorySource[]) => Promise<T>): Promise<T> {
  const envs = await selectedEnvironments(ctx, opts);
  const handles = envs.filter((env) => !isFleet(env)).map((env) => openEnvironment(env, { closeOnSignal: true }));
  const fleets: OpenFleet[] = [];
  try {
    const readers: HistorySource[] = [];
    for (const handle of handles) {
      await reportInterrupted(handle, (m) => ctx.warn(m));
      readers.push({ env: handle.env.name, reader: new HistoryReader(handle.state, handle.executor, { env: handle.env.name, label: handle.env.name }) });
    }
    for (const env of envs.filter(isFleet)) {
      const open = openFleet(await resolveFleet(env), { closeOnSignal: true });
      fleets.push(open);
      for (const m of open.members) {
        const label = `${env.name}/${m.host.name}`;
        try {
          await reportInterrupted(m.handle, (msg) => ctx.warn(`${m.host.name}: ${msg}`));
          readers.push({ env: env.name, host: m.host.name, reader: new HistoryReader(m.handle.state, m.handle.executor, { env: env.name, label }) });
        } catch (err) {
          // An unreachable host is said; the others are shown.
          ctx.warn(`${label}: the history could not be read: ${(err as Error).message}`);
        }
      }
    }
    const result = await use(readers);
    for (const { reader } of readers) {
      reader.reportCorrupt();
      for (const w of reader.warnings) ctx.warn(w);
    }
    return result;
  } finally {
    await Promise.all([...handles.map((h) => h.close()), ...fleets.map((f) => f.close())]);
  }
}

/** Entries of several environments merged newest first, each read backwards as the merge needs it. */
async function* newestFirst(readers: HistorySource[]): AsyncGenerator<HistoryEntry> {
  const iterators = readers.map(({ reader }) => reader.newestFirst());
  const heads = await Promise.all(iterators.map((it) => it.next()));
  for (;;) {
    let pick = -1;
    heads.forEach((h, i) => {
      if (!h.done && (pick < 0 || h.value.timestamp > (heads[pick]!.value as HistoryEntry).timestamp)) pick = i;
    });
    if (pick < 0) return;
    const e = heads[pick]!.value as HistoryEntry;
    const host = readers[pick]!.host;
    if (host !== undefined) e.host ??= host;
    yield e;
    heads[pick] = await iterators[pick]!.next();
  }
}

/** Entries of one or all environments, newest first, at most `limit`, with read warnings printed. */
function collectHistory(ctx: CliContext, opts: { env?: string; limit?: number }): Promise<HistoryEntry[]> {
  return withHistoryReaders(ctx, opts, async (readers) => {
    const all: HistoryEntry[] = [];
    for await (const e of newestFirst(readers)) {
      if (opts.limit !== undefined && all.length >= opts.limit) break;
      all.push(e);
    }
    return all;
  });
}

/** `history` without --limit: printed as it is read (a JSON array, or table pages), never held whole. */
async function printAllHistory(ctx: CliContext, opts: { env?: string; json?: boolean }): Promise<void> {
  await withHistoryReaders(ctx, opts, async (readers) => {
    let count = 0;
    let page: HistoryEntry[] = [];
    for await (const e of newestFirst(readers)) {
      if (opts.json) ctx.stdout.write(`${count === 0 ? '[\n' : ',\n'}${JSON.stringify(e, null, 2).replace(/^/gm, '  ')}`);
      else {
        page.push(e);
        if (page.length === TABLE_PAGE) {
          ctx.stdout.write(historyTable(page));
          page = [];
        }
      }
      count++;
    }
    if (opts.json) ctx.stdout.write(count === 0 ? '[]\n' : '\n]\n');
    else if (page.length > 0) ctx.stdout.write(historyTable(page));
    else if (count === 0) ctx.out('no rollbacks recorded');
  });
}

/** Rows per table when the whole history is printed (each page has its header and its own widths). */
const TABLE_PAGE = 1000;

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

export async function runHistory(ctx: CliContext, opts: HistoryOptions): Promise<void> {
  const limit = parseLimit(opts.limit);
  if (limit === undefined) return printAllHistory(ctx, opts);
  const entries = await collectHistory(ctx, { ...(opts.env ? { env: opts.env } : {}), limit });
  if (opts.json) ctx.json(entries);
  else if (entries.length === 0) ctx.out('no rollbacks recorded');
  else ctx.stdout.write(historyTable(entries));
}
