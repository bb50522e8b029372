/**
 * What `rollback-tui list` runs (commands/list.ts registers it): backups newest first, with the live one,
 * known-good and bad ones marked. One round trip to the target (sizes only with --sizes: `du` can be slow).
 */
import { reportInterrupted } from '../../core/engine/index.js';
import { isFleet, parseHostsOption, selectHosts } from '../../core/fleet/index.js';
import { formatBytes } from '../../core/format.js';
import { displayName } from '../../core/stores/names.js';
import type { Backup } from '../../core/stores/types.js';
import type { CliContext } from '../context.js';
import { formatTable } from '../output.js';
import { fleetList } from './fleet-view.js';

/**
 * The JSON entry for one backup (docs/CLI.md), plus optional fields present only when they apply:
 * `unusable` (why the entry can never be a rollback target) and `marks_unknown` (marks.json is damaged,
 * so known_good/bad are not known; the warning on stderr names the file and the fix).
 */
export interface ListJsonEntry {
  name: string;
  created: string;
  size_bytes: number | null;
  current: boolean;
  known_good: boolean;
  bad: boolean;
  unusable?: string;
  marks_unknown?: true;
}

export function toListJson(b: Backup): ListJsonEntry {
  const e: ListJsonEntry = { name: b.name, created: b.created, size_bytes: b.sizeBytes, current: b.current, known_good: b.knownGood, bad: b.bad };
  if (b.unusable !== undefined) e.unusable = b.unusable;
  if (b.marksDamaged !== undefined) e.marks_unknown = true;
  return e;
}

/** Warnings about a listing: damaged marks (loud: rollbacks without --to are refused), unusable entries. */
export function listWarnings(backups: readonly Backup[]): string[] {
  const warnings: string[] = [];
  const damaged = backups.find((b) => b.marksDamaged)?.marksDamaged;
  if (damaged) warnings.push(damaged);
  const unusable = backups.filter((b) => b.unusable).length;
  if (unusable) {
    warnings.push(`${unusable} ${unusable === 1 ? 'entry' : 'entries'} in the list can never be a rollback target (marked unusable, the DETAIL says why)`);
  }
  return warnings;
}

export function formatSize(bytes: number | null): string {
  return bytes === null ? '-' : formatBytes(bytes);
}

export function listTable(ctx: CliContext, backups: Backup[]): string {
  const c = ctx.color;
  const rows = backups.map((b) => {
    const marks = [
      b.current ? c.green('current') : '',
      b.knownGood ? c.cyan('known-good') : '',
      b.bad ? c.red('bad') : '',
      b.unusable ? c.yellow('unusable') : '',
      b.marksDamaged ? c.red('marks?') : '',
    ]
      .filter(Boolean)
      .join(' ');
    return [
      b.current ? c.green('●') : ' ',
      b.current ? c.bold(displayName(b.name)) : displayName(b.name),
      b.created.slice(0, 19).replace('T', ' '),
      formatSize(b.sizeBytes),
      marks,
      b.detail ? displayName(b.detail) : '',
    ];
  });
  return formatTable([' ', 'NAME', 'CREATED (UTC)', 'SIZE', 'MARKS', 'DETAIL'], rows);
}

export interface ListOptions {
  env?: string;
  json?: boolean;
  sizes?: boolean;
  hosts?: string;
}

export async function runList(ctx: CliContext, opts: ListOptions): Promise<void> {
  const { env } = await ctx.resolveEnv(opts);
  const hosts = parseHostsOption(opts.hosts);
  if (isFleet(env)) return fleetList(ctx, env, { ...opts, hosts });
  if (hosts) selectHosts(env, hosts);
  const handle = await ctx.openEnvironment(env, { closeOnSignal: true });
  try {
    // Both only read: one round trip's latency, not two (over SSH each is a session on the master).
    const [, backups] = await Promise.all([reportInterrupted(handle, (m) => ctx.warn(m)), handle.store.list({ sizes: opts.sizes === true })]);
    if (opts.json) ctx.json(backups.map(toListJson));
    else if (backups.length === 0) ctx.out(`no backups for ${env.name} (${handle.executor.description})`);
    else {
      ctx.stdout.write(listTable(ctx, backups));
      if (!backups.some((b) => b.current)) ctx.warn(`nothing in the list is live for ${env.name}`);
    }
    // After the table, so they are the last thing on the screen.
    for (const w of listWarnings(backups)) ctx.warn(w);
  } finally {
    await handle.close();
  }
}
