/**
 * The fleet lock: the environment lock (EnvLock) on every selected host, all or nothing. The first host
 * in the configuration's order is taken alone, then every other host's side by side: two round trips
 * whatever the fleet's size, not one per host. Taking the first host first keeps the fixed order where it
 * decides something: two fleet commands over the same hosts both start there, so exactly one of them gets
 * past it and the other is refused there, before it touches another host. When any host refuses (held:
 * exit 3; unreachable: exit 1), every lock taken is released and the error names each refusing host; a
 * held lock wins the exit code. A command on one host of the fleet takes the same lock file there, so it
 * and a fleet command exclude each other.
 */
import { EnvLock, type AcquireOptions } from '../engine/lock.js';
import { ExitCode, isUserError, UserError } from '../errors.js';
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

/** Release side by side: the order matters only for the first lock taken. */
async function releaseAll(taken: ReadonlyArray<[string, EnvLock]>): Promise<string[]> {
  const settled = await mapLimit(taken, DEFAULT_FLEET_CONCURRENCY, ([, lock]) => lock.release());
  return settled.flatMap((r, i) => (r.status === 'rejected' ? [`${taken[i]?.[0]}: ${(r.reason as Error).message}`] : []));
}

/** The error of a refused fleet lock, after every lock taken was released. */
async function refused(failures: ReadonlyArray<[string, unknown]>, taken: ReadonlyArray<[string, EnvLock]>): Promise<unknown> {
  const unreleased = await releaseAll(taken);
  const released = taken.length > 0 ? `; released the locks already taken on ${taken.map(([n]) => n).join(', ')}` : '';
  const leftover = unreleased.length > 0 ? `; could not release ${unreleased.join('; ')}` : '';
  const userErrors = failures.flatMap(([name, err]) => (isUserError(err) ? [[name, err] as const] : []));
  // Not a refusal we can phrase (a bug, say): thrown as it is, the locks released all the same.
  if (userErrors.length < failures.length) return failures.find(([, err]) => !isUserError(err))?.[1];
  const [, lead] = userErrors.find(([, e]) => e.exitCode === ExitCode.LOCKED) ?? (userErrors[0] as (typeof userErrors)[number]);
  return new UserError(`${userErrors.map(([name, e]) => `on ${name}: ${e.message}`).join('; ')}${released}${leftover}`, {
    exitCode: lead.exitCode,
    code: lead.code,
    ...(lead.hint !== undefined ? { hint: lead.hint } : {}),
    cause: lead,
  });
}

export async function acquireFleetLock(members: readonly FleetMember[], options: FleetAcquireOptions): Promise<FleetLock> {
  const acquire = (m: FleetMember): Promise<EnvLock> =>
    EnvLock.acquire(m.handle.state, {
      ...options,
      env: m.host.env.name,
      onWarning: (msg) => options.onWarning?.(m.host.name, msg),
    });
  const [first, ...rest] = members;
  const taken: Array<[string, EnvLock]> = [];
  if (first) {
    try {
      taken.push([first.host.name, await acquire(first)]);
    } catch (err) {
      throw await refused([[first.host.name, err]], taken);
    }
  }
  const settled = await mapLimit(rest, DEFAULT_FLEET_CONCURRENCY, acquire);
  const failures: Array<[string, unknown]> = [];
  settled.forEach((r, i) => {
    const name = (rest[i] as FleetMember).host.name;
    if (r.status === 'fulfilled') taken.push([name, r.value]);
    else failures.push([name, r.reason]);
  });
  if (failures.length > 0) throw await refused(failures, taken);
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
