/**
 * The monitor: samples the live release every `check_interval_seconds`, keeps the samples in a bounded
 * ring, establishes and persists baselines, evaluates the policy's triggers and, when one is breached
 * and automation is armed, rolls back through the engine (seed 001's decision tree):
 *
 *   breach -> the same trigger again soon after an automatic rollback, or max_rollback_attempts of them
 *   recently? escalate (recurrence.ts) : "auto-rollback initiated" (trigger, value, threshold, baseline)
 *   -> optional grace countdown (cancellable; sampling goes on) -> still live, lock free, still
 *   breached? -> standard rollback (trigger + explanation in history, expectFrom: the live release it
 *   was decided on) -> healthy? new baseline for the restored release : next older known-good release,
 *   up to max_rollback_attempts -> still unhealthy: stop, keep maintenance on, escalate ("systemic
 *   issue") and pause automation until an operator resumes it.
 *
 * It never rolls back onto a release marked bad, never starts while a rollback runs or an operator
 * holds the lock (nor when it cannot tell), and with `enabled: false` (or paused) it monitors and
 * notifies once per breach but never acts. Everything it sees and does is an event for listeners (the
 * `monitor` subcommand prints them, the console renders them). Time comes from an injectable clock, so
 * tests and the bench can run it on simulated time.
 */
import { isUserError } from '../errors.js';
import type { Policy, ResolvedEnvironment } from '../config/schema.js';
import type { EngineHandle, RollbackEngine } from '../engine/engine.js';
import { appendHistoryTo, makeEntry } from '../engine/history.js';
import type { NotificationEvent } from '../engine/notify.js';
import { lockOwnerFile } from '../engine/lock.js';
import { pickDefaultTarget } from '../engine/plan.js';
import type { HistoryEntry, RollbackRequest, RollbackResult } from '../engine/types.js';
import type { Backup } from '../stores/types.js';
import { BaselineStore, computeBaseline, judgeBaselineWindow } from './baseline.js';
import { assessBreach, AutoRollbackLog, type AutoRollbackRecord } from './recurrence.js';
import { RingBuffer, ringCapacity } from './ring.js';
import { CommandSource } from './sources/command.js';
import { LogTail } from './sources/logs.js';
import { probeSample } from './sources/probe.js';
import { prometheusSample } from './sources/prometheus.js';
import { errorText, overlayMetrics } from './sources/sample.js';
import { fmt } from './stats.js';
import { olderFirst } from '../stores/order.js';
import { evaluateTriggers, firstBreached, intervalMs, longestWindowMs } from './triggers.js';
import type { Baseline, MonitorEvent, MonitorPhase, MonitorState, Sample, TriggerState } from './types.js';

/** What the monitor needs of an opened environment (environment.ts's handle provides it). */
export type MonitorEnvironment = EngineHandle;

/** What the monitor needs of the rollback engine (RollbackEngine provides it). */
export type MonitorEngine = Pick<RollbackEngine, 'run' | 'lockOwner'>;

export interface MonitorNotifier {
  notify(event: NotificationEvent): void;
}

export interface MonitorClock {
  now(): number;
  /** Resolve after `ms`, or early (never rejecting) when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface MonitorOptions {
  engine: MonitorEngine;
  /** Default: the engine's notifier when it has one. */
  notifier?: MonitorNotifier;
  clock?: MonitorClock;
  signal?: AbortSignal;
  /** Who the monitor acts as in history ("monitor@host"). */
  actor?: string;
}

export type MonitorListener = (e: MonitorEvent) => void;

/** Whether the environment's lock is free; `error` when it cannot be read (then nothing is done). */
type LockLook = { held: false } | { held: true; who: string } | { error: string };

export const realClock: MonitorClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
};

function describeOwner(owner: unknown): string {
  if (typeof owner === 'string') return owner;
  if (owner && typeof owner === 'object') {
    const o = owner as Record<string, unknown>;
    const who = typeof o.initiated_by === 'string' ? o.initiated_by : `${String(o.user ?? '?')}@${String(o.host ?? '?')}`;
    return `${who} (${String(o.operation ?? 'operation')} since ${String(o.started_at ?? '?')})`;
  }
  return 'someone';
}

