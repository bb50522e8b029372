/**
 * The monitor: samples the live release every `check_interval_seconds`, keeps the samples in a bounded
 * ring, establishes and persists baselines, evaluates the policy's triggers and, when one is breached
 * and automation is armed, rolls back through the engine (seed 001's decision tree):
 *
 *   breach -> "auto-rollback initiated" (trigger, value, threshold, baseline) -> optional grace
 *   countdown (cancellable) -> standard rollback (trigger + explanation in history) -> healthy? new
 *   baseline for the restored release : next older known-good release, up to max_rollback_attempts ->
 *   still unhealthy: stop, keep maintenance on, escalate ("systemic issue").
 *
 * It never rolls back onto a release marked bad, never starts while a rollback runs or an operator
 * holds the lock, and with `enabled: false` it monitors and alerts but never acts. Everything it sees
 * and does is an event for listeners (the `monitor` subcommand prints them, the console renders them).
 * Time comes from an injectable clock, so tests and the bench can run it on simulated time.
 */
import type { Policy, ResolvedEnvironment } from '../config/schema.js';
import type { EngineHandle, RollbackEngine } from '../engine/engine.js';
import { appendHistoryTo, makeEntry } from '../engine/history.js';
import type { NotificationEvent } from '../engine/notify.js';
import { pickDefaultTarget } from '../engine/plan.js';
import type { HistoryEntry, RollbackRequest, RollbackResult } from '../engine/types.js';
import type { Backup } from '../stores/types.js';
import { BaselineStore, computeBaseline } from './baseline.js';
import { RingBuffer, ringCapacity } from './ring.js';
import { CommandSource } from './sources/command.js';
import { LogTail } from './sources/logs.js';
import { probeSample } from './sources/probe.js';
import { prometheusSample } from './sources/prometheus.js';
import { errorText, overlayMetrics } from './sources/sample.js';
import { fmt } from './stats.js';
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
  private lockAlerted: string | null = null;
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
        this.establishingSince !== null && !this.baseline
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

  /** Forget the windows: a different release is live. */
  private async adoptRelease(live: string | null, now: number): Promise<void> {
    const previous = this.live;
    const first = !this.liveKnown;
    this.live = live;
    this.liveKnown = true;
    this.ring.clear();
    this.consecutive.clear();
    this.cancelledTriggers.clear();
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
    try {
      this.baseline = await this.baselines.load(live);
    } catch (err) {
      this.alert('warning', `cannot read the baseline of ${live}: ${errorText(err)}; establishing a new one`);
    }
    if (this.baseline) {
      this.emit({ type: 'baseline', env: this.env.name, baseline: this.baseline });
      this.setPhase('watching');
    } else {
      this.establishingSince = now;
      this.setPhase('baseline');
    }
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
    if (firstBreached(states) && !this.baseline) this.breachedWhileEstablishing = true;

    if (!this.baseline && this.establishingSince !== null && live !== null) await this.maybeEstablish(live, now);
    if (!this.rolling && !this.escalated && this.phase !== 'grace') {
      this.setPhase(this.blind ? 'blind' : this.baseline || live === null ? (firstBreached(states) ? 'triggered' : 'watching') : 'baseline');
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
    const measured = samples.filter((s) => s.up !== null);
    const healthy = !this.breachedWhileEstablishing && (measured.length === 0 || measured.some((s) => s.up === true));
    const baseline = computeBaseline(live, samples, healthy, now);
    this.baseline = baseline;
    this.establishingSince = null;
    try {
      await this.baselines.save(baseline);
    } catch (err) {
      this.alert('warning', `cannot save the baseline of ${live}: ${errorText(err)} (kept in memory)`);
    }
    if (healthy) {
      try {
        await this.handle.marks.markKnownGood(live);
      } catch (err) {
        this.alert('warning', `cannot mark ${live} known-good: ${errorText(err)}`);
      }
      this.emit({ type: 'baseline', env: this.env.name, baseline });
      this.alert(
        'info',
        `baseline for ${live}: error rate ${fmt(baseline.metrics.error_rate)}/min, p95 ${fmt(baseline.metrics.p95_latency_ms)} ms, memory ${fmt(baseline.metrics.memory_usage_percent)}% (${samples.length} samples); marked known-good`,
      );
    } else {
      this.emit({ type: 'baseline', env: this.env.name, baseline });
      this.alert('warning', `baseline for ${live} recorded from an unhealthy window: not marked known-good`);
    }
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

  /** After a tick: roll back if a trigger is breached and automation allows it. */
  async act(): Promise<void> {
    const breach = firstBreached(this.triggers);
    if (!breach || this.rolling || this.escalated || this.live === null) return;
    if (this.cancelledTriggers.has(breach.name)) return;
    if (!this.policy.enabled || this.paused) return;
    const owner = await this.engine.lockOwner().catch(() => null);
    if (owner) {
      const who = describeOwner(owner);
      if (this.lockAlerted !== who) {
        this.lockAlerted = who;
        this.alert('warning', `${breach.name} breached but ${who} holds the lock: not rolling back`);
      }
      return;
    }
    this.lockAlerted = null;
    await this.autoRollback(breach);
  }

  private async grace(trigger: TriggerState): Promise<boolean> {
    const seconds = Math.ceil(this.policy.rollback.grace_seconds);
    if (seconds <= 0) return true;
    const cancel = new AbortController();
    this.graceCancel = cancel;
    const both = AbortSignal.any([cancel.signal, this.stopController.signal]);
    this.setPhase('grace');
    try {
      for (let left = seconds; left > 0; left--) {
        this.graceRemaining = left;
        this.emit({ type: 'grace', env: this.env.name, trigger, remainingSeconds: left });
        await this.clock.sleep(1000, both);
        if (both.aborted) break;
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

  /** Older than `from`, not bad, known-good: the candidates for a second or later attempt. */
  private async nextKnownGood(from: string, tried: ReadonlySet<string>): Promise<Backup | null> {
    const backups = await this.handle.store.list({ signal: this.stopController.signal });
    const fromB = backups.find((b) => b.name === from);
    const older = backups
      .filter((b) => !b.bad && b.knownGood && !tried.has(b.name) && b.name !== from && (!fromB || b.createdMs < fromB.createdMs))
      .sort((a, b) => b.createdMs - a.createdMs);
    return older[0] ?? null;
  }

  private async autoRollback(trigger: TriggerState): Promise<void> {
    const signal = this.stopController.signal;
    const base = trigger.baseline === null ? 'no baseline' : `baseline ${fmt(trigger.baseline)}${trigger.unit}`;
    const summary = `${trigger.name} ${fmt(trigger.value)}${trigger.unit} vs threshold ${fmt(trigger.threshold)}${trigger.unit} (${base})`;
    this.setPhase('triggered');
    this.alert('critical', `auto-rollback initiated on ${this.env.name}: ${summary}`, {
      event: 'auto_rollback_initiated',
      text: trigger.explanation,
      data: { trigger: trigger.name, value: trigger.value, threshold: trigger.threshold, baseline: trigger.baseline, release: this.live },
    });
    if (!(await this.grace(trigger))) return;
    if (this.paused) return;

    this.rolling = true;
    this.setPhase('rolling_back');
    const tried = new Set<string>();
    const max = this.policy.rollback.max_rollback_attempts;
    let from = this.live as string;
    let lastProblem = '';
    const unhealthy: string[] = [];
    try {
      for (let attempt = 1; attempt <= max && !signal.aborted; attempt++) {
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
          lastProblem = `cannot list backups: ${errorText(err)}`;
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
        if (result.ok && result.verification !== 'failed') {
          this.alert('info', `auto-rollback of ${this.env.name} to ${result.to} succeeded (verification ${result.verification}); establishing a new baseline`, {
            event: 'auto_rollback_succeeded',
            data: { from: result.from, to: result.to, trigger: trigger.name, attempt },
          });
          await this.adoptRelease(result.to, this.clock.now());
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
        lastProblem = `rollback to ${target.name} failed: ${result.error ?? `exit ${result.exit_code}`}`;
        break;
      }
      if (signal.aborted) return;
      const also = unhealthy.length > 0 ? `previous release${unhealthy.length === 1 ? '' : 's'} ${unhealthy.join(', ')} also unhealthy; ` : '';
      await this.escalate(trigger, `${also}${lastProblem || `still unhealthy after ${max} rollback attempts`}`);
    } finally {
      this.rolling = false;
      if (!this.escalated && this.phase === 'rolling_back') this.setPhase('watching');
    }
  }

  private async escalate(trigger: TriggerState, problem: string): Promise<void> {
    this.escalated = true;
    this.setPhase('escalated');
    let live: string | null = this.live;
    try {
      live = await this.handle.store.live();
    } catch {
      // keep the last known
    }
    const message = `systemic issue on ${this.env.name}: ${problem}. Automatic rollback stopped; maintenance stays on; live is ${live ?? 'none'}. Manual action needed.`;
    await this.record('escalation', this.actor, message, { trigger: trigger.name, explanation: trigger.explanation, success: false, error: problem });
    this.emit({ type: 'escalation', env: this.env.name, message });
    this.alert('critical', message, { event: 'escalation', text: trigger.explanation, data: { trigger: trigger.name, live } });
  }
}
