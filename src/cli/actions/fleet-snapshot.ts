/**
 * `snapshot` on a fleet: the environment lock on every selected host (fixed order, all or nothing: a
 * held lock is exit 3 naming the host), then each host's store takes its snapshot side by side, and the
 * locks go. A host whose snapshot fails is named with why (exit 1); the others keep theirs.
 */
import type { ResolvedEnvironment } from '../../core/config/schema.js';
import { reportInterrupted } from '../../core/engine/index.js';
import { ExitCode } from '../../core/errors.js';
import { acquireFleetLock, openFleet, resolveFleet } from '../../core/fleet/index.js';
import { displayName } from '../../core/stores/names.js';
import type { CliContext } from '../context.js';
import { toListJson, type ListJsonEntry } from './list.js';
import { snapshotLockOptions } from './snapshot.js';

/** `snapshot --json` of a fleet: each selected host's new backup (or why it has none). */
export interface FleetSnapshotJson {
  ok: boolean;
  env: string;
  hosts: Array<{ name: string; ok: boolean; backup: ListJsonEntry | null; error: string | null }>;
  excluded: string[];
  exit_code: number;
}

export async function fleetSnapshot(ctx: CliContext, env: ResolvedEnvironment, opts: { json?: boolean; hosts?: string[] }): Promise<void> {
  const open = openFleet(await resolveFleet(env, opts.hosts ? { hosts: opts.hosts } : {}), { closeOnSignal: true });
  try {
    await open.each((m) => reportInterrupted(m.handle, (msg) => ctx.warn(`${m.host.name}: ${msg}`)));
    const lock = await acquireFleetLock(open.members, { ...snapshotLockOptions(ctx, env), onWarning: (host, m) => ctx.warn(`${host}: ${m}`) });
    let taken;
    try {
      if (!opts.json) ctx.log(`taking a snapshot of ${env.name} on ${open.members.map((m) => m.host.name).join(', ')}...`);
      taken = await open.each((m) => m.handle.store.snapshot({ onWarning: (msg) => ctx.warn(`${m.host.name}: ${msg}`) }));
    } finally {
      await lock.release();
    }
    const hosts = taken.map(({ name, result }) =>
      result.status === 'fulfilled'
        ? { name, ok: true, backup: toListJson(result.value), error: null }
        : { name, ok: false, backup: null, error: (result.reason as Error).message },
    );
    const ok = hosts.every((h) => h.ok);
    if (!ok) ctx.exitCode = ExitCode.FAILED;
    if (opts.json) {
      const doc: FleetSnapshotJson = { ok, env: env.name, hosts, excluded: open.fleet.excluded, exit_code: ok ? 0 : ExitCode.FAILED };
      ctx.json(doc);
      return;
    }
    for (const h of hosts) {
      if (h.backup) ctx.out(`${h.name}: snapshot ${displayName(h.backup.name)} created ${h.backup.created}`);
      else ctx.stderr.write(`✗ ${h.name}: no snapshot: ${h.error ?? ''}\n`);
    }
    if (open.fleet.excluded.length > 0) ctx.out(`left out by --hosts: ${open.fleet.excluded.join(', ')}`);
  } finally {
    await open.close();
  }
}
