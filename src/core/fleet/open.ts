/**
 * Opening a fleet: one environment handle per selected host (openEnvironment: its own executor, state
 * directory, marks and store), and running something on every host with bounded concurrency, each
 * host's failure kept as that host's result rather than failing the others.
 */
import { openEnvironment, type EnvironmentHandle } from '../environment.js';
import type { Executor } from '../exec/types.js';
import type { FleetHost, ResolvedFleet } from './hosts.js';

/** How many hosts are worked on at once unless said otherwise (ssh clients and their masters). */
export const DEFAULT_FLEET_CONCURRENCY = 16;

/**
 * `fn` over `items`, at most `limit` at a time, results in the order of `items`. Once `signal` is
 * aborted no new item starts; those items reject with the abort reason.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      const item = items[i] as T;
      if (signal?.aborted) {
        results[i] = { status: 'rejected', reason: signal.reason };
        continue;
      }
      try {
        results[i] = { status: 'fulfilled', value: await fn(item, i) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

export interface FleetMember {
  host: FleetHost;
  handle: EnvironmentHandle;
}

export interface OpenFleet {
  fleet: ResolvedFleet;
  /** The selected hosts, in configuration order (the fixed order locks are taken in). */
  members: FleetMember[];
  concurrency: number;
  /** `fn` on every member, bounded; each host's outcome in member order. */
  each<R>(fn: (m: FleetMember) => Promise<R>, signal?: AbortSignal): Promise<Array<{ name: string; result: PromiseSettledResult<R> }>>;
  /** Close every host's executor (ssh masters). Idempotent. */
  close(): Promise<void>;
}

export interface OpenFleetOptions {
  concurrency?: number;
  closeOnSignal?: boolean;
  /** An executor per host instead of the configured one (tests that count or fail calls). */
  executorFor?: (host: FleetHost) => Executor | undefined;
}

export function openFleet(fleet: ResolvedFleet, options: OpenFleetOptions = {}): OpenFleet {
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_FLEET_CONCURRENCY);
  const members = fleet.hosts.map((host) => {
    const executor = options.executorFor?.(host);
    return {
      host,
      handle: openEnvironment(host.env, { ...(executor ? { executor } : {}), closeOnSignal: options.closeOnSignal === true }),
    };
  });
  return {
    fleet,
    members,
    concurrency,
    each: async (fn, signal) => {
      const settled = await mapLimit(members, concurrency, fn, signal);
      return settled.map((result, i) => ({ name: members[i]?.host.name ?? '', result }));
    },
    close: async () => {
      await mapLimit(members, concurrency, (m) => m.handle.close());
    },
  };
}
