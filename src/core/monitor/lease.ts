/**
 * The monitor lease: one owner of automation per environment. A `monitor` service and a console opened
 * on the same environment would otherwise both sample, write baselines, notify and try automatic
 * rollbacks. The lease is a lock owner file, `locks/<env>.monitor.owner.json`, taken and kept with the
 * environment lock's own mechanics (lock.ts: created exclusively with its content in place, refreshed
 * on a timer, breakable when stale or when its process is gone from this host, broken by a
 * compare-and-swap so that of two breakers only one wins). Whoever holds it samples, decides, acts and
 * notifies; everyone else observes.
 *
 * The lease goes stale after LEASE_STALE_MS without a refresh. The refresh runs on its own timer, not on
 * the sampling loop, so a slow tick or a long rollback does not lose it.
 */
import { EnvLock, type LockOwner, type LockState } from '../engine/lock.js';
import { isUserError } from '../errors.js';
import type { AutomationOwner } from './types.js';

/** A lease not refreshed for this long may be taken over (its refresh runs every quarter of it). */
export const LEASE_STALE_MS = 30_000;

/** The lock name of an environment's monitor lease (its owner file is `locks/<env>.monitor.owner.json`). */
export const leaseLockName = (env: string): string => `${env}.monitor`;

/** How this process was started, as far as its environment says (systemd sets INVOCATION_ID). */
export function startedVia(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.INVOCATION_ID) return 'systemd';
  if (env.TMUX) return 'tmux';
  if (env.SSH_CONNECTION) return 'ssh';
  return null;
}

/** "monitor pid 4121 on app-1 (systemd), since 02:10" (the time in UTC, as the lock says times). */
export function describeAutomationOwner(o: Pick<AutomationOwner, 'kind' | 'pid' | 'host' | 'via' | 'since'>): string {
  const since = o.since.replace(/^.*T/, '').slice(0, 5);
  return `${o.kind} pid ${o.pid} on ${o.host}${o.via ? ` (${o.via})` : ''}, since ${since}`;
}

export function ownerOfLease(owner: LockOwner, via: string | null, self: boolean): AutomationOwner {
  return { kind: owner.operation, pid: owner.pid, host: owner.host, via, since: owner.started_at, self };
}

export type LeaseClaim = { held: true; lease: EnvLock; tookOverFrom: LockOwner | null } | { held: false; owner: LockOwner | null };

export interface LeaseOptions {
  env: string;
  kind: 'monitor' | 'console';
  actor: string;
  version: string;
  operationId: string;
  onWarning: (message: string) => void;
}

/**
 * Take the lease if it is free, stale, or its owner's process is gone from this host; otherwise say who
 * holds it (null when its owner file cannot be read). Errors other than "held" (the state dir cannot be
 * reached) are thrown.
 */
export async function claimLease(state: LockState, o: LeaseOptions): Promise<LeaseClaim> {
  try {
    const lease = await EnvLock.acquire(state, {
      env: leaseLockName(o.env),
      operationId: o.operationId,
      operation: o.kind,
      user: o.actor,
      initiatedBy: o.actor,
      version: o.version,
      staleMinutes: LEASE_STALE_MS / 60_000,
      breakLock: true,
      refreshMs: LEASE_STALE_MS / 4,
      onWarning: o.onWarning,
    });
    return { held: true, lease, tookOverFrom: lease.brokeLock ? lease.brokenOwner : null };
  } catch (err) {
    if (isUserError(err) && err.code === 'LOCK_HELD') return { held: false, owner: await EnvLock.owner(state, leaseLockName(o.env)) };
    throw err;
  }
}

/** Is the lease still ours? False when its owner file names someone else (it was taken over). */
export async function stillHeld(state: LockState, lease: EnvLock): Promise<boolean> {
  if (lease.lost) return false;
  const owner = await EnvLock.owner(state, lease.owner.env);
  // An unreadable file is not proof of loss: the refresh timer says so when it finds another owner.
  return owner === null || owner.operation_id === lease.owner.operation_id;
}
