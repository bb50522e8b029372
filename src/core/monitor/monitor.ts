/**
 * The monitor: samples the live release every `check_interval_seconds`, keeps the samples in a bounded
 * ring, evaluates the policy's triggers and, when one is breached and automation is armed, rolls back
 * through the engine. It is made of parts:
 * - the sampler (sampler.ts): one sample per tick, and blindness when samples stay inconclusive;
 * - the baseline tracker (baseline-tracker.ts): the live release and its baseline;
 * - the automatic rollback (auto-rollback.ts): grace countdown, re-check, attempts, escalation.
 * The Monitor itself keeps the loop, the state, the events and pause/resume.
 *
 * Everything it sees and does is an event for listeners (the `monitor` subcommand prints them, the
 * console renders them). Time comes from an injectable clock, so tests and the bench can run it on
 * simulated time.
 */
import type { Policy, ResolvedEnvironment } from '../config/schema.js';
import { appendHistoryTo, makeEntry } from '../engine/history.js';
import type { HistoryEntry } from '../engine/types.js';
import { AutomaticRollback, type AutomationHost } from './auto-rollback.js';
import { BaselineTracker } from './baseline-tracker.js';
import { Coordination, type CoordinationOptions } from './coordination.js';
import {
  realClock,
  type AlertNotification,
  type AlertSeverity,
  type MonitorClock,
  type MonitorContext,
  type MonitorEngine,
  type MonitorEnvironment,
  type MonitorNotifier,
} from './context.js';
import { RingBuffer, ringCapacity } from './ring.js';
import { Sampler } from './sampler.js';
import { errorText } from './sources/sample.js';
import { fmt } from './stats.js';
import { evaluateTriggers, firstBreached, intervalMs, longestWindowMs } from './triggers.js';
import type { MonitorEvent, MonitorPhase, MonitorState, Sample, TriggerState } from './types.js';

export { realClock };
export type { MonitorClock, MonitorEngine, MonitorEnvironment, MonitorNotifier };

export interface MonitorOptions {
  engine: MonitorEngine;
  /** Default: the engine's notifier when it has one. */
  notifier?: MonitorNotifier;
  clock?: MonitorClock;
  signal?: AbortSignal;
  /** Who the monitor acts as in history ("monitor@host"). */
  actor?: string;
  /**
   * Share automation with every other monitor and console of the environment through the monitor
   * lease (the `monitor` subcommand and the console do): one owner acts, the others observe.
   */
  coordinate?: CoordinationOptions;
}

export type MonitorListener = (e: MonitorEvent) => void;

/** How often an observer looks at the owner's status, at most. */
const OBSERVE_MS = 1000;

export class Monitor {
  readonly env: ResolvedEnvironment;
  private readonly policy: Policy;
  private readonly notifier: MonitorNotifier | undefined;
  private readonly clock: MonitorClock;
  private readonly listeners = new Set<MonitorListener>();
  private readonly ring: RingBuffer<Sample>;
  private readonly stopController = new AbortController();
  private readonly interval: number;
  private readonly ctx: MonitorContext;
  private readonly sampler: Sampler;
  private readonly tracker: BaselineTracker;
  private readonly automatic: AutomaticRollback;
  private readonly coordination: Coordination | null;