export class Monitor {
  readonly env: ResolvedEnvironment;
  private readonly policy: Policy;
  private readonly engine: MonitorEngine;
  private readonly notifier: MonitorNotifier | undefined;
  private readonly clock: MonitorClock;
  private readonly actor: string;
  private readonly listeners = new Set<MonitorListener>();
  private readonly ring: RingBuffer<Sample>;
  private readonly baselines: BaselineStore;
  private readonly autoRollbacks: AutoRollbackLog;
  private readonly commandSource: CommandSource | null;
  private readonly logTail: LogTail | null;
  private readonly stopController = new AbortController();
  private readonly interval: number;

  private phase: MonitorPhase = 'starting';
  private live: string | null = null;
  private liveKnown = false;
  private baseline: Baseline | null = null;
  private establishingSince: number | null = null;
  private breachedWhileEstablishing = false;
  private triggers: TriggerState[] = [];
  private paused: { by: string } | null = null;
  private escalated = false;
  private rolling = false;
  private graceRemaining: number | null = null;
  private graceCancel: AbortController | null = null;
  private cancelledTriggers = new Set<string>();
  /** Breached triggers already notified while automation is disabled or paused (once per episode). */
  private notifiedBreaches = new Set<string>();
  /** The last "not acting" alert (lock held, unreadable ...), so it is said once, not every tick. */
  private holdBackAlerted: string | null = null;
  private consecutive = new Map<string, number>();
  private blind = false;
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
    this.engine = options.engine;
    this.notifier = options.notifier ?? (options.engine as { notifier?: MonitorNotifier }).notifier;
    this.clock = options.clock ?? realClock;
    this.actor = options.actor ?? 'monitor';
    this.interval = intervalMs(this.policy);
    this.ring = new RingBuffer<Sample>(ringCapacity(longestWindowMs(this.policy), this.interval));
    this.baselines = new BaselineStore(handle.state);
    this.autoRollbacks = new AutoRollbackLog(handle.state);
    this.commandSource = handle.env.metrics.source === 'command' ? new CommandSource(handle.env.metrics) : null;
    const logTrigger = this.policy.triggers.log_errors;
    this.logTail =
      logTrigger?.enabled && handle.env.logs && (handle.env.logs.file || handle.env.logs.command)
        ? new LogTail(handle.env.logs, logTrigger.patterns, handle.executor, handle.env.metrics.timeout_seconds * 1000)
        : null;
    if (options.signal) {
      if (options.signal.aborted) this.stopController.abort();
      else options.signal.addEventListener('abort', () => this.stop(), { once: true });
    }
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

  private alert(severity: 'info' | 'warning' | 'critical', message: string, notify?: Omit<NotificationEvent, 'env' | 'severity' | 'title'>): void {
    this.emit({ type: 'alert', env: this.env.name, severity, message });
    if (notify) this.notifier?.notify({ ...notify, env: this.env.name, severity, title: message });
  }

  private automation(): MonitorState['automation'] {
    if (!this.policy.enabled) return 'disabled';
    return this.paused ? 'paused' : 'armed';
  }

  getState(): MonitorState {
    const neededSeconds = this.policy.monitoring.baseline_window_minutes * 60;
    return {
      env: this.env.name,
      phase: this.phase,
      live: this.live,
      baseline: this.baseline,
      baselineProgress:
        this.establishingSince !== null
          ? { observedSeconds: Math.min(neededSeconds, Math.max(0, (this.clock.now() - this.establishingSince) / 1000)), neededSeconds }
          : null,
      triggers: this.triggers,
      automation: this.automation(),
      graceRemainingSeconds: this.graceRemaining,
      consecutiveInconclusive: Math.max(0, ...this.consecutive.values()),
      lastSample: this.lastSample,
    };
  }

