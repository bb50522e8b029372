/**
 * `list` and `verify` on a fleet (an environment with `executor.hosts`): each selected host asked side
 * by side, then one fleet answer. `list` merges the backups of every host (`present_on`, `current_on`;
 * `current` when live on every host); `verify` is the fleet pre-check (reachable, the one target present
 * and valid, lock free), so its exit code is the rollback's would-be pre-check verdict: 0, 1, or 3 for a
 * held lock.
 */
import { reportInterrupted } from '../../core/engine/index.js';
import type { ResolvedEnvironment } from '../../core/config/schema.js';
import { ExitCode } from '../../core/errors.js';
import { TransportError } from '../../core/exec/errors.js';
import { fleetBackups, openFleet, precheckError, precheckFleet, resolveFleet, type FleetBackup, type HostListing, type OpenFleet } from '../../core/fleet/index.js';
import type { CliContext } from '../context.js';
import { formatTable } from '../output.js';
import { displayName } from '../../core/stores/names.js';
import { formatSize, listWarnings, toListJson, type ListJsonEntry } from './list.js';

/** A `list --json` entry of a fleet: the one-host fields plus where the backup is what. */
export interface FleetListJsonEntry extends ListJsonEntry {
  present_on: string[];
  current_on: string[];
  known_good_on: string[];
  bad_on: string[];
}

export function toFleetListJson(b: FleetBackup): FleetListJsonEntry {
  return { ...toListJson(b), present_on: b.presentOn, current_on: b.currentOn, known_good_on: b.knownGoodOn, bad_on: b.badOn };
}

async function openSelected(env: ResolvedEnvironment, hosts: readonly string[] | undefined): Promise<OpenFleet> {
  const fleet = await resolveFleet(env, hosts ? { hosts } : {});
  return openFleet(fleet, { closeOnSignal: true });
}

/** "3/3", or the hosts when the backup is not on every one. */
function where(names: readonly string[], all: number): string {
  return names.length === all ? `${all}/${all}` : names.length === 0 ? '-' : names.join(',');
}

export async function fleetList(ctx: CliContext, env: ResolvedEnvironment, opts: { json?: boolean; sizes?: boolean; hosts?: string[] }): Promise<void> {
  const open = await openSelected(env, opts.hosts);
  const listings: HostListing[] = [];
  const failed: string[] = [];
  try {
    const settled = await open.each(async (m) => {
      await reportInterrupted(m.handle, (msg) => ctx.warn(`${m.host.name}: ${msg}`));
      return m.handle.store.list({ sizes: opts.sizes === true });
    });
    for (const { name, result } of settled) {
      if (result.status === 'fulfilled') listings.push({ name, backups: result.value });
      else {
        const err = result.reason as Error;
        failed.push(name);
        ctx.warn(`${name}: ${err instanceof TransportError ? 'unreachable: ' : ''}${err.message}`);
      }
    }
  } finally {
    await open.close();
  }
  const backups = fleetBackups(listings);
  const all = listings.length;
  if (opts.json) ctx.json(backups.map(toFleetListJson));
  else if (backups.length === 0) ctx.out(`no backups for ${env.name} on ${listings.map((l) => l.name).join(', ') || 'any host'}`);
  else {
    const c = ctx.color;
    const rows = backups.map((b) => [
      b.current ? c.green('●') : b.currentOn.length > 0 ? c.yellow('◐') : ' ',
      b.current ? c.bold(displayName(b.name)) : displayName(b.name),
      b.created.slice(0, 19).replace('T', ' '),
      formatSize(b.sizeBytes),
      where(b.presentOn, all),
      b.currentOn.length > 0 ? where(b.currentOn, all) : '',
      [b.knownGood ? c.cyan('known-good') : '', b.bad ? c.red(`bad on ${b.badOn.join(',')}`) : '', b.unusable ? c.yellow('unusable') : ''].filter(Boolean).join(' '),
    ]);
    ctx.stdout.write(formatTable([' ', 'NAME', 'CREATED (UTC)', 'SIZE', 'ON', 'LIVE ON', 'MARKS'], rows));
    ctx.out(listings.map((l) => `${l.name}: live ${displayName(l.backups.find((b) => b.current)?.name ?? '(nothing)')}`).join(' · '));
  }
  for (const w of listWarnings(backups)) ctx.warn(w);
  if (open.fleet.excluded.length > 0) ctx.warn(`left out by --hosts: ${open.fleet.excluded.join(', ')}`);
  if (failed.length > 0) {
    ctx.warn(`${failed.join(', ')} could not be listed: the list shows ${listings.map((l) => l.name).join(', ') || 'no host'}`);
    ctx.exitCode = ExitCode.FAILED;
  }
}

/** `verify --json` on a fleet: the one-host fields, plus each host's answer and who was left out. */
export interface FleetVerifyJson {
  ok: boolean;
  env: string;
  target: string | null;
  reason: string | null;
  /** The live release when every host runs the same one, else null (see hosts[].live). */
  live: string | null;
  hosts: Array<{ name: string; ok: boolean; reachable: boolean; live: string | null; locked: boolean; on_target: boolean; reason: string | null }>;
  excluded: string[];
  exit_code: number;
}

export async function fleetVerify(ctx: CliContext, env: ResolvedEnvironment, opts: { json?: boolean; hosts?: string[] }): Promise<void> {
  const open = await openSelected(env, opts.hosts);
  let p;
  try {
    await open.each((m) => reportInterrupted(m.handle, (msg) => ctx.warn(`${m.host.name}: ${msg}`)));
    p = await precheckFleet(open);
  } finally {
    await open.close();
  }
  const lives = new Set(p.hosts.map((h) => h.live));
  const doc: FleetVerifyJson = {
    ok: p.ok,
    env: env.name,
    target: p.target,
    reason: p.ok ? null : p.message,
    live: lives.size === 1 ? ([...lives][0] ?? null) : null,
    hosts: p.hosts.map((h) => ({
      name: h.name,
      ok: h.problems.length === 0,
      reachable: h.reachable,
      live: h.live,
      locked: h.locked,
      on_target: h.onTarget,
      reason: h.problems.length > 0 ? h.problems.join('; ') : null,
    })),
    excluded: p.excluded,
    exit_code: p.exitCode,
  };
  if (opts.json) ctx.json(doc);
  else if (p.ok) {
    ctx.out(`✓ ${env.name} can be rolled back to ${displayName(p.target ?? '')} on ${p.hosts.map((h) => `${h.name} (${h.onTarget ? 'already on it' : `from ${displayName(h.live ?? '(nothing)')}`})`).join(', ')}`);
    if (p.excluded.length > 0) ctx.out(`  left out by --hosts: ${p.excluded.join(', ')}`);
  } else {
    const err = precheckError(p);
    ctx.stderr.write(`✗ ${err.message}\n  try: ${err.hint ?? ''}\n`);
  }
  if (!p.ok) ctx.exitCode = p.exitCode;
}
