/**
 * `rollback-tui snapshot --env NAME [--json]`: take a backup of what is live now (symlink: copy the live
 * release; git: record HEAD as deployed; files: copy the configured files), then apply `keep:`. All of it
 * (snapshot, retention, marks) under the environment's lock, so a concurrent rollback cannot have its
 * target pruned or a mark lost: a held lock is exit 3 naming the owner. A fleet: every selected host
 * (fleet-snapshot.ts).
 */
import { EnvLock, currentIdentity, formatIdentity, newEntryId, reportInterrupted } from '../../core/engine/index.js';
import type { CliContext } from '../context.js';
import type { SnapshotOptions } from '../commands/snapshot.js';
import type { ResolvedEnvironment } from '../../core/config/schema.js';
import type { AcquireOptions } from '../../core/engine/lock.js';
import { displayName } from '../../core/stores/names.js';
import { toListJson } from './list.js';
import { isFleet, parseHostsOption, selectHosts } from '../../core/fleet/index.js';
import { fleetSnapshot } from './fleet-snapshot.js';

/** The lock a snapshot takes (on every selected host of a fleet): who, which operation, when it is stale. */
export function snapshotLockOptions(ctx: CliContext, env: ResolvedEnvironment): Omit<AcquireOptions, 'env' | 'onWarning'> {
  const id = currentIdentity(ctx.env);
  return {
    operationId: newEntryId(),
    operation: 'snapshot',
    user: id.user,
    initiatedBy: formatIdentity(id),
    version: ctx.version,
    staleMinutes: env.policy.rollback.stale_lock_minutes,
  };
}

export async function runSnapshot(ctx: CliContext, opts: SnapshotOptions): Promise<void> {
  const { env } = await ctx.resolveEnv(opts);
  const hosts = parseHostsOption(opts.hosts);
  if (isFleet(env)) return fleetSnapshot(ctx, env, { ...(opts.json ? { json: true } : {}), ...(hosts ? { hosts } : {}) });
  if (hosts) selectHosts(env, hosts);
  const handle = await ctx.openEnvironment(env, { closeOnSignal: true });
  try {
    await reportInterrupted(handle, (m) => ctx.warn(m));
    const lock = await EnvLock.acquire(handle.state, { ...snapshotLockOptions(ctx, env), env: env.name, onWarning: (m) => ctx.warn(m) });
    try {
      if (!opts.json) ctx.log(`taking a snapshot of ${env.name} (${env.target.strategy}, ${handle.executor.description})...`);
      // No onLine: the store scripts' output is machine data (NUL-separated), not progress.
      const backup = await handle.store.snapshot({ onWarning: (m) => ctx.warn(m) });
      if (opts.json) ctx.json(toListJson(backup));
      else ctx.out(`snapshot ${displayName(backup.name)} created ${backup.created}${backup.detail ? ` (${displayName(backup.detail)})` : ''}`);
    } finally {
      await lock.release();
    }
  } finally {
    await handle.close();
  }
}
