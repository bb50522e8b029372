/**
 * What the fleet monitor needs to roll a fleet back: a runner it is given (the fleet rollback of the
 * `rollback` command: pre-check, all-or-nothing lock, the environment's rollout settings, per-host
 * history), so the monitor decides when and on which hosts, and never how.

 */
import type { EngineOptions } from '../engine/engine.js';
import { idleHost, mapLimit, precheckFleet, rolloutSettings, runFleetRollback, type FleetHostResult, type OpenFleet } from '../fleet/index.js';

export interface FleetRollbackRequest {
  /** The target; absent: the fleet's default target (newest older than live on every host, bad on none). */
  to?: string;
  /** The hosts to roll back (names), in configuration order; the others are left out as by `--hosts`. */
  hosts: string[];
  reason: string;
  /** The policy trigger that fired (history's `trigger`). */
  trigger: string;
  /** Recorded in each host's history: the hosts, values, thresholds and baselines. */
  explanation: string;
  /** Each host's live release when the rollback was decided: a host where it changed is refused. */
  expectFrom: Record<string, string | null>;
  signal?: AbortSignal;
}

export interface FleetRollbackOutcome {
  ok: boolean;
  exit_code: number;
  /** The fleet's target (null: none could be chosen; `error` says why). */
  to: string | null;
  /** Every host asked for, with its status (verified, failed, untouched ...). */
  hosts: FleetHostResult[];
  error?: string;
}

export type FleetRollbackRunner = (req: FleetRollbackRequest) => Promise<FleetRollbackOutcome>;

/**
 * The monitor's fleet rollback through the same path as `rollback` on a fleet: the pre-check of the
 * chosen hosts in one round (a held lock on any of them refuses, and nothing changes), a refusal when a
 * host's live release moved since the decision, the lock on every one of them all or nothing, then the
 * rollout with the environment's settings, each host with its own history entry under one operation id.
 * The monitor keeps the connections: the runner works on a view of the open fleet and closes nothing.
 */
export function precheckedFleetRunner(fleet: OpenFleet, engine: EngineOptions = {}): FleetRollbackRunner {
  return async (req) => {
    const members = fleet.members.filter((m) => req.hosts.includes(m.host.name));
    const view: OpenFleet = {
      fleet: fleet.fleet,
      members,
      concurrency: fleet.concurrency,
      each: async (fn, signal) => (await mapLimit(members, fleet.concurrency, fn, signal)).map((result, i) => ({ name: members[i]?.host.name ?? '', result })),
      close: async () => {},
    };
    const untouched = (live: (name: string) => string | null, to: string, error: string): FleetRollbackOutcome => ({
      ok: false,
      exit_code: 1,
      to: to || null,
      hosts: members.map((m) => idleHost(m.host.name, live(m.host.name), to, 'untouched')),
      error,
    });
    const precheck = await precheckFleet(view, { ...(req.to !== undefined ? { to: req.to } : {}), ...(req.signal ? { signal: req.signal } : {}) });
    const liveOf = (name: string): string | null => precheck.hosts.find((h) => h.name === name)?.live ?? null;
    if (!precheck.ok || precheck.target === null) return { ...untouched(liveOf, precheck.target ?? req.to ?? '', precheck.message), exit_code: precheck.exitCode };
    const moved = precheck.hosts.filter((h) => !h.onTarget && req.expectFrom[h.name] !== undefined && h.live !== req.expectFrom[h.name]);
    if (moved.length > 0) {
      const what = moved.map((h) => `${h.name} ${req.expectFrom[h.name] ?? '(nothing)'} -> ${h.live ?? '(nothing)'}`).join(', ');
      return untouched(liveOf, precheck.target, `live changed since the decision to roll back (${what}); nothing was done`);
    }
    const result = await runFleetRollback({
      open: view,
      precheck,
      settings: rolloutSettings(fleet.fleet.env.rollout, members.length, fleet.concurrency),
      kind: 'standard',
      reason: req.reason,
      trigger: req.trigger,
      explanation: req.explanation,
      engine,
      ...(req.signal ? { signal: req.signal } : {}),
    });
    return { ok: result.ok, exit_code: result.exitCode, to: precheck.target, hosts: result.hosts };
  };
}
