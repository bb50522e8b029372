/**
 * The fleet-run slice: a fleet rollback the operator started from the console, as a host x step grid
 * (hosts as rows; stop, switch, start and verify as columns, each cell pending, running, ok, failed or
 * skipped), then, when it ends, each host's result and, for a stopped rollout on mixed releases, how to
 * go either way. It stays on screen until Esc or the next rollback dialog.
 *
 * An automatic fleet rollback of the fleet monitor is shown the same way, marked [auto] with its
 * trigger: it starts before its target is chosen (the pre-check runs first), the plan fills the grid in,
 * and the hosts it left out while unreachable are rows of their own.
 */
import type { EngineEvent, RollbackKind, StepName } from '../../../core/engine/types.js';
import { formatFleetSummary, type FleetHostResult, type FleetPlan, type HostStatus } from '../../../core/fleet/index.js';
import type { FleetRunOutcome } from '../../fleet-run.js';
import type { LogLevel } from '../types.js';

/** The grid's columns, in order: the steps that change a host (lock and bookkeeping steps are folded away). */
export const GRID_STEPS = ['stop', 'switch', 'start', 'verify'] as const satisfies readonly StepName[];
export type GridStep = (typeof GRID_STEPS)[number];
export type GridCell = 'pending' | 'running' | 'ok' | 'failed' | 'skipped';

export interface FleetHostProgress {
  name: string;
  /** The batch it runs in (0-based); null for a host already on the target or left out. */
  batch: number | null;
  cells: Record<GridStep, GridCell>;
  running: boolean;
  startedAt: number | null;
  /** Its end status (verified, verify_failed, untouched ...), null while waiting or running. */
  status: HostStatus | null;
  error: string | null;
}

/** The fleet monitor's rollback: the trigger that fired, and the unreachable hosts it left out (their live release then). */
export interface AutoRun {
  trigger: string;
  leftOut: Array<{ name: string; live: string | null }>;
}

export interface FleetRun {
  kind: RollbackKind;
  /** The fleet monitor's automatic rollback; null: the operator's, started here. */
  auto: AutoRun | null;
  dryRun: boolean;
  /** The target ('' while an automatic rollback's pre-check is still choosing it). */
  to: string;
  /** "parallel, batches of 3, max_failures 0". */
  rollout: string;
  startedAt: number;
  finishedAt: number | null;
  hosts: FleetHostProgress[];
  /** The last note of the rollout (pause, stop), shown under the title. */
  note: string | null;
  outcome: FleetRunOutcome | null;
  /** The run was refused or failed before any host's result (nothing changed, or see the events). */
  error: string | null;
}

export type FleetRunAction =
  | { type: 'fleetRun/started'; kind: RollbackKind; dryRun: boolean; plan: FleetPlan; at: number }
  | { type: 'fleetRun/autoStarted'; auto: AutoRun; hosts: string[]; at: number }
  | { type: 'fleetRun/planned'; plan: FleetPlan; at: number }
  | { type: 'fleetRun/hostStart'; host: string; batch: number; at: number }
  | { type: 'fleetRun/event'; host: string; event: EngineEvent; at: number }
  | { type: 'fleetRun/hostEnd'; result: FleetHostResult; at: number }
  | { type: 'fleetRun/note'; level: 'info' | 'warning'; text: string; at: number }
  | { type: 'fleetRun/finished'; outcome: FleetRunOutcome; at: number }
  | { type: 'fleetRun/failed'; message: string; at: number };

const PENDING: Record<GridStep, GridCell> = { stop: 'pending', switch: 'pending', start: 'pending', verify: 'pending' };
const SKIPPED: Record<GridStep, GridCell> = { stop: 'skipped', switch: 'skipped', start: 'skipped', verify: 'skipped' };
const isGridStep = (s: StepName): s is GridStep => (GRID_STEPS as readonly StepName[]).includes(s);