  private phase: MonitorPhase = 'starting';
  private triggers: TriggerState[] = [];
  private paused: { by: string } | null = null;
  private lastSample: Sample | null = null;
  /** Smoothed start-to-start time of recent ticks (ms), null before the second tick. */
  private tickPeriod: number | null = null;
  private lastTickAt: number | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly handle: MonitorEnvironment,
    options: MonitorOptions,
  ) {
    this.env = handle.env;
    this.policy = handle.env.policy;
    this.notifier = options.notifier ?? (options.engine as { notifier?: MonitorNotifier }).notifier;
    this.clock = options.clock ?? realClock;
    this.interval = intervalMs(this.policy);
    this.ring = new RingBuffer<Sample>(ringCapacity(longestWindowMs(this.policy), this.interval));
    this.ctx = {
      env: this.env,
      policy: this.policy,
      handle,
      engine: options.engine,
      clock: this.clock,
      signal: this.stopController.signal,
      interval: this.interval,
      actor: options.actor ?? 'monitor',
      emit: (e) => this.emit(e),
      alert: (severity, message, notify) => this.alert(severity, message, notify),
      record: (kind, by, reason, extra) => this.record(kind, by, reason, extra),
    };
    this.sampler = new Sampler(this.ctx);
    this.tracker = new BaselineTracker(this.ctx);
    this.automatic = new AutomaticRollback(this.ctx, this.automationHost());
    this.coordination = options.coordinate
      ? new Coordination(this.ctx, options.coordinate, {
          ownState: () => this.ownState(),
          pausedBy: () => this.paused?.by ?? null,
          keepPaused: (by) => {
            this.paused = { by };
          },
          pause: (by) => this.pauseAutomation(by),
          resume: (by) => this.resumeAutomation(by),
          cancel: (by) => this.automatic.cancelPending(by),
          stepDown: () => this.automatic.abortGrace(),
        })
      : null;
    if (options.signal) {
      if (options.signal.aborted) this.stopController.abort();
      else options.signal.addEventListener('abort', () => this.stop(), { once: true });
    }
  }

  private automationHost(): AutomationHost {
    return {
      live: () => this.tracker.live,
      triggers: () => this.triggers,
      paused: () => this.paused,
      automation: () => this.automation(),
      establishing: () => this.tracker.establishing,
      phase: () => this.phase,
      setPhase: (phase) => this.setPhase(phase),
      tick: () => this.tick(),
      adoptRelease: (live, now, options) => this.adoptRelease(live, now, options),
      pauseAutomation: (by) => this.pauseAutomation(by),
    };
  }

  /** Subscribe; returns the unsubscribe function. */
  on(listener: MonitorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The ring's capacity (samples kept at most). */
  get capacity(): number {
    return this.ring.capacity;
  }

  /** Samples currently held (at most `capacity`). */
  get sampleCount(): number {
    return this.ring.size;
  }

  get signal(): AbortSignal {
    return this.stopController.signal;
  }

  private emit(e: MonitorEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A listener's bug must not stop the monitor.
      }
    }
  }

  private alert(severity: AlertSeverity, message: string, notify?: AlertNotification): void {
    this.emit({ type: 'alert', env: this.env.name, severity, message });
    if (this.observing) return;
    this.coordination?.alerted(severity, message);
    if (notify) this.notifier?.notify({ ...notify, env: this.env.name, severity, title: message });
  }

  /** Another process owns automation: this one shows its state and never acts. */
  private get observing(): boolean {
    return this.coordination !== null && !this.coordination.owner;
  }

  private automation(): MonitorState['automation'] {
    if (!this.policy.enabled) return 'disabled';
    return this.paused ? 'paused' : 'armed';
  }

  getState(): MonitorState {
    return this.coordination?.observedState() ?? this.ownState();
  }

  private ownState(): MonitorState {
    return {
      env: this.env.name,
      phase: this.phase,
      live: this.tracker.live,
      baseline: this.tracker.baseline,
      baselineProgress: this.tracker.progress(this.clock.now()),
      triggers: this.triggers,
      automation: this.automation(),
      graceRemainingSeconds: this.automatic.graceRemaining,
      consecutiveInconclusive: this.sampler.consecutiveInconclusive,
      lastSample: this.lastSample,
      ...(this.coordination ? { automationOwner: this.coordination.automationOwner() } : {}),
    };
  }

  private setPhase(phase: MonitorPhase): void {
    if (phase === this.phase) return;
    this.phase = phase;
    this.coordination?.published();
  }

  /** Forget the windows: a different release is live (the tracker adopts it and its baseline). */
  private async adoptRelease(live: string | null, now: number, options: { rebaseline?: boolean } = {}): Promise<void> {
    this.ring.clear();
    this.sampler.reset();
    this.automatic.resetForRelease();
    this.setPhase(await this.tracker.adopt(live, now, options));
  }

  /**
   * One iteration without acting: read the live release, take one sample, evaluate the triggers,
   * establish the baseline when its window is complete. Used by the loop and by `monitor --once`.
   */
  async tick(): Promise<TriggerState[]> {
    const now = this.clock.now();
    if (this.lastTickAt !== null) {
      const period = now - this.lastTickAt;
      this.tickPeriod = this.tickPeriod === null ? period : this.tickPeriod * 0.8 + period * 0.2;
    }
    this.lastTickAt = now;
    if (this.coordination?.owner) await this.coordination.carryOutRequests();
    let live: string | null;
    try {
      live = await this.handle.store.live({ signal: this.stopController.signal });
    } catch (err) {
      this.alert('warning', `cannot read the live release: ${errorText(err)}`);
      live = this.tracker.live;
    }
    if (!this.tracker.known || live !== this.tracker.live) await this.adoptRelease(live, now);

    const sample = await this.sampler.take(now, live);
    this.ring.push(sample);
    this.lastSample = sample;
    this.emit({ type: 'sample', env: this.env.name, sample });
    const blindness = this.sampler.track(sample);
    if (blindness === 'blind' && !this.automatic.rolling && !this.automatic.escalated) this.setPhase('blind');

    const states = evaluateTriggers(this.effectivePolicy(), this.ring.toArray(), this.tracker.baseline, now);
    const before = new Map(this.triggers.map((t) => [t.name, t.status]));
    for (const t of states) {
      const previous = before.get(t.name) ?? 'collecting';
      if (previous !== t.status) this.emit({ type: 'trigger', env: this.env.name, trigger: t, previous });
    }
    this.triggers = states;
    this.automatic.onTriggers(states);
    if (firstBreached(states)) this.tracker.noteBreach();

    if (live !== null) await this.tracker.maybeEstablish(now, (since) => this.ring.filter((s) => s.at >= since));
    if (!this.automatic.rolling && !this.automatic.escalated && this.phase !== 'grace') {
      this.setPhase(
        this.sampler.blind ? 'blind' : !this.tracker.establishing || live === null ? (firstBreached(states) ? 'triggered' : 'watching') : 'baseline',
      );
    }
    this.coordination?.published(sample);
    this.emit({ type: 'state', env: this.env.name, state: this.getState() });
    return states;
  }

  /**
   * The policy as evaluated: when ticks take longer than check_interval_seconds (slow probes, an SSH
   * round trip, a loaded host), a window can never hold window / interval samples, so the samples a
   * window needs are counted from the interval actually achieved (smoothed), never from less than the
   * configured one.
   */
  private effectivePolicy(): Policy {
    const configured = this.policy.monitoring.check_interval_seconds;
    const achieved = (this.tickPeriod ?? 0) / 1000;
    if (achieved <= configured * 1.1) return this.policy;
    return { ...this.policy, monitoring: { ...this.policy.monitoring, check_interval_seconds: achieved } };
  }

  /** After a tick: roll back if a trigger is breached and automation allows it. */
  act(): Promise<void> {
    return this.automatic.act();
  }

  /** Start the loop (resolves when it has stopped). Calling it twice returns the same promise. */
  start(): Promise<void> {
    this.loop ??= this.run();
    return this.loop;
  }

  private async run(): Promise<void> {
    const signal = this.stopController.signal;
    this.alert(
      'info',
      `monitoring ${this.env.name} every ${fmt(this.interval / 1000)}s (automation ${this.automation()}, source ${this.env.metrics.source})`,
    );
    while (!signal.aborted) {
      const started = this.clock.now();
      let period = this.interval;
      try {
        if (this.coordination && !(await this.coordination.own())) {
          // Observers look often (a pause or a countdown shows soon), owners sample at the interval.
          period = Math.min(this.interval, OBSERVE_MS);
          await this.coordination.observe();
        } else {
          await this.tick();
          if (!signal.aborted) await this.act();
        }
      } catch (err) {
        if (signal.aborted) break;
        this.alert('warning', `monitor tick failed: ${errorText(err)}`);
      }
      if (signal.aborted) break;
      const elapsed = this.clock.now() - started;
      await this.clock.sleep(Math.max(0, period - elapsed), signal);
    }
    this.setPhase('stopped');
    await this.coordination?.close();
    this.emit({ type: 'stopped', env: this.env.name, reason: 'stopped' });
  }

  /** Stop the loop; a rollback in progress gets the abort through the engine's signal. */
  stop(): void {
    if (!this.stopController.signal.aborted) this.stopController.abort();
    this.automatic.abortGrace();
  }

  async pauseAutomation(by: string): Promise<void> {
    if (this.observing) return void (await this.coordination?.request('pause', by));
    this.paused = { by };
    this.automatic.abortGrace();
    this.alert('warning', `automatic rollback paused by ${by}`);
    await this.record('automation_paused', by, `automatic rollback paused by ${by}`);
    this.coordination?.published();
    this.emit({ type: 'state', env: this.env.name, state: this.getState() });
  }

  async resumeAutomation(by: string): Promise<void> {
    if (this.observing) return void (await this.coordination?.request('resume', by));
    this.paused = null;
    this.automatic.resume();
    this.alert('info', `automatic rollback resumed by ${by}`);
    await this.record('automation_resumed', by, `automatic rollback resumed by ${by}`);
    this.coordination?.published();
    this.emit({ type: 'state', env: this.env.name, state: this.getState() });
  }

  /** Cancel a pending automatic rollback during its grace countdown. False if none was pending. */
  cancelPendingRollback(by: string): boolean {
    if (!this.observing) return this.automatic.cancelPending(by);
    if (this.getState().phase !== 'grace') return false;
    void this.coordination?.request('cancel', by);
    return true;
  }

  private async record(kind: HistoryEntry['kind'], by: string, reason: string, extra: Partial<HistoryEntry> = {}): Promise<void> {
    try {
      const entry = makeEntry({
        env: this.env.name,
        kind,
        trigger: extra.trigger ?? 'manual',
        from: this.tracker.live,
        reason,
        initiated_by: by,
        ...extra,
      });
      await appendHistoryTo(this.handle.state, this.handle.executor, entry);
    } catch (err) {
      this.alert('warning', `cannot record ${kind} in history: ${errorText(err)}`);
    }
  }
}
