/**
 * The console on a fleet: the fleet monitor behind the controller's one-monitor interface. The
 * controller gets the fleet's alerts, automatic fleet rollbacks and each host's trigger changes as
 * events (named with the host), and a state whose live release is the one most hosts run; the Hosts
 * panel and each host's charts get the fleet's own reports (`fleet/state`, `fleet/sample`) through
 * `feed`, and so does an automatic fleet rollback: the grid and per-host result of the fleet-run slice.
 * Plain TypeScript: no ink here.
 */
import type { ResolvedEnvironment } from '../core/config/schema.js';
import { RollbackEngine, type EngineOptions } from '../core/engine/engine.js';
import type { EnvironmentHandle } from '../core/environment.js';
import { idleHost, openFleet, resolveFleet, type FleetMember } from '../core/fleet/index.js';
import { FleetMonitor, type FleetMonitorEvent, type FleetMonitorState } from '../core/monitor/fleet-monitor.js';
import { precheckedFleetRunner, type FleetRollbackOutcome } from '../core/monitor/fleet-rollback.js';
import { fleetRollbackText } from '../core/monitor/fleet-format.js';
import type { Monitor } from '../core/monitor/monitor.js';
import type { MonitorEvent, MonitorPhase, MonitorState } from '../core/monitor/types.js';
import { majorityRelease } from './state/slices/fleet.js';
import { consoleFleetRunner, type ConsoleFleetRunner, type FleetRunOutcome } from './fleet-run.js';
import type { AutoRun, FleetRun } from './state/slices/fleet-run.js';
import type { Action, AppState } from './state/types.js';

export type ConsoleMonitor = Pick<Monitor, 'on' | 'start' | 'stop' | 'getState' | 'pauseAutomation' | 'resumeAutomation' | 'cancelPendingRollback'>;

function phaseOf(fs: FleetMonitorState): MonitorPhase {
  if (fs.phase !== 'watching') return fs.phase;
  if (fs.triggers.some((t) => t.verdict.holds)) return 'triggered';
  return fs.hosts.some((h) => h.state.phase === 'baseline') ? 'baseline' : 'watching';
}

/** The fleet as one monitor state (for the header and the keys): the common release, the fleet's phase. */
export function fleetAsMonitorState(fs: FleetMonitorState): MonitorState {
  return {
    env: fs.env,
    phase: phaseOf(fs),
    live: majorityRelease(fs.hosts.map((h) => h.state.live)),
    baseline: null,
    baselineProgress: null,
    triggers: [],
    automation: fs.automation,
    graceRemainingSeconds: fs.graceRemainingSeconds,
    consecutiveInconclusive: 0,
    lastSample: null,
  };
}

/** A fleet event as the controller's monitor event (null: nothing for the events pane). */
function asMonitorEvent(e: FleetMonitorEvent): MonitorEvent | null {
  switch (e.type) {
    case 'alert':
      return { type: 'alert', env: e.env, severity: e.severity, message: e.message };
    case 'fleet_state':
      return { type: 'state', env: e.env, state: fleetAsMonitorState(e.state) };
    case 'fleet_rollback':
      return { type: 'alert', env: e.env, severity: e.phase === 'finished' && e.outcome.ok ? 'info' : 'critical', message: fleetRollbackText(e) };
    case 'host':
      if (e.event.type === 'alert') return { ...e.event, message: `${e.host}: ${e.event.message}` };
      if (e.event.type === 'trigger') return { ...e.event, trigger: { ...e.event.trigger, explanation: `${e.host}: ${e.event.trigger.explanation}` } };
      return null;
    case 'stopped':
      return { type: 'stopped', env: e.env, reason: e.reason };
    // A rollback in progress goes to the grid (autoRunAction); the hosts' end lines are logged from there.
    case 'fleet_rollback_plan':
    case 'fleet_rollback_host':
    case 'fleet_rollback_note':
      return null;
  }
}