export function rolloutText(plan: FleetPlan): string {
  const s = plan.settings;
  return `${s.order}, batches of ${s.batch}, max_failures ${s.maxFailures}${s.pauseMs > 0 ? `, ${s.pauseMs / 1000} s pause` : ''}`;
}

const waiting = (name: string, batch: number | null, excluded: boolean): FleetHostProgress => ({
  name,
  batch,
  cells: excluded ? SKIPPED : PENDING,
  running: false,
  startedAt: null,
  status: excluded ? 'excluded' : null,
  error: null,
});

/** The grid's rows of a plan: each host's batch, hosts left out skipped in every column. */
function planRows(plan: FleetPlan): FleetHostProgress[] {
  const batchOf = new Map<string, number>();
  plan.batches.forEach((names, i) => names.forEach((n) => batchOf.set(n, i)));
  return plan.hosts.map((h) => waiting(h.name, batchOf.get(h.name) ?? null, h.status === 'excluded'));
}

export function startFleetRun(a: Extract<FleetRunAction, { type: 'fleetRun/started' }>): FleetRun {
  const run = { kind: a.kind, auto: null, dryRun: a.dryRun, to: a.plan.to, rollout: rolloutText(a.plan), startedAt: a.at, finishedAt: null, note: null, outcome: null, error: null };
  return { ...run, hosts: planRows(a.plan) };
}

/** The fleet monitor's rollback as it starts: its hosts waiting for the pre-check, the left-out ones apart. */
function startAutoRun(a: Extract<FleetRunAction, { type: 'fleetRun/autoStarted' }>): FleetRun {
  const hosts = [...a.hosts.map((n) => waiting(n, null, false)), ...a.auto.leftOut.map((h) => waiting(h.name, null, true))];
  return { kind: 'standard', auto: a.auto, dryRun: false, to: '', rollout: 'pre-check of every host', startedAt: a.at, finishedAt: null, hosts, note: null, outcome: null, error: null };
}

function updateHost(r: FleetRun, name: string, f: (h: FleetHostProgress) => FleetHostProgress): FleetRun {
  return { ...r, hosts: r.hosts.map((h) => (h.name === name ? f(h) : h)) };
}

/** A step's cell from the engine's step end (a planned step never ran: it stays pending). */
function cellOf(status: 'ok' | 'failed' | 'skipped' | 'planned'): GridCell {
  return status === 'planned' ? 'pending' : status;
}

export function reduceFleetRun(r: FleetRun | null, a: FleetRunAction): FleetRun | null {
  if (a.type === 'fleetRun/started') return startFleetRun(a);
  if (a.type === 'fleetRun/autoStarted') return startAutoRun(a);
  if (!r) return r;
  switch (a.type) {
    case 'fleetRun/planned': {
      const rows = new Map(planRows(a.plan).map((h) => [h.name, h]));
      return { ...r, to: a.plan.to, rollout: rolloutText(a.plan), hosts: r.hosts.map((h) => rows.get(h.name) ?? h) };
    }
    case 'fleetRun/hostStart':
      return updateHost(r, a.host, (h) => ({ ...h, running: true, startedAt: a.at }));
    case 'fleetRun/event': {
      const e = a.event;
      if ((e.type !== 'step-start' && e.type !== 'step-end') || !isGridStep(e.step)) return r;
      const step = e.step;
      const cell: GridCell = e.type === 'step-start' ? 'running' : cellOf(e.status);
      return updateHost(r, a.host, (h) => ({ ...h, cells: { ...h.cells, [step]: cell } }));
    }
    case 'fleetRun/hostEnd':
      return updateHost(r, a.result.name, (h) => ({
        ...h,
        running: false,
        status: a.result.status,
        error: a.result.error,
        // A host already on the target and healthy changed nothing: its row says so in every column.
        cells: a.result.status === 'skipped' ? SKIPPED : h.cells,
      }));
    case 'fleetRun/note':
      return { ...r, note: a.text };
    case 'fleetRun/finished': {
      const byName = new Map(a.outcome.hosts.map((h) => [h.name, h]));
      const hosts = r.hosts.map((h) => {
        const res = byName.get(h.name);
        return res ? { ...h, running: false, status: res.status, error: res.error } : h;
      });
      return { ...r, hosts, finishedAt: a.at, outcome: a.outcome };
    }
    case 'fleetRun/failed':
      return { ...r, hosts: r.hosts.map((h) => ({ ...h, running: false })), finishedAt: a.at, error: a.message };
  }
}