  private setPhase(phase: MonitorPhase): void {
    this.phase = phase;
  }

  /**
   * Forget the windows: a different release is live. Its stored baseline is used when it is healthy;
   * otherwise (none, unhealthy, or `rebaseline` after an automatic rollback restored it) a new one is
   * established, comparing against the stored healthy one meanwhile when there is one.
   */
  private async adoptRelease(live: string | null, now: number, options: { rebaseline?: boolean } = {}): Promise<void> {
    const previous = this.live;
    const first = !this.liveKnown;
    this.live = live;
    this.liveKnown = true;
    this.ring.clear();
    this.consecutive.clear();
    this.cancelledTriggers.clear();
    this.notifiedBreaches.clear();
    this.logTail?.reset();
    this.escalated = false;
    this.breachedWhileEstablishing = false;
    this.baseline = null;
    this.establishingSince = null;
    if (!first) this.alert('info', `live release changed: ${previous ?? 'none'} -> ${live ?? 'none'}; windows reset`);
    if (live === null) {
      this.setPhase('watching');
      return;
    }
    let stored: Baseline | null = null;
    try {
      stored = await this.baselines.load(live);
    } catch (err) {
      this.alert('warning', `cannot read the baseline of ${live}: ${errorText(err)}; establishing a new one`);
    }
    if (stored && !stored.healthy) {
      this.alert('info', `the stored baseline of ${live} is from an unhealthy window: not used; establishing a new one`);
      stored = null;
    }
    this.baseline = stored;
    if (stored && !options.rebaseline) {
      this.emit({ type: 'baseline', env: this.env.name, baseline: stored });
      this.setPhase('watching');
      return;
    }
    this.establishingSince = now;
    this.setPhase('baseline');
    if (stored) this.alert('info', `establishing a new baseline for ${live}; comparing against its previous one (${stored.timestamp}) meanwhile`);
  }

  private async takeSample(at: number, release: string | null): Promise<Sample> {
    const signal = this.stopController.signal;
    const env = this.env;
    const probe = probeSample(env, { executor: this.handle.executor, at, release, intervalMs: this.interval, signal });
    const source =
      env.metrics.source === 'prometheus'
        ? prometheusSample(env.metrics, { at, release, signal })
        : this.commandSource
          ? this.commandSource.sample({ executor: this.handle.executor, at, release, signal })
          : null;
    const logs = this.logTail ? this.logTail.read(signal) : null;
    const [p, s, l] = await Promise.all([probe, source, logs]);
    const { checks: _checks, ...plain } = p;
    let sample: Sample = s ? overlayMetrics(plain, s) : plain;
    if (l) {
      sample = { ...sample, errors: { ...sample.errors } };
      if (l.ok) sample.log_error_lines = l.count;
      else sample.errors.log_error_lines = l.error;
    }
    return sample;
  }