/** The monitor's outcome as the grid's result: the left-out hosts as rows, and what the operator should know. */
function autoOutcome(o: FleetRollbackOutcome, run: FleetRun, auto: AutoRun): FleetRunOutcome {
  const to = o.to ?? run.to;
  const leftOut = auto.leftOut.map((h) => idleHost(h.name, h.live, to, 'excluded'));
  const names = auto.leftOut.map((h) => h.name);
  const said =
    names.length === 0
      ? []
      : [`${names.join(', ')} ${names.length === 1 ? 'was' : 'were'} unreachable and left out: the monitor rolls ${names.length === 1 ? 'it' : 'them'} back once reachable again on the release the fleet fled`];
  return { ok: o.ok, exitCode: o.exit_code, dryRun: false, to, hosts: [...o.hosts, ...leftOut], stopped: o.stopped ?? null, advice: [...(o.advice ?? []), ...said], operationId: o.operation_id ?? null };
}

/**
 * The fleet monitor's automatic rollback as the fleet-run slice's actions, so it shows as a rollback
 * started here does: the grid while it runs, then the per-host result ([auto]) until Esc. A rollback the
 * operator started here keeps the screen: the monitor's, refused then by the held locks, is said in the
 * events pane only. Null: nothing for the grid.
 */
export function autoRunAction(e: FleetMonitorEvent, state: Pick<AppState, 'fleetRun' | 'fleet'>, at: number): Action | null {
  const run = state.fleetRun;
  if (e.type === 'fleet_rollback' && e.phase === 'started') {
    if (run !== null && run.finishedAt === null && run.auto === null) return null;
    const live = (name: string): string | null => state.fleet?.hosts.find((h) => h.name === name)?.live ?? null;
    return { type: 'fleetRun/autoStarted', auto: { trigger: e.trigger, leftOut: e.left_out.map((name) => ({ name, live: live(name) })) }, hosts: e.hosts, at };
  }
  const auto = run?.finishedAt === null ? run.auto : null;
  if (!run || !auto) return null;
  switch (e.type) {
    case 'fleet_rollback_plan':
      return { type: 'fleetRun/planned', plan: e.plan, at };
    case 'fleet_rollback_host':
      if (e.phase === 'start') return { type: 'fleetRun/hostStart', host: e.host, batch: e.batch, at };
      if (e.phase === 'step') return { type: 'fleetRun/event', host: e.host, event: e.event, at };
      return { type: 'fleetRun/hostEnd', result: e.result, at };
    case 'fleet_rollback_note':
      return { type: 'fleetRun/note', level: e.level, text: e.text, at };
    case 'fleet_rollback':
      // Refused before any change (a host's lock, live moved, no common target): why, each host named.
      if (e.outcome.error !== undefined) return { type: 'fleetRun/failed', message: e.outcome.error, at };
      return { type: 'fleetRun/finished', outcome: autoOutcome(e.outcome, run, auto), at };
    default:
      return null;
  }
}

export function fleetConsoleMonitor(fleet: FleetMonitor): ConsoleMonitor {
  return {
    on: (listener) =>
      fleet.on((e) => {
        const m = asMonitorEvent(e);
        if (m) listener(m);
      }),
    start: () => fleet.start(),
    stop: () => fleet.stop(),
    getState: () => fleetAsMonitorState(fleet.getState()),
    pauseAutomation: (by) => Promise.resolve(fleet.pause(by)),
    resumeAutomation: (by) => Promise.resolve(fleet.resume(by)),
    cancelPendingRollback: (by) => fleet.cancelPending(by),
  };
}

/** How often the Hosts panel looks at each host's lock. */
const LOCK_POLL_MS = 5000;

/**
 * The fleet's own reports into the console's state: the Hosts panel rows, each host's series and lock;
 * after an automatic fleet rollback the backups and history are read again (they changed on every host).
 */
