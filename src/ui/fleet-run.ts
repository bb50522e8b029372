/**
 * The console's fleet rollback, the same path as `rollback` on a fleet: the pre-check of every host in
 * one round (nothing changes on a failure; a held lock is exit 3 and wins), the plan the dialog previews
 * (per host from -> to, the batches, the hosts left out), and after the confirmation the pre-check
 * again, so that what was confirmed is what runs, then the locks and the rollout with every host's
 * progress reported as it happens. Plain TypeScript: no ink here.
 */
import type { EngineOptions } from '../core/engine/engine.js';
import type { Action, RollbackDialog, RunRequest } from './state/types.js';
import type { RollbackKind } from '../core/engine/types.js';
import { progressCallbacks, rolloutAdvice, type FleetRunProgress } from '../core/monitor/fleet-rollback.js';
import {
  fleetPlan,
  planMovedSince,
  precheckError,
  precheckFleet,
  rolloutSettings,
  runFleetRollback,
  type FleetHostResult,
  type FleetPlan,
  type FleetPrecheck,
  type OpenFleet,
  type StopReason,
} from '../core/fleet/index.js';

/** What the dialog shows before a fleet rollback: the plan, or why it cannot run (each host named). */
export interface FleetPreview {
  /** Null when the pre-check failed. */
  plan: FleetPlan | null;
  /** 0 ready, 3 a lock is held on some host, 1 anything else. */
  exitCode: 0 | 1 | 3;
  /** Every selected host with what is wrong there (empty problems: ready), in configuration order. */
  hosts: Array<{ name: string; live: string | null; problems: string[] }>;
  /** The pre-check's one line (what is wrong where), null when ready. */
  message: string | null;
  /** How to fix it, null when ready. */
  hint: string | null;
  /** The failure's code (LOCK_HELD, DRIFT, UNREACHABLE ...), null when ready. */
  code: string | null;
  /** A problem of the fleet as a whole (drift, no common target), null when none. */
  fleetProblem: string | null;
}

export interface FleetRunRequest {
  kind: RollbackKind;
  to?: string | undefined;
  reason: string;
  dryRun: boolean;
  /** The plan the operator confirmed: a target or live release that moved since refuses the run. */
  confirmed: FleetPlan;
  signal?: AbortSignal;
}

export interface FleetRunOutcome {
  ok: boolean;
  exitCode: number;
  dryRun: boolean;
  to: string;
  /** Every host, selected and left out, with its status. */
  hosts: FleetHostResult[];
  stopped: StopReason | null;
  /** For a stopped rollout with mixed releases: how to finish, and how to undo. */
  advice: string[];
  operationId: string | null;
}

export type FleetRunListener = FleetRunProgress;

/** Thrown when the run is refused before anything changed (the pre-check again, or a moved plan). */
export class FleetRunRefused extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface ConsoleFleetRunner {
  plan(req: { kind: RollbackKind; to?: string | undefined }): Promise<FleetPreview>;
  run(req: FleetRunRequest, listener: FleetRunListener): Promise<FleetRunOutcome>;
}

export function previewOf(p: FleetPrecheck, plan: FleetPlan | null): FleetPreview {
  const hosts = p.hosts.map((h) => ({ name: h.name, live: h.live, problems: [...h.problems] }));
  if (p.ok) return { plan, exitCode: 0, hosts, message: null, hint: null, code: null, fleetProblem: null };
  const err = precheckError(p);
  const fleetProblem = p.choice && !p.choice.ok ? p.choice.reason : p.choice === null ? 'no host could be reached' : null;
  return { plan: null, exitCode: p.exitCode, hosts, message: err.message, hint: consoleHint(p, err.code, err.hint ?? null), code: err.code ?? null, fleetProblem };
}

/**
 * The pre-check's hint as the console can act on it: the console rolls back the whole fleet it watches,
 * so leaving an unreachable host out is the command line's `--hosts`, said in full.
 */
function consoleHint(p: FleetPrecheck, code: string, hint: string | null): string | null {
  if (code !== 'UNREACHABLE') return hint;
  const down = p.hosts.filter((h) => !h.reachable).map((h) => h.name);
  const up = p.hosts.filter((h) => h.reachable).map((h) => h.name);
  return `bring ${down.join(', ')} back, or leave ${down.length === 1 ? 'it' : 'them'} out from the command line: rollback-tui rollback --env ${p.env} --hosts ${up.join(',')}`;
}