  private trackInconclusive(sample: Sample): void {
    const keys = new Set(Object.keys(sample.errors));
    for (const k of [...this.consecutive.keys()]) if (!keys.has(k)) this.consecutive.delete(k);
    for (const k of keys) this.consecutive.set(k, (this.consecutive.get(k) ?? 0) + 1);
    const limit = this.policy.monitoring.consecutive_error_limit;
    const worst = [...this.consecutive.entries()].sort((a, b) => b[1] - a[1])[0];
    if (worst && worst[1] >= limit) {
      if (!this.blind) {
        this.blind = true;
        if (!this.rolling && !this.escalated) this.setPhase('blind');
        const msg = `monitor blind: ${worst[0]} inconclusive for ${worst[1]} samples in a row (${sample.errors[worst[0]] ?? 'no value'})`;
        this.alert('warning', msg, { event: 'monitor_blind', data: { metric: worst[0], samples: worst[1] } });
      }
    } else if (this.blind) {
      this.blind = false;
      this.alert('info', 'monitor sees again: metrics are conclusive');
    }
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
    let live: string | null;
    try {
      live = await this.handle.store.live({ signal: this.stopController.signal });
    } catch (err) {
      this.alert('warning', `cannot read the live release: ${errorText(err)}`);
      live = this.live;
    }
    if (!this.liveKnown || live !== this.live) await this.adoptRelease(live, now);

    const sample = await this.takeSample(now, live);
    this.ring.push(sample);
    this.lastSample = sample;
    this.emit({ type: 'sample', env: this.env.name, sample });
    this.trackInconclusive(sample);

    const states = evaluateTriggers(this.effectivePolicy(), this.ring.toArray(), this.baseline, now);
    const before = new Map(this.triggers.map((t) => [t.name, t.status]));
    for (const t of states) {
      const previous = before.get(t.name) ?? 'collecting';
      if (previous !== t.status) this.emit({ type: 'trigger', env: this.env.name, trigger: t, previous });
      if (t.status !== 'breached') this.cancelledTriggers.delete(t.name);
    }
    this.triggers = states;
    for (const name of this.notifiedBreaches) if (states.find((t) => t.name === name)?.status !== 'breached') this.notifiedBreaches.delete(name);
    if (firstBreached(states) && this.establishingSince !== null) this.breachedWhileEstablishing = true;

    if (this.establishingSince !== null && live !== null) await this.maybeEstablish(live, now);
    if (!this.rolling && !this.escalated && this.phase !== 'grace') {
      this.setPhase(this.blind ? 'blind' : this.establishingSince === null || live === null ? (firstBreached(states) ? 'triggered' : 'watching') : 'baseline');
    }
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

  private async maybeEstablish(live: string, now: number): Promise<void> {
    const since = this.establishingSince as number;
    const neededMs = this.policy.monitoring.baseline_window_minutes * 60_000;
    // Half an interval of slack: the tick that lands at the window's end counts.
    if (now - since + this.interval / 2 < neededMs) return;
    const samples = this.ring.filter((s) => s.at >= since);
    const verdict = judgeBaselineWindow(samples, this.breachedWhileEstablishing);
    if (!verdict.healthy) {
      // Never stored, never a reference: observe again (comparing against the previous healthy
      // baseline meanwhile, when there is one).
      this.establishingSince = now;
      this.breachedWhileEstablishing = false;
      this.alert(
        'warning',
        `baseline window of ${live} was unhealthy (${verdict.why}): not recorded, not marked known-good; observing again${this.baseline ? ` (comparing against its previous baseline meanwhile)` : ''}`,
      );
      return;
    }
    const baseline = computeBaseline(live, samples, true, now);
    this.baseline = baseline;
    this.establishingSince = null;
    try {
      await this.baselines.save(baseline);
    } catch (err) {
      this.alert('warning', `cannot save the baseline of ${live}: ${errorText(err)} (kept in memory)`);
    }
    try {
      await this.handle.marks.markKnownGood(live);
    } catch (err) {
      this.alert('warning', `cannot mark ${live} known-good: ${errorText(err)}`);
    }
    this.emit({ type: 'baseline', env: this.env.name, baseline });
    this.alert(
      'info',
      `baseline for ${live}: error rate ${fmt(baseline.metrics.error_rate)}/min, p95 ${fmt(baseline.metrics.p95_latency_ms)} ms, memory ${fmt(baseline.metrics.memory_usage_percent)}% (${verdict.why}); marked known-good`,
    );
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
      try {
        await this.tick();
        if (!signal.aborted) await this.act();
      } catch (err) {
        if (signal.aborted) break;
        this.alert('warning', `monitor tick failed: ${errorText(err)}`);
      }
      if (signal.aborted) break;
      const elapsed = this.clock.now() - started;
      await this.clock.sleep(Math.max(0, this.interval - elapsed), signal);
    }
    this.setPhase('stopped');
    this.emit({ type: 'stopped', env: this.env.name, reason: 'stopped' });
  }

