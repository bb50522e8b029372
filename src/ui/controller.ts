/**
 * The console's controller: wires the real Monitor and RollbackEngine, the backup store and the history
 * log into the pure reducer, and carries out the side effects the operator asks for (plan a rollback,
 * run it, read an incident report, pause automation). It owns a tiny store (getState / subscribe /
 * dispatch) that the React tree reads with useSyncExternalStore; components never call the engine.
 */
import type { ResolvedEnvironment } from '../core/config/schema.js';
import type { EngineHandle, RollbackEngine } from '../core/engine/engine.js';
import { describeOwner } from '../core/engine/lock.js';
import { readHistory } from '../core/engine/index.js';
import type { Monitor } from '../core/monitor/monitor.js';
import type { MonitorEvent } from '../core/monitor/types.js';
import type { Backup } from '../core/stores/types.js';
import { TransportError } from '../core/exec/errors.js';
import { validateExtraActions, type ExtraAction, type KeyPress } from './keybindings.js';
import { age } from './format.js';
import { routeKey, splitChunk, type Intent } from './state/input.js';
import { initialState, isRunning, reducer } from './state/reducer.js';
import type { Action, AppState, LogLevel, RunRequest } from './state/types.js';
import { envInfoOf, errorMessage as message } from './environment.js';
import { FrameQueue, WallClock, type ClockSource } from './timing.js';
import { loadFleetPreview, runFleetFromConsole, type ConsoleFleetRunner } from './fleet-run.js';
import { loadEnginePlan, loadIncidentReport, runOnEngine } from './engine-effects.js';

export { envInfoOf };

/** An extra console action (RunConsoleOptions.demoActions): bound in the keybinding table, run here. */
export interface ConsoleAction extends ExtraAction {
  run(): Promise<void>;
}

export type { ClockSource };

export interface ControllerDeps {
  env: ResolvedEnvironment;
  handle: EngineHandle;
  engine: Pick<RollbackEngine, 'plan' | 'run' | 'lockOwner' | 'interrupted'>;
  monitor: Pick<Monitor, 'on' | 'start' | 'stop' | 'getState' | 'pauseAutomation' | 'resumeAutomation' | 'cancelPendingRollback'>;
  /** Who the operator is in history ("alice@ops-1"). */
  actor: string;
  /** Non-fatal startup warnings (theme fallback ...), shown in the events pane. */
  warnings?: string[];
  /** Poll intervals (tests shorten them). */
  lockPollMs?: number;
  historyLimit?: number;
  /** Extra actions appended to the keybinding table (the demo's redeploy). */
  extraActions?: readonly ConsoleAction[];
  /** Monitor events are applied at most once per this many ms (default 100: one state update per frame). */
  frameMs?: number;
  /** On a fleet: the rollback keys preview and run a fleet rollback (every host, one target) through this. */
  fleet?: ConsoleFleetRunner;
  /** The first listing of the backups, already under way: the first refresh takes it instead of listing again. */
  firstBackups?: Promise<Backup[]>;
}

/** The age texts on screen (live release in the header, backups): the tick re-renders when they change. */
function ageText(state: AppState, now: number): string {
  return state.backups.map((b) => age(b.createdMs, now)).join(' ');
}

export class ConsoleController {
  private state: AppState;
  private readonly listeners = new Set<() => void>();
  private readonly timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private runAbort: AbortController | null = null;
  private exitResolve: ((code: number) => void) | null = null;
  private readonly exitPromise: Promise<number>;
  private started = false;
  private stopped = false;
  private tickTimer: NodeJS.Timeout | null = null;
  private readonly monitorQueue: FrameQueue<{ event: MonitorEvent; at: number }>;
  private readonly extraRuns = new Map<string, () => Promise<void>>();
  private extraBusy: string | null = null;
  /** Ends once the monitor has stopped, an automatic rollback in progress included. */
  private monitorLoop: Promise<void> = Promise.resolve();
  private firstBackups: Promise<Backup[]> | null;

