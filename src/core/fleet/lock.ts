/**
 * The fleet lock: the environment lock (EnvLock) on every selected host, taken one host after the
 * other in one fixed order (the configuration's), all or nothing. When one host refuses (held:
 * exit 3; unreachable: exit 1), the locks already taken are released and the error names that host. A command on one host of the fleet takes the same lock file there, so it and a
 * fleet command exclude each other.
 */
import { EnvLock, type AcquireOptions } from '../engine/lock.js';
import { isUserError, UserError } from '../errors.js';
import { DEFAULT_FLEET_CONCURRENCY, mapLimit, type FleetMember } from './open.js';

export interface FleetLock {
  /** Host name -> its lock, in the order taken. */
  readonly locks: ReadonlyMap<string, EnvLock>;
  /** Hosts whose lock was broken by someone else while held (EnvLock.lost). */
  lost(): string[];
  /** Release every lock (each only if still ours). Idempotent. */
  release(): Promise<void>;
}

/** Options of EnvLock.acquire without `env`: every host's lock is the fleet environment's. */
export type FleetAcquireOptions = Omit<AcquireOptions, 'env' | 'onWarning'> & {
  onWarning?: (host: string, message: string) => void;
};

/** Release side by side: taking needs the fixed order (so one of two fleet commands wins), releasing does not. */
async function releaseAll(taken: ReadonlyArray<[string, EnvLock]>): Promise<string[]> {
  const settled = await mapLimit(taken, DEFAULT_FLEET_CONCURRENCY, ([, lock]) => lock.release());
  return settled.flatMap((r, i) => (r.status === 'rejected' ? [`${taken[i]?.[0]}: ${(r.reason as Error).message}`] : []));
}

export async function acquireFleetLock(members: readonly FleetMember[], options: FleetAcquireOptions): Promise<FleetLock> {
  const taken: Array<[string, EnvLock]> = [];
  for (const m of members) {
    const name = m.host.name;
    try {
      const lock = await EnvLock.acquire(m.handle.state, {
        ...options,
        env: m.host.env.name,
        onWarning: (msg) => options.onWarning?.(name, msg),
      });
      taken.push([name, lock]);
    } catch (err) {
      const failures = await releaseAll(taken);
      const released = taken.length > 0 ? `; released the locks already taken on ${taken.map(([n]) => n).join(', ')}` : '';
      const leftover = failures.length > 0 ? `; could not release ${failures.join('; ')}` : '';
      if (isUserError(err)) {
        throw new UserError(`on ${name}: ${err.message}${released}${leftover}`, {
          exitCode: err.exitCode,
          code: err.code,
          ...(err.hint !== undefined ? { hint: err.hint } : {}),
          cause: err,
        });
      }
      throw err;
    }
  }
  const locks = new Map(taken);
  let released = false;
  return {
    locks,
    lost: () => taken.filter(([, l]) => l.lost).map(([n]) => n),
    release: async () => {
      if (released) return;
      released = true;
      const failures = await releaseAll(taken);
      if (failures.length > 0) throw new UserError(`could not release the lock on ${failures.join('; ')}`, { code: 'UNLOCK_FAILED' });
    },
  };
}