/** One line per host of the result: "app-1 verified on r2", "app-2 verification failed: on r2, /health 500". */
export function hostResultLines(o: FleetRunOutcome): string[] {
  return o.hosts.map((h) => formatFleetSummary([h]));
}

/** The result's headline: what happened to the fleet as a whole. */
export function fleetRunHeadline(r: FleetRun): { text: string; level: LogLevel } {
  const auto = r.auto ? '[auto] ' : '';
  if (r.error) return { text: `✗ ${auto}Fleet rollback not done: ${r.error}`, level: 'error' };
  const o = r.outcome;
  if (!o) return { text: '', level: 'info' };
  if (o.dryRun) return { text: `✓ Dry run: the plan to ${o.to} is valid on every host. Nothing was changed.`, level: 'success' };
  const selected = o.hosts.filter((h) => h.status !== 'excluded');
  const count = (s: HostStatus): number => selected.filter((h) => h.status === s).length;
  const parts = (['verified', 'switched', 'skipped', 'verify_failed', 'failed', 'untouched', 'unreachable'] as const)
    .filter((s) => count(s) > 0)
    .map((s) => `${count(s)} ${s === 'skipped' ? 'already on it' : s.replace('_', ' ')}`);
  const tally = `${parts.join(', ')} of ${selected.length}`;
  if (o.ok) return { text: `✓ ${auto}Fleet rolled back to ${o.to}: ${tally}.`, level: 'success' };
  const why = o.stopped === 'canary' ? ' (the canary failed)' : o.stopped === 'max_failures' ? ' (too many failed hosts)' : o.stopped === 'aborted' ? ' (interrupted)' : '';
  return { text: `✗ ${auto}Fleet rollback to ${o.to} ${o.stopped ? 'STOPPED' : 'did not finish'}${why}: ${tally} (exit ${o.exitCode}).`, level: 'error' };
}

/**
 * The events-pane line of a fleet-run action, or null. `auto`: the run is the fleet monitor's, whose
 * start and end it logs itself (once).
 */
export function fleetRunLogLine(a: FleetRunAction, auto = false): { level: LogLevel; text: string } | null {
  if (auto && (a.type === 'fleetRun/finished' || a.type === 'fleetRun/failed')) return null;
  switch (a.type) {
    case 'fleetRun/event': {
      const e = a.event;
      if (e.type === 'step-end' && e.status === 'failed') return { level: 'error', text: `${a.host}: step ${e.step} failed${e.error ? `: ${e.error}` : ''}` };
      if (e.type === 'warning') return { level: 'warning', text: `${a.host}: ${e.message}` };
      return null;
    }
    case 'fleetRun/hostEnd': {
      const failed = a.result.status === 'failed' || a.result.status === 'verify_failed' || a.result.status === 'unreachable';
      return { level: failed ? 'error' : 'info', text: formatFleetSummary([a.result]) };
    }
    case 'fleetRun/note':
      return { level: a.level, text: a.text };
    case 'fleetRun/finished': {
      const line = formatFleetSummary(a.outcome.hosts);
      return { level: a.outcome.ok ? 'success' : 'error', text: `fleet ${a.outcome.dryRun ? 'dry run' : 'rollback'} finished (exit ${a.outcome.exitCode}): ${line}` };
    }
    case 'fleetRun/failed':
      return { level: 'error', text: a.message };
    default:
      return null;
  }
}