  /** Stop the loop; a rollback in progress gets the abort through the engine's signal. */
  stop(): void {
    if (!this.stopController.signal.aborted) this.stopController.abort();
    this.graceCancel?.abort();
  }

  async pauseAutomation(by: string): Promise<void> {
    this.paused = { by };
    this.graceCancel?.abort();
    this.alert('warning', `automatic rollback paused by ${by}`);
    await this.record('automation_paused', by, `automatic rollback paused by ${by}`);
    this.emit({ type: 'state', env: this.env.name, state: this.getState() });
  }

  async resumeAutomation(by: string): Promise<void> {
    this.paused = null;
    this.escalated = false;
    this.alert('info', `automatic rollback resumed by ${by}`);
    await this.record('automation_resumed', by, `automatic rollback resumed by ${by}`);
    this.emit({ type: 'state', env: this.env.name, state: this.getState() });
  }

  /** Cancel a pending automatic rollback during its grace countdown. False if none was pending. */
  cancelPendingRollback(by: string): boolean {
    if (!this.graceCancel || this.graceCancel.signal.aborted) return false;
    this.graceCancel.abort(by);
    return true;
  }

  private async record(kind: HistoryEntry['kind'], by: string, reason: string, extra: Partial<HistoryEntry> = {}): Promise<void> {
    try {
      const entry = makeEntry({
        env: this.env.name,
        kind,
        trigger: extra.trigger ?? 'manual',
        from: this.live,
        reason,
        initiated_by: by,
        ...extra,
      });
      await appendHistoryTo(this.handle.state, this.handle.executor, entry);
    } catch (err) {
      this.alert('warning', `cannot record ${kind} in history: ${errorText(err)}`);
    }
  }

  /** A "not acting" alert, said once until the reason changes or the monitor acts. */
  private holdBack(message: string): void {
    if (this.holdBackAlerted === message) return;
    this.holdBackAlerted = message;
    this.alert('warning', message);
  }

  /**
   * Is the lock free? An owner file that is there but unreadable is held; a state dir that cannot be
   * read at all (SSH down) is an error: not knowing is never "free".
   */
  private async lookAtLock(): Promise<LockLook> {
    try {
      const owner = await this.engine.lockOwner();
      if (owner) return { held: true, who: describeOwner(owner) };
      // lockOwner() reads null for a missing file but also for one it could not read or parse.
      const file = await this.handle.state.stat(lockOwnerFile(this.env.name));
      return file ? { held: true, who: 'someone (the lock owner file is unreadable)' } : { held: false };
    } catch (err) {
      return { error: errorText(err) };
    }
  }

  /** Automation disabled or paused: tell the notifier once per breach episode of each trigger. */
  private notifyNotActing(): void {
    const why = this.policy.enabled ? `automation paused${this.paused ? ` by ${this.paused.by}` : ''}` : 'automation disabled';
    for (const t of this.triggers) {
      if (t.status !== 'breached' || this.notifiedBreaches.has(t.name)) continue;
      this.notifiedBreaches.add(t.name);
      this.alert('warning', `${t.name} breached on ${this.env.name}; ${why}: not rolling back`, {
        event: 'breach_not_acted',
        text: t.explanation,
        data: { trigger: t.name, value: t.value, threshold: t.threshold, baseline: t.baseline, release: this.live, automation: this.automation() },
      });
    }
  }

  /** After a tick: roll back if a trigger is breached and automation allows it. */
  async act(): Promise<void> {
    const breach = firstBreached(this.triggers);
    if (!breach) this.holdBackAlerted = null;
    if (!breach || this.rolling || this.escalated || this.live === null) return;
    if (this.cancelledTriggers.has(breach.name)) return;
    if (!this.policy.enabled || this.paused) return this.notifyNotActing();
    const lock = await this.lookAtLock();
    if ('error' in lock) return this.holdBack(`${breach.name} breached but the lock cannot be read (${lock.error}): not acting this tick`);
    if (lock.held) return this.holdBack(`${breach.name} breached but ${lock.who} holds the lock: not rolling back`);
    let records: AutoRollbackRecord[];
    try {
      records = await this.autoRollbacks.load();
    } catch (err) {
      return this.holdBack(`${breach.name} breached but the record of automatic rollbacks cannot be read (${errorText(err)}): not acting this tick`);
    }
    this.holdBackAlerted = null;
    const verdict = assessBreach(records, { env: this.env.name, live: this.live, trigger: breach.name, now: this.clock.now(), policy: this.policy });
    if (verdict.kind !== 'act') {
      await this.escalate(breach, verdict.message);
      return;
    }
    await this.autoRollback(breach, verdict.attempts);
  }

