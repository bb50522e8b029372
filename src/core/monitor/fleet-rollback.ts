/**
 * What the fleet monitor needs to roll a fleet back: a runner it is given (the fleet rollback of the
 * `rollback` command: pre-check, all-or-nothing lock, the environment's rollout settings, per-host
 * history), so the monitor decides when and on which hosts, and never how.

 */
import type { EngineOptions } from '../engine/engine.js';
import type { EngineEvent } from '../engine/types.js';
import {
  fleetPlan,
  idleHost,
  mapLimit,
  precheckFleet,
  rolloutSettings,
  runFleetRollback,
  stoppedAdvice,
  type FleetHostResult,
  type FleetPlan,
  type FleetRollbackOptions,
  type OpenFleet,
  type StopReason,
} from '../fleet/index.js';

/**
 * What a fleet rollback reports while it runs, for a host x step grid: the plan once the pre-check has
 * passed (before any change), each host's start, steps and end, and the rollout's pauses and stops.
 */
export interface FleetRunProgress {
  plan?(plan: FleetPlan): void;
  hostStart(name: string, batch: number): void;
  event(host: string, e: EngineEvent): void;
  hostEnd(result: FleetHostResult): void;
  note(level: 'info' | 'warning', text: string): void;
}

function stopText(reason: StopReason, failures: number, maxFailures: number): string {
  if (reason === 'aborted') return 'interrupted: hosts in flight finish their current step, no new host starts';
  if (reason === 'canary') return 'stopping: the canary failed; no new host starts';
  return `stopping: ${failures} failed hosts, more than max_failures ${maxFailures}; no new host starts`;
}

/** runFleetRollback's callbacks reporting to `p` (a pause and a stop said in words). */
export function progressCallbacks(
  p: FleetRunProgress,
  maxFailures: number,
): Pick<FleetRollbackOptions, 'onEvent' | 'onWarning' | 'onHostStart' | 'onHostEnd' | 'onPause' | 'onStop'> {
  return {
    onEvent: (host, e) => p.event(host, e),
    onWarning: (host, m) => p.note('warning', `${host}: ${m}`),
    onHostStart: (name, batch) => p.hostStart(name, batch),
    onHostEnd: (h) => p.hostEnd(h),
    onPause: (ms, next) => p.note('info', `pausing ${ms / 1000} s before batch ${next + 1}`),
    onStop: (reason, failures) => p.note('warning', stopText(reason, failures, maxFailures)),
  };
}

/**
 * The monitor's event stream's part of an automatic fleet rollback in progress (the console draws its
 * grid from them): the plan, each host's start, grid steps and end, the rollout's notes.
 */
export type FleetRollbackProgressEvent =
  | { type: 'fleet_rollback_plan'; env: string; plan: FleetPlan }
  | { type: 'fleet_rollback_host'; env: string; host: string; phase: 'start'; batch: number }
  | { type: 'fleet_rollback_host'; env: string; host: string; phase: 'step'; event: EngineEvent }
  | { type: 'fleet_rollback_host'; env: string; host: string; phase: 'end'; result: FleetHostResult }
  | { type: 'fleet_rollback_note'; env: string; level: 'info' | 'warning'; text: string };

/**
 * A rollback's progress as events. Only step starts, step ends and warnings of the engine are passed
 * on: every host's output lines would flood `monitor --json` and the grid does not show them.
 */
export function progressEvents(env: string, emit: (e: FleetRollbackProgressEvent) => void): FleetRunProgress {
  return {
    plan: (plan) => emit({ type: 'fleet_rollback_plan', env, plan }),
    hostStart: (host, batch) => emit({ type: 'fleet_rollback_host', env, host, phase: 'start', batch }),
    event: (host, event) => {
      if (event.type === 'step-start' || event.type === 'step-end' || event.type === 'warning') emit({ type: 'fleet_rollback_host', env, host, phase: 'step', event });
    },
    hostEnd: (result) => emit({ type: 'fleet_rollback_host', env, host: result.name, phase: 'end', result }),
    note: (level, text) => emit({ type: 'fleet_rollback_note', env, level, text }),
  };
}

/** After a stopped or failed rollout on mixed releases: how to finish, and how to undo. */
export function rolloutAdvice(env: string, r: { ok: boolean; stopped: StopReason | null; hosts: readonly FleetHostResult[] }, reason: string): string[] {
  return r.stopped || !r.ok ? stoppedAdvice(env, r.hosts, reason) : [];
}

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
  /** Told the plan, then each host's progress, as the rollout goes. */
  progress?: FleetRunProgress;
}

export interface FleetRollbackOutcome {
  ok: boolean;
  exit_code: number;
  /** The fleet's target (null: none could be chosen; `error` says why). */
  to: string | null;
  /** Every host asked for, with its status (verified, failed, untouched ...). */
  hosts: FleetHostResult[];
  error?: string;
  /** Why the rollout stopped early (max_failures, the canary, aborted); null when it did not. */
  stopped?: StopReason | null;
  /** The operation id every host's history entry shares (absent when nothing ran). */
  operation_id?: string;
  /** For a stopped rollout on mixed releases: how to finish, and how to undo. */
  advice?: string[];
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
    const settings = rolloutSettings(fleet.fleet.env.rollout, members.length, fleet.concurrency);
    req.progress?.plan?.(fleetPlan(precheck, settings));
    const result = await runFleetRollback({
      open: view,
      precheck,
      settings,
      kind: 'standard',
      reason: req.reason,
      trigger: req.trigger,
      explanation: req.explanation,
      engine,
      ...(req.signal ? { signal: req.signal } : {}),
      ...(req.progress ? progressCallbacks(req.progress, settings.maxFailures) : {}),
    });
    const advice = rolloutAdvice(fleet.fleet.env.name, result, req.reason);
    return { ok: result.ok, exit_code: result.exitCode, to: precheck.target, hosts: result.hosts, stopped: result.stopped, operation_id: result.operationId, advice };
  };
}