export function feed(
  opened: OpenedFleetConsole,
  ui: { dispatch: (a: Action) => void; refresh: () => Promise<void>; subscribe?: (l: () => void) => () => void; getState?: () => AppState },
): () => void {
  const { fleet } = opened;
  ui.dispatch({ type: 'fleet/state', state: fleet.getState() });
  const pollLocks = async (): Promise<void> => {
    for (const [host, owner] of Object.entries(await opened.lockOwners())) ui.dispatch({ type: 'fleet/lock', host, owner });
  };
  void pollLocks();
  const timer = setInterval(() => void pollLocks(), LOCK_POLL_MS);
  timer.unref();
  // A fleet rollback from the console takes every host's lock and releases it at the end: look again
  // when it starts and when it ends rather than show a lock that is gone for up to one poll.
  let runPhase: string | null = null;
  const offRun = ui.subscribe?.(() => {
    const run = ui.getState?.().fleetRun ?? null;
    const phase = run === null ? null : run.finishedAt === null ? `running ${run.startedAt}` : `done ${run.startedAt}`;
    if (phase !== runPhase && phase !== null) void pollLocks();
    runPhase = phase;
  });
  const off = fleet.on((e) => {
    const auto = ui.getState ? autoRunAction(e, ui.getState(), Date.now()) : null;
    if (auto) ui.dispatch(auto);
    if (e.type === 'fleet_state') ui.dispatch({ type: 'fleet/state', state: e.state });
    else if (e.type === 'host' && e.event.type === 'sample') ui.dispatch({ type: 'fleet/sample', host: e.host, sample: e.event.sample });
    else if (e.type === 'fleet_rollback' && e.phase === 'finished') void ui.refresh();
  });
  return () => {
    clearInterval(timer);
    off();
    offRun?.();
  };
}

export interface OpenedFleetConsole {
  /** The first host's environment and engine: the backups, history and lock panels show that host. */
  handle: EnvironmentHandle;
  engine: RollbackEngine;
  monitor: ConsoleMonitor;
  fleet: FleetMonitor;
  /** The rollback keys' fleet rollback: preview, then every host to one target. */
  runner: ConsoleFleetRunner;
  /** Who holds each host's lock ("alice@ops-1 rollback"), null when free or unknown. */
  lockOwners(): Promise<Record<string, string | null>>;
  close(): Promise<void>;
}

/** Resolve and open the fleet, an engine per host, and the fleet monitor with the fleet rollback runner. */
export async function openFleetConsole(env: ResolvedEnvironment, engineOptions: EngineOptions, actor: string): Promise<OpenedFleetConsole> {
  const open = openFleet(await resolveFleet(env));
  const engines = new Map(open.members.map((m) => [m.host.name, new RollbackEngine(m.handle, engineOptions)]));
  const engineFor = (m: FleetMember): RollbackEngine => engines.get(m.host.name) as RollbackEngine;
  const first = open.members[0] as FleetMember;
  const fleet = new FleetMonitor({ fleet: open, engineFor, runner: precheckedFleetRunner(open, engineOptions), actor: `console:${actor}`, coordinate: { kind: 'console', ...(engineOptions.version !== undefined ? { version: engineOptions.version } : {}) } });
  const lockOwners = async (): Promise<Record<string, string | null>> => {
    const owners = await open.each(async (m) => {
      const owner = await engineFor(m).lockOwner();
      // Short for the panel's column: who and what ("alice@ops-1 rollback"); the banner has the rest.
      return owner ? `${owner.initiated_by ?? `${owner.user}@${owner.host}`} ${owner.operation}` : null;
    });
    // A host whose lock cannot be read shows none: its row says unreachable already.
    return Object.fromEntries(owners.map((o) => [o.name, o.result.status === 'fulfilled' ? o.result.value : null]));
  };
  const runner = consoleFleetRunner(open, engineOptions);
  return { handle: first.handle, engine: engineFor(first), monitor: fleetConsoleMonitor(fleet), fleet, runner, lockOwners, close: () => open.close() };
}