  /**
   * The countdown before an automatic rollback, sampling on meanwhile (the console keeps its charts, and
   * the re-check afterwards sees fresh windows). Ends early when cancelled, stopped, when the live
   * release changes or when the trigger clears.
   */
  private async grace(trigger: TriggerState, decidedOn: string): Promise<boolean> {
    const seconds = Math.ceil(this.policy.rollback.grace_seconds);
    if (seconds <= 0) return true;
    const cancel = new AbortController();
    this.graceCancel = cancel;
    const both = AbortSignal.any([cancel.signal, this.stopController.signal]);
    this.setPhase('grace');
    const deadline = this.clock.now() + seconds * 1000;
    let nextTick = this.clock.now() + this.interval;
    let shown = 0;
    try {
      while (!both.aborted) {
        const now = this.clock.now();
        const left = Math.ceil((deadline - now) / 1000);
        if (left <= 0) break;
        if (left !== shown) {
          shown = left;
          this.graceRemaining = left;
          this.emit({ type: 'grace', env: this.env.name, trigger, remainingSeconds: left });
        }
        if (now >= nextTick) {
          nextTick = now + this.interval;
          try {
            await this.tick();
          } catch (err) {
            if (!both.aborted) this.alert('warning', `monitor tick failed: ${errorText(err)}`);
          }
          if (this.live !== decidedOn || this.triggers.find((t) => t.name === trigger.name)?.status !== 'breached') break;
          continue;
        }
        await this.clock.sleep(Math.max(1, Math.min(deadline - (left - 1) * 1000, nextTick) - now), both);
      }
    } finally {
      this.graceRemaining = null;
      this.graceCancel = null;
    }
    if (this.stopController.signal.aborted) return false;
    if (cancel.signal.aborted) {
      const by = typeof cancel.signal.reason === 'string' ? cancel.signal.reason : (this.paused?.by ?? 'an operator');
      this.cancelledTriggers.add(trigger.name);
      this.setPhase('triggered');
      this.alert('warning', `automatic rollback cancelled by ${by} (${trigger.name} stays breached; no action until it clears)`);
      await this.record('automation_paused', by, `pending automatic rollback for ${trigger.name} cancelled by ${by}`, {
        trigger: trigger.name,
        explanation: trigger.explanation,
      });
      return false;
    }
    return true;
  }

  /**
   * After the countdown, before acting: the decision was made on `decidedOn` some seconds ago. Null when
   * it still stands, else why not (live changed, lock held or unreadable, trigger cleared).
   */
  private async stillWarranted(trigger: TriggerState, decidedOn: string): Promise<string | null> {
    let live: string | null;
    try {
      live = await this.handle.store.live({ signal: this.stopController.signal });
    } catch (err) {
      return `cannot re-read the live release (${errorText(err)})`;
    }
    if (live !== decidedOn) return `the live release changed from ${decidedOn} to ${live ?? 'none'} during the countdown`;
    const lock = await this.lookAtLock();
    if ('error' in lock) return `the lock cannot be read (${lock.error})`;
    if (lock.held) return `${lock.who} holds the lock`;
    const current = this.triggers.find((t) => t.name === trigger.name);
    if (current?.status !== 'breached') return `${trigger.name} no longer breached (${current?.explanation ?? 'not evaluated'})`;
    return null;
  }