export function consoleFleetRunner(open: OpenFleet, engine: EngineOptions = {}): ConsoleFleetRunner {
  const settings = () => rolloutSettings(open.fleet.env.rollout, open.members.length, open.concurrency);
  const precheck = (kind: RollbackKind, to: string | undefined, signal?: AbortSignal): Promise<FleetPrecheck> =>
    precheckFleet(open, { ...(to !== undefined ? { to } : {}), emergency: kind === 'emergency', ...(signal ? { signal } : {}) });
  return {
    plan: async ({ kind, to }) => {
      const p = await precheck(kind, to);
      return previewOf(p, p.ok ? fleetPlan(p, settings()) : null);
    },
    run: async (req, listener) => {
      const p = await precheck(req.kind, req.to, req.signal);
      if (!p.ok) throw new FleetRunRefused(precheckError(p).message, p.exitCode);
      const moved = planMovedSince(req.confirmed, p);
      if (moved) throw new FleetRunRefused(`${p.env}: the plan changed since you confirmed: ${moved}; nothing was done`, 1);
      const s = settings();
      if (req.dryRun) {
        const plan = fleetPlan(p, s);
        return { ok: true, exitCode: 0, dryRun: true, to: plan.to, hosts: plan.hosts, stopped: null, advice: [], operationId: null };
      }
      const r = await runFleetRollback({
        open,
        precheck: p,
        settings: s,
        kind: req.kind,
        reason: req.reason,
        trigger: 'manual',
        engine,
        ...(req.signal ? { signal: req.signal } : {}),
        ...progressCallbacks(listener, s.maxFailures),
      });
      const advice = rolloutAdvice(open.fleet.env.name, r, req.reason);
      return { ok: r.ok, exitCode: r.exitCode, dryRun: false, to: p.target ?? '', hosts: r.hosts, stopped: r.stopped, advice, operationId: r.operationId };
    },
  };
}

/** The preview of the rollback dialog just opened, tagged with its request (a later dialog drops it). */
export async function loadFleetPreview(fleet: ConsoleFleetRunner, d: RollbackDialog, dispatch: (a: Action) => void): Promise<void> {
  try {
    const preview = await fleet.plan({ kind: d.kind, to: d.target });
    dispatch({ type: 'dialog/fleetPlan', preview, requestId: d.requestId });
  } catch (err) {
    dispatch({ type: 'dialog/planError', message: err instanceof Error ? err.message : String(err), requestId: d.requestId });
  }
}

/**
 * A confirmed fleet rollback from the console: every host's start, steps and end as actions for the
 * grid, then the outcome (or why it was refused: nothing changed then). Never throws.
 */
export async function runFleetFromConsole(fleet: ConsoleFleetRunner, req: RunRequest, signal: AbortSignal, dispatch: (a: Action) => void): Promise<void> {
  const at = (): number => Date.now();
  const plan = req.fleetPlan;
  if (!plan) {
    dispatch({ type: 'engine/failed', message: 'fleet rollback refused: the dialog had no plan; press r again', at: at() });
    return;
  }
  dispatch({ type: 'fleetRun/started', kind: req.kind, dryRun: req.dryRun, plan, at: at() });
  try {
    const outcome = await fleet.run(
      { kind: req.kind, to: req.target, reason: req.reason, dryRun: req.dryRun, confirmed: plan, signal },
      {
        hostStart: (host, batch) => dispatch({ type: 'fleetRun/hostStart', host, batch, at: at() }),
        event: (host, event) => dispatch({ type: 'fleetRun/event', host, event, at: at() }),
        hostEnd: (result) => dispatch({ type: 'fleetRun/hostEnd', result, at: at() }),
        note: (level, text) => dispatch({ type: 'fleetRun/note', level, text, at: at() }),
      },
    );
    dispatch({ type: 'fleetRun/finished', outcome, at: at() });
  } catch (err) {
    dispatch({ type: 'fleetRun/failed', message: err instanceof Error ? err.message : String(err), at: at() });
  }
}
