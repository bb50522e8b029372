/**
 * What `rollback-tui snapshot` runs (commands/snapshot.ts registers it): take a backup of what is live now (symlink: copy the live
 * release; git: record HEAD as deployed; files: copy the configured files), then apply `keep:`. All of it
 * (snapshot, retention, marks) under the environment's lock, so a concurrent rollback cannot have its
 * target pruned or a mark lost: a held lock is exit 3 naming the owner.
 */
import { EnvLock, currentIdentity, formatIdentity, newEntryId, reportInterrupted } from '../../core/engine/index.js';
import type { SnapshotOptions } from '../commands/snapshot.js';
import type { CliContext } from '../context.js';
import { displayName } from '../../core/stores/names.js';
import { toListJson } from './list.js';

export async function runSnapshot(ctx: CliContext, opts: SnapshotOptions): Promise<void> {
  const { env } = await ctx.resolveEnv(opts);
  const handle = await ctx.openEnvironment(env, { closeOnSignal: true });
  try {
    await reportInterrupted(handle, (m) => ctx.warn(m));
    const id = currentIdentity(ctx.env);
    const lock = await EnvLock.acquire(handle.state, {
      env: env.name,
      operationId: newEntryId(),
      operation: 'snapshot',
      user: id.user,
      initiatedBy: formatIdentity(id),
      version: ctx.version,
      staleMinutes: env.policy.rollback.stale_lock_minutes,
      onWarning: (m) => ctx.warn(m),
    });
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
