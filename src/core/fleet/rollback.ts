/**
 * A fleet rollback after a passed pre-check: the environment lock on every selected host (fixed order,
 * all or nothing), one operation id for every host, then the rollout (rollout.ts) with each host's own
 * rollback (RollbackEngine.runHeld: today's one-host phases under the fleet's lock, or convergence for
 * a host already on the target), and every lock released at the end.
 *
 * Each host keeps its own journal and history entry in its own state_dir, so a kill -9 in the middle
 * leaves a journal on every host it reached (reported per host by the next command), and `history`
 * of the environment merges the hosts' entries by the shared operation id.
 */
import { recordBrokenLock } from '../engine/lock.js';
import { newEntryId } from '../engine/history.js';
import { RollbackEngine, type EngineOptions } from '../engine/engine.js';
import { formatIdentity, currentIdentity } from '../engine/identity.js';
import type { EngineEvent, RollbackKind, RollbackRequest, RollbackResult } from '../engine/types.js';
import { acquireFleetLock } from './lock.js';
import type { FleetMember, OpenFleet } from './open.js';
import type { FleetPrecheck } from './precheck.js';
import { fleetExit, runRollout, type HostRun, type RolloutEvents, type RolloutOutcome, type RolloutSettings } from './rollout.js';

export interface FleetRollbackOptions extends RolloutEvents {
  open: OpenFleet;
  /** A passed pre-check: its target and each host's live release are what runs (and what was confirmed). */
  precheck: FleetPrecheck;
  settings: RolloutSettings;
  kind: RollbackKind;
  reason: string;
  trigger: string;
  explanation?: string;
  breakLock?: boolean;
  signal?: AbortSignal;
  engine?: EngineOptions;
  /** Every host's engine events, with the host's name. */
  onEvent?: (host: string, e: EngineEvent) => void;
  onWarning?: (host: string, message: string) => void;
}

export interface FleetRollbackResult extends RolloutOutcome {
  operationId: string;
  ok: boolean;
  exitCode: 0 | 1 | 2;
  /** Each worked-on host's own rollback result (incident report, warnings). */
  results: Map<string, RollbackResult>;
  durationMs: number;
}

/** A host's one-host result as its status in the fleet. */
export function hostRunOf(r: RollbackResult, skipped: boolean): HostRun {
  const switched = r.steps.some((s) => s.name === 'switch' && s.status === 'ok');
  const status: HostRun['status'] = skipped
    ? 'skipped'
    : r.ok
      ? r.kind === 'emergency'
        ? 'switched'
        : 'verified'
      : r.exit_code === 2
        ? 'verify_failed'
        : 'failed';
  return {
    status,
    from: r.from,
    to: r.to,
    verification: r.verification,
    steps: r.steps,
    duration_ms: r.duration_ms,
    error: r.ok ? null : (r.error ?? 'failed') + (switched && status === 'failed' ? ` (switched to ${r.to})` : ''),
  };
}

export async function runFleetRollback(o: FleetRollbackOptions): Promise<FleetRollbackResult> {
  const started = Date.now();
  const { open, precheck } = o;
  if (!precheck.ok || precheck.target === null) throw new Error(`runFleetRollback needs a passed pre-check (${precheck.message})`);
  const target = precheck.target;
  const operationId = newEntryId();
  const identity = o.engine?.identity ?? currentIdentity();
  const byName = new Map<string, FleetMember>(open.members.map((m) => [m.host.name, m]));
  const checked = new Map(precheck.hosts.map((h) => [h.name, h]));
  const emergency = o.kind === 'emergency';

  const lock = await acquireFleetLock(open.members, {
    operationId,
    operation: 'rollback',
    user: identity.user,
    initiatedBy: formatIdentity(identity),
    version: o.engine?.version ?? '0.0.0',
    staleMinutes: open.fleet.env.policy.rollback.stale_lock_minutes,
    ...(o.breakLock ? { breakLock: true } : {}),
    ...(o.engine?.lockRefreshMs !== undefined ? { refreshMs: o.engine.lockRefreshMs } : {}),
    onWarning: (host, m) => o.onWarning?.(host, m),
  });
  const results = new Map<string, RollbackResult>();
  try {
    for (const [name, l] of lock.locks) {
      const m = byName.get(name);
      if (m && l.brokeLock) {
        await recordBrokenLock(m.handle, l.brokenOwner, { reason: o.reason, who: formatIdentity(identity), identity }, (msg) => o.onWarning?.(name, msg));
      }
    }
    const outcome = await runRollout({
      ...o,
      hosts: precheck.hosts.map((h) => ({ name: h.name, from: h.live })),
      excluded: precheck.excluded.map((name) => ({ name, from: null })),
      to: target,
      settings: o.settings,
      emergency,
      ...(o.signal ? { signal: o.signal } : {}),
      runHost: async (name, signal) => {
        const m = byName.get(name);
        const held = lock.locks.get(name);
        const h = checked.get(name);
        if (!m || !held || !h) throw new Error(`${name} is not a selected host`);
        const engine = new RollbackEngine(m.handle, { ...o.engine, identity });
        const req: RollbackRequest = {
          env: m.host.env.name,
          kind: o.kind,
          to: target,
          reason: o.reason,
          trigger: o.trigger,
          ...(o.explanation ? { explanation: o.explanation } : {}),
          // What the pre-check saw (and the operator confirmed) is what runs: live moved meanwhile, nothing is done there.
          expectFrom: h.live,
          ...(signal ? { signal } : {}),
        };
        const { skipped, result } = await engine.runHeld(
          req,
          { lock: held, operationId, host: name },
          (e) => o.onEvent?.(name, e),
          h.onTarget && h.live !== null ? { live: h.live } : undefined,
        );
        results.set(name, result);
        return hostRunOf(result, skipped);
      },
    });
    const exit = fleetExit(outcome.hosts, { emergency });
    return { ...outcome, operationId, ok: exit.ok, exitCode: exit.exitCode, results, durationMs: Date.now() - started };
  } finally {
    await lock.release().catch((err: Error) => o.onWarning?.(open.fleet.env.name, err.message));
  }
}