  constructor(private readonly deps: ControllerDeps) {
    const extra = (deps.extraActions ?? []).map(({ run, ...data }) => {
      this.extraRuns.set(data.id, run);
      return data;
    });
    validateExtraActions(extra);
    this.firstBackups = deps.firstBackups ?? null;
    this.state = initialState(envInfoOf(deps.env), Date.now(), extra);
    this.monitorQueue = new FrameQueue(deps.frameMs ?? 100, (events) => this.flushMonitorEvents(events));
    this.exitPromise = new Promise((resolve) => {
      this.exitResolve = resolve;
    });
    for (const w of deps.warnings ?? []) this.log('warning', w);
  }

  // ------------------------------------------------------------------ store

  getState = (): AppState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  dispatch = (action: Action): void => {
    const prev = this.state;
    this.state = reducer(prev, action);
    if (this.state === prev) return;
    this.notify();
    this.afterDispatch(prev);
  };

  private notifyScheduled = false;

  /**
   * Tell the view once per event-loop turn: one monitor tick emits several events (sample, triggers,
   * state) and they become one render, which keeps the idle console cheap.
   */
  private notify(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      for (const l of this.listeners) l();
    });
  }

  /** The header clock: ticks every second without touching the app state (only the clock re-renders). */
  readonly clock = new WallClock();

  /** Quit the way `q` does, confirmed: nothing to ask when idle; a running rollback is aborted safely first. */
  requestQuit(): void {
    this.dispatch({ type: 'quit' });
    if (this.state.dialog?.type === 'quit') this.dispatch({ type: 'dialog/yes' });
  }

  /** Resolves with the exit code when the operator quits. */
  waitForExit(): Promise<number> {
    return this.exitPromise;
  }

  private log(level: LogLevel, text: string): void {
    this.dispatch({ type: 'log', line: { at: Date.now(), level, source: 'console', text } });
  }

  private afterDispatch(prev: AppState): void {
    const s = this.state;
    if (s.pendingRun && !prev.pendingRun) {
      const req = s.pendingRun;
      this.dispatch({ type: 'run/taken' });
      this.startRun(req);
    }
    if (s.quitting && !prev.quitting) void this.quit();
    if (isRunning(s) !== isRunning(prev)) this.scheduleTick();
  }

  // ------------------------------------------------------------------ lifecycle

  start(): void {
    if (this.started) return;
    this.started = true;
    const { monitor } = this.deps;
    this.unsubscribe = monitor.on((event) => this.queueMonitorEvent(event));
    this.dispatch({ type: 'monitor/state', state: monitor.getState() });
    this.monitorLoop = monitor.start().catch((err: unknown) => this.log('error', `monitor stopped: ${message(err)}`));
    this.scheduleTick();
    this.clock.start();
    const lockPoll = setInterval(() => void this.checkLock(), this.deps.lockPollMs ?? 5000);
    lockPoll.unref();
    this.timers.push(lockPoll);
    void this.refresh();
    void this.checkInterrupted();
  }

  /**
   * Monitor events (one check emits a sample, trigger changes and its state, across several turns) are
   * queued and applied together at most once per frame, so an idle check costs one render.
   */
  private queueMonitorEvent(event: MonitorEvent): void {
    if (!this.stopped) this.monitorQueue.push({ event, at: Date.now() });
  }

  private flushMonitorEvents(events: { event: MonitorEvent; at: number }[]): void {
    if (this.stopped) return;
    this.dispatch({ type: 'monitor/events', events });
    let refreshAll = false;
    let refreshBackups = false;
    for (const { event } of events) {
      if (event.type === 'rollback' && event.phase === 'finished') refreshAll = true;
      if (event.type === 'state' && event.state.live !== this.state.backups.find((b) => b.current)?.name) refreshBackups = true;
      // A healthy baseline marks its release known-good (before the event): show the mark.
      if (event.type === 'baseline' && event.baseline.healthy && !this.state.backups.some((b) => b.name === event.baseline.release && b.knownGood)) {
        refreshBackups = true;
      }
    }
    if (refreshAll) void this.refresh();
    else if (refreshBackups) void this.refreshBackups();
  }

  /**
   * The app state's time: 10 updates/s while a rollback runs (spinner, elapsed times); otherwise only when
   * a shown age would change ("45s" every second, "12m" once a minute). The header clock ticks apart.
   */
  private scheduleTick(): void {
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.stopped) return;
    if (isRunning(this.state)) {
      this.tickTimer = setInterval(() => this.dispatch({ type: 'tick', now: Date.now() }), 100);
    } else {
      this.tickTimer = setInterval(() => {
        const now = Date.now();
        if (ageText(this.state, now) !== ageText(this.state, this.state.now)) this.dispatch({ type: 'tick', now });
      }, 1000);
    }
    this.tickTimer.unref();
  }

  /** Stop everything this controller started (idempotent). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearInterval(t);
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.clock.stop();
    this.monitorQueue.stop();
    this.deps.monitor.stop();
  }

  private async quit(): Promise<void> {
    if (this.running) {
      // Confirmed while a rollback runs: abort it (the engine finishes the current step, undoes what it
      // safely can and releases the lock), then leave.
      this.runAbort?.abort();
      this.log('warning', 'quitting: waiting for the rollback to stop safely…');
      await this.running.catch(() => undefined);
    } else if ((this.state.fleetRun?.auto && this.state.fleetRun.finishedAt === null) || this.state.banners.auto?.phase === 'running') {
      // The monitor's own rollback: stopping the monitor aborts it through the engine's signal (it finishes
      // the current step and releases the lock); the connections stay open until then.
      this.log('warning', `quitting: waiting for the automatic ${this.state.fleetRun?.auto ? 'fleet ' : ''}rollback to stop safely…`);
      this.deps.monitor.stop();
      await this.monitorLoop;
    }
    this.stop();
    this.exitResolve?.(0);
  }

  // ------------------------------------------------------------------ data

  async refresh(): Promise<void> {
    await Promise.all([this.refreshBackups(), this.refreshHistory(), this.checkLock()]);
  }

  async refreshBackups(): Promise<void> {
    const first = this.firstBackups;
    this.firstBackups = null;
    try {
      const backups = await (first ?? this.deps.handle.store.list({ sizes: true }));
      this.dispatch({ type: 'backups/loaded', backups });
      if (this.state.banners.unreachable) this.dispatch({ type: 'banner/unreachable', message: null });
    } catch (err) {
      if (err instanceof TransportError) {
        this.dispatch({ type: 'banner/unreachable', message: `${this.state.env.host}: ${message(err)}` });
      }
      this.dispatch({ type: 'backups/error', message: message(err) });
    }
  }

  async refreshHistory(): Promise<void> {
    try {
      const r = await readHistory(this.deps.handle, { limit: this.deps.historyLimit ?? 50 });
      this.dispatch({ type: 'history/loaded', history: r.entries });
    } catch (err) {
      this.log('error', `reading history failed: ${message(err)}`);
    }
  }

  async checkLock(): Promise<void> {
    try {
      const owner = await this.deps.engine.lockOwner();
      const text = owner ? describeOwner(this.state.env.name, owner) : null;
      if (text !== this.state.lockOwner) this.dispatch({ type: 'lock/owner', owner: text });
    } catch (err) {
      if (err instanceof TransportError) this.dispatch({ type: 'banner/unreachable', message: message(err) });
    }
  }

  async checkInterrupted(): Promise<void> {
    try {
      const r = await this.deps.engine.interrupted();
      this.dispatch({ type: 'banner/interrupted', message: r ? `${r.message}. ${r.hint}` : null });
    } catch (err) {
      if (err instanceof TransportError) this.dispatch({ type: 'banner/unreachable', message: message(err) });
    }
  }

  // ------------------------------------------------------------------ input and intents

  /** Route one input chunk (from ink's useInput); each press sees the state the previous one left. */
  handleKey = (press: KeyPress): void => {
    for (const p of splitChunk(this.state, press)) this.handleIntent(routeKey(this.state, p));
  };

  handleIntent(intent: Intent): void {
    switch (intent.kind) {
      case 'none':
        return;
      case 'refused':
        // The key applies here but cannot act now: say why rather than swallow it (once while it is the
        // newest line, so a key pressed again and again does not push everything else out of the pane).
        if (this.state.events.at(-1)?.text !== intent.text) this.log('warning', intent.text);
        return;
      case 'dispatch':
        this.dispatch(intent.action);
        return;
      case 'openRollback': {
        const before = this.state.dialog;
        this.dispatch({ type: 'dialog/openRollback', kind: intent.rollback, dryRun: intent.dryRun, target: intent.target });
        if (this.state.dialog !== before) void this.loadPlan();
        return;
      }
      case 'openHistory': {
        const entry = this.state.history[intent.index];
        if (!entry) return;
        this.dispatch({ type: 'dialog/openHistory', entry });
        void this.loadReport(entry.incident_report);
        return;
      }
      case 'toggleAutomation':
        void this.toggleAutomation();
        return;
      case 'cancelPending': {
        const ok = this.deps.monitor.cancelPendingRollback(this.deps.actor);
        if (ok) this.dispatch({ type: 'auto/cancelled' });
        else this.log('info', 'no automatic rollback is pending');
        return;
      }
      case 'extraAction':
        void this.runExtra(intent.id);
        return;
    }
  }

  /**
   * Run an extra action (the demo's redeploy). Refused while a rollback runs (ours or the monitor's) or
   * the lock is held: it would race the rollback's service restarts. One at a time.
   */
  async runExtra(id: string): Promise<void> {
    const run = this.extraRuns.get(id);
    const action = this.state.extraActions.find((a) => a.id === id);
    if (!run || !action) return;
    const phase = this.deps.monitor.getState().phase;
    if (isRunning(this.state) || this.running || phase === 'rolling_back') {
      this.log('warning', `${action.label}: refused, a rollback is running; try again when it has finished`);
      return;
    }
    if (this.state.lockOwner) {
      this.log('warning', `${action.label}: refused, the lock is held (${this.state.lockOwner})`);
      return;
    }
    if (this.extraBusy) {
      this.log('info', `${action.label}: refused, ${this.extraBusy} is still running`);
      return;
    }
    this.extraBusy = action.label;
    this.log('info', `${action.label}: started (${action.description})`);
    try {
      await run();
      if (this.stopped) return;
      this.log('success', `${action.label}: done; the monitor picks up the live release on its next check`);
      await this.refresh();
    } catch (err) {
      if (!this.stopped) this.log('error', `${action.label} failed: ${message(err)}`);
    } finally {
      this.extraBusy = null;
    }
  }

  private async loadPlan(): Promise<void> {
    const d = this.state.dialog;
    if (d?.type !== 'rollback') return;
    if (this.deps.fleet) return loadFleetPreview(this.deps.fleet, d, this.dispatch);
    return loadEnginePlan(this.deps.engine, this.state.env.name, d, this.dispatch);
  }

  private async loadReport(file: string | undefined): Promise<void> {
    if (file) await loadIncidentReport(this.deps.handle, file, this.dispatch);
  }

  private async toggleAutomation(): Promise<void> {
    const m = this.deps.monitor;
    try {
      if (m.getState().automation === 'paused') await m.resumeAutomation(this.deps.actor);
      else await m.pauseAutomation(this.deps.actor);
      this.dispatch({ type: 'monitor/state', state: m.getState() });
      await this.refreshHistory();
    } catch (err) {
      this.log('error', `pause/resume failed: ${message(err)}`);
    }
  }

  private startRun(req: RunRequest): void {
    if (this.running) return;
    if (this.extraBusy) {
      // The demo's redeploy restarts the service: a rollback now would race it.
      this.log('warning', `rollback refused: ${this.extraBusy} is still running; try again when it has finished`);
      return;
    }
    const abort = new AbortController();
    this.runAbort = abort;
    // A fleet rolls back as one (every host, one target); one host through its engine.
    const run = this.deps.fleet
      ? runFleetFromConsole(this.deps.fleet, req, abort.signal, this.dispatch)
      : runOnEngine(this.deps.engine, this.state.env.name, req, abort.signal, this.dispatch);
    this.running = run.finally(async () => {
      this.running = null;
      this.runAbort = null;
      if (!this.stopped) await this.refresh();
    });
  }
}