  /** Older than `from`, not bad, known-good: the candidates for a second or later attempt. */
  private async nextKnownGood(from: string, tried: ReadonlySet<string>): Promise<Backup | null> {
    const backups = await this.handle.store.list({ signal: this.stopController.signal });
    const fromB = backups.find((b) => b.name === from);
    const older = backups
      .filter((b) => !b.bad && b.knownGood && !tried.has(b.name) && b.name !== from && (!fromB || olderFirst(b, fromB) < 0))
      .sort((a, b) => olderFirst(b, a));
    return older[0] ?? null;
  }

  /** Remember an automatic rollback that switched the live release (recurrence.ts reads them). */
  private async rememberRollback(trigger: TriggerState, result: RollbackResult): Promise<void> {
    const record: AutoRollbackRecord = {
      env: this.env.name,
      at: new Date(this.clock.now()).toISOString(),
      trigger: trigger.name,
      from: result.from,
      to: result.to,
      verification: result.verification,
    };
    try {
      await this.autoRollbacks.append(record);
    } catch (err) {
      this.alert('warning', `cannot record the automatic rollback in the state dir: ${errorText(err)} (kept in memory)`);
    }
  }

  private async autoRollback(trigger: TriggerState, attempts: number): Promise<void> {
    const signal = this.stopController.signal;
    const decidedOn = this.live as string;
    const base = trigger.baseline === null ? 'no baseline' : `baseline ${fmt(trigger.baseline)}${trigger.unit}`;
    const summary = `${trigger.name} ${fmt(trigger.value)}${trigger.unit} vs threshold ${fmt(trigger.threshold)}${trigger.unit} (${base})`;
    this.setPhase('triggered');
    this.alert('critical', `auto-rollback initiated on ${this.env.name}: ${summary}`, {
      event: 'auto_rollback_initiated',
      text: trigger.explanation,
      data: { trigger: trigger.name, value: trigger.value, threshold: trigger.threshold, baseline: trigger.baseline, release: decidedOn },
    });
    if (this.policy.rollback.grace_seconds > 0) {
      if (!(await this.grace(trigger, decidedOn))) return;
      if (this.paused) return;
      const why = await this.stillWarranted(trigger, decidedOn);
      if (why !== null) {
        if (signal.aborted) return;
        this.alert('warning', `automatic rollback of ${this.env.name} called off: ${why}`, {
          event: 'auto_rollback_called_off',
          data: { trigger: trigger.name, release: decidedOn },
        });
        if (!this.escalated) this.setPhase(this.establishingSince === null ? 'watching' : 'baseline');
        return;
      }
    }

    this.rolling = true;
    this.setPhase('rolling_back');
    const tried = new Set<string>();
    let from = decidedOn;
    let lastProblem = '';
    const unhealthy: string[] = [];
    try {
      for (let attempt = 1; attempt <= attempts && !signal.aborted; attempt++) {
        tried.add(from);
        let target: Backup | null;
        try {
          if (attempt === 1) {
            const backups = await this.handle.store.list({ signal });
            target = pickDefaultTarget(backups, from);
          } else {
            target = await this.nextKnownGood(from, tried);
          }
        } catch (err) {
          // A damaged marks.json says so itself; anything else failed while listing.
          lastProblem = isUserError(err) && err.code === 'MARKS_DAMAGED' ? errorText(err) : `cannot list backups: ${errorText(err)}`;
          break;
        }
        if (!target || target.bad) {
          lastProblem = attempt === 1 ? `nothing to roll back to from ${from} (no older release that is not marked bad)` : `no older known-good release than ${from} left to try`;
          break;
        }
        this.emit({ type: 'rollback', env: this.env.name, phase: 'started', trigger, target: target.name, attempt });
        const explanation = attempt === 1 ? trigger.explanation : `${trigger.explanation}; attempt ${attempt}: ${from} was also unhealthy`;
        const request: RollbackRequest = {
          env: this.env.name,
          kind: attempt === 1 ? 'standard' : 'targeted',
          reason: `automatic rollback: ${trigger.name} breached (${summary})`,
          trigger: trigger.name,
          explanation,
          signal,
          // Only a stale lock (dead or long-silent owner) is ever broken, and only if the policy allows.
          breakLock: this.env.policy.rollback.break_stale_locks,
          // The engine refuses, under the lock, if live is no longer what this decision was made on.
          expectFrom: from,
          ...(attempt === 1 ? {} : { to: target.name }),
        };
        let result: RollbackResult;
        try {
          result = await this.engine.run(request, (event) => this.emit({ type: 'engine', env: this.env.name, event }));
        } catch (err) {
          lastProblem = `rollback to ${target.name} failed: ${errorText(err)}`;
          this.alert('critical', lastProblem);
          if ((err as { exitCode?: number }).exitCode === 3) return;
          break;
        }
        this.emit({ type: 'rollback', env: this.env.name, phase: 'finished', result, attempt });
        tried.add(result.to);
        const switched = !result.dry_run && (result.ok || result.verification === 'failed');
        if (switched) await this.rememberRollback(trigger, result);
        if (result.ok && result.verification !== 'failed') {
          this.alert('info', `auto-rollback of ${this.env.name} to ${result.to} succeeded (verification ${result.verification}); establishing a new baseline`, {
            event: 'auto_rollback_succeeded',
            data: { from: result.from, to: result.to, trigger: trigger.name, attempt },
          });
          await this.adoptRelease(result.to, this.clock.now(), { rebaseline: true });
          return;
        }
        if (result.exit_code === 3) {
          this.alert('warning', `auto-rollback stopped: ${result.error ?? 'the lock is held'}`);
          return;
        }
        if (result.verification === 'failed') {
          unhealthy.push(result.to);
          lastProblem = `${result.to} is also unhealthy after the rollback (verification failed)`;
          this.alert('critical', `${lastProblem}; trying the next older known-good release`);
          from = result.to;
          continue;
        }
        if (result.code === 'LIVE_CHANGED') {
          // Someone else changed the live release since the decision: void, not a systemic issue.
          this.alert('warning', `auto-rollback not done: ${result.error ?? 'the live release changed since the decision'}`);
          return;
        }
        lastProblem = `rollback to ${target.name} failed: ${result.error ?? `exit ${result.exit_code}`}`;
        break;
      }
      if (signal.aborted) return;
      const also = unhealthy.length > 0 ? `previous release${unhealthy.length === 1 ? '' : 's'} ${unhealthy.join(', ')} also unhealthy; ` : '';
      await this.escalate(trigger, `${also}${lastProblem || `still unhealthy after ${attempts} rollback attempts`}`, { maintenance: unhealthy.length > 0 });
    } finally {
      this.rolling = false;
      if (!this.escalated && this.phase === 'rolling_back') this.setPhase('watching');
    }
  }

  /**
   * Stop: a critical "systemic issue" notification, recorded in history, and automation paused until an
   * operator resumes it (a new live release does not re-arm it). The windows follow the live release.
   */
  private async escalate(trigger: TriggerState, problem: string, options: { maintenance?: boolean } = {}): Promise<void> {
    let live: string | null = this.live;
    try {
      live = await this.handle.store.live();
    } catch {
      // keep the last known
    }
    if (live !== this.live) await this.adoptRelease(live, this.clock.now());
    this.escalated = true;
    this.setPhase('escalated');
    const message = `systemic issue on ${this.env.name}: ${problem}. Automatic rollback stopped${options.maintenance ? '; maintenance stays on' : ''}; live is ${live ?? 'none'}. Manual action needed.`;
    await this.record('escalation', this.actor, message, { trigger: trigger.name, explanation: trigger.explanation, success: false, error: problem });
    if (!this.paused) await this.pauseAutomation(this.actor);
    this.emit({ type: 'escalation', env: this.env.name, message });
    this.alert('critical', message, { event: 'escalation', text: trigger.explanation, data: { trigger: trigger.name, live } });
  }
}
