/**
 * The automatic rollback: what the monitor does about a breached trigger.
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
 * holds the lock (nor when it cannot tell), and with `enabled: false` (or paused) it notifies once per
 * breach but never acts.
 */
import { olderFirst } from '../stores/order.js';
import { ExitCode, isUserError } from '../errors.js';
import { describeOwner, lockOwnerFile } from '../engine/lock.js';
import { pickDefaultTarget } from '../engine/plan.js';
import type { RollbackRequest, RollbackResult } from '../engine/types.js';
import type { Backup } from '../stores/types.js';
import type { MonitorContext } from './context.js';
import { assessBreach, AutoRollbackLog, type AutoRollbackRecord } from './recurrence.js';
import { errorText } from './sources/sample.js';
import { fmt } from './stats.js';
import { firstBreached } from './triggers.js';
import type { MonitorPhase, MonitorState, TriggerState } from './types.js';

/** What the automatic rollback needs of the Monitor that owns it. */
export interface AutomationHost {
  live(): string | null;
  triggers(): readonly TriggerState[];
  paused(): { by: string } | null;
  automation(): MonitorState['automation'];
  establishing(): boolean;
  phase(): MonitorPhase;
  setPhase(phase: MonitorPhase): void;
  /** One sampling iteration (the countdown samples on). */
  tick(): Promise<unknown>;
  adoptRelease(live: string | null, now: number, options?: { rebaseline?: boolean }): Promise<void>;
  pauseAutomation(by: string): Promise<void>;
}

/** Whether the environment's lock is free; `error` when it cannot be read (then nothing is done). */
type LockLook = { held: false } | { held: true; who: string } | { error: string };

export class AutomaticRollback {
  private readonly log: AutoRollbackLog;
  private rollingNow = false;
  private escalatedNow = false;
  private graceLeft: number | null = null;
  private graceCancel: AbortController | null = null;
  private readonly cancelledTriggers = new Set<string>();
  /** Breached triggers already notified while automation is disabled or paused (once per episode). */
  private readonly notifiedBreaches = new Set<string>();
  /** The last "not acting" alert (lock held, unreadable ...), so it is said once, not every tick. */
  private holdBackAlerted: string | null = null;

  constructor(
    private readonly ctx: MonitorContext,
    private readonly host: AutomationHost,
  ) {
    this.log = new AutoRollbackLog(ctx.handle.state);
  }

  get rolling(): boolean {
    return this.rollingNow;
  }

  get escalated(): boolean {
    return this.escalatedNow;
  }

  /** Seconds left of a pending countdown, or null. */
  get graceRemaining(): number | null {
    return this.graceLeft;
  }

  /** A different release is live: cancellations, notified breaches and an escalation are forgotten. */
  resetForRelease(): void {
    this.cancelledTriggers.clear();
    this.notifiedBreaches.clear();
    this.escalatedNow = false;
  }

  /** An operator resumed automation: an escalation no longer holds it back. */
  resume(): void {
    this.escalatedNow = false;
  }

  /** The triggers were evaluated again: episodes of triggers no longer breached are over. */
  onTriggers(states: readonly TriggerState[]): void {
    for (const t of states) if (t.status !== 'breached') this.cancelledTriggers.delete(t.name);
    for (const name of this.notifiedBreaches) if (states.find((t) => t.name === name)?.status !== 'breached') this.notifiedBreaches.delete(name);
  }

  /** Cancel a pending automatic rollback during its grace countdown. False if none was pending. */
  cancelPending(by: string): boolean {
    if (!this.graceCancel || this.graceCancel.signal.aborted) return false;
    this.graceCancel.abort(by);
    return true;
  }

  /** End a pending countdown without recording who (the monitor stops, or automation is paused). */
  abortGrace(): void {
    this.graceCancel?.abort();
  }

  /** A "not acting" alert, said once until the reason changes or the monitor acts. */
  private holdBack(message: string): void {
    if (this.holdBackAlerted === message) return;
    this.holdBackAlerted = message;
    this.ctx.alert('warning', message);
  }

  /**
   * Is the lock free? An owner file that is there but unreadable is held; a state dir that cannot be
   * read at all (SSH down) is an error: not knowing is never "free".
   */
  private async lookAtLock(): Promise<LockLook> {
    const env = this.ctx.env.name;
    try {
      const owner = await this.ctx.engine.lockOwner();
      if (owner) return { held: true, who: describeOwner(env, owner, this.ctx.clock.now()) };
      // lockOwner() reads null for a missing file but also for one it could not read or parse.
      const file = await this.ctx.handle.state.stat(lockOwnerFile(env));
      return file ? { held: true, who: describeOwner(env, null) } : { held: false };
    } catch (err) {
      return { error: errorText(err) };
    }
  }

  /** Automation disabled or paused: tell the notifier once per breach episode of each trigger. */
  private notifyNotActing(): void {
    const paused = this.host.paused();
    const why = this.ctx.policy.enabled ? `automation paused${paused ? ` by ${paused.by}` : ''}` : 'automation disabled';
    for (const t of this.host.triggers()) {
      if (t.status !== 'breached' || this.notifiedBreaches.has(t.name)) continue;
      this.notifiedBreaches.add(t.name);
      this.ctx.alert('warning', `${t.name} breached on ${this.ctx.env.name}; ${why}: not rolling back`, {
        event: 'breach_not_acted',
        text: t.explanation,
        data: { trigger: t.name, value: t.value, threshold: t.threshold, baseline: t.baseline, release: this.host.live(), automation: this.host.automation() },
      });
    }
  }

  /** After a tick: roll back if a trigger is breached and automation allows it. */
  async act(): Promise<void> {
    const breach = firstBreached([...this.host.triggers()]);
    const live = this.host.live();
    if (!breach) this.holdBackAlerted = null;
    if (!breach || this.rollingNow || this.escalatedNow || live === null) return;
    if (this.cancelledTriggers.has(breach.name)) return;
    if (!this.ctx.policy.enabled || this.host.paused()) return this.notifyNotActing();
    const lock = await this.lookAtLock();
    if ('error' in lock) return this.holdBack(`${breach.name} breached but the lock cannot be read (${lock.error}): not acting this tick`);
    if (lock.held) return this.holdBack(`${breach.name} breached but another operation holds the lock (${lock.who}): not rolling back`);
    let records: AutoRollbackRecord[];
    try {
      records = await this.log.load();
    } catch (err) {
      return this.holdBack(`${breach.name} breached but the record of automatic rollbacks cannot be read (${errorText(err)}): not acting this tick`);
    }
    this.holdBackAlerted = null;
    const verdict = assessBreach(records, { env: this.ctx.env.name, live, trigger: breach.name, now: this.ctx.clock.now(), policy: this.ctx.policy });
    if (verdict.kind !== 'act') {
      await this.escalate(breach, verdict.message);
      return;
    }
    await this.rollBack(breach, verdict.attempts);
  }

  /**
   * The countdown before an automatic rollback, sampling on meanwhile (the console keeps its charts, and
   * the re-check afterwards sees fresh windows). Ends early when cancelled, stopped, when the live
   * release changes or when the trigger clears.
   */
  private async grace(trigger: TriggerState, decidedOn: string): Promise<boolean> {
    const { ctx, host } = this;
    const seconds = Math.ceil(ctx.policy.rollback.grace_seconds);
    if (seconds <= 0) return true;
    const cancel = new AbortController();
    this.graceCancel = cancel;
    const both = AbortSignal.any([cancel.signal, ctx.signal]);
    host.setPhase('grace');
    const deadline = ctx.clock.now() + seconds * 1000;
    let nextTick = ctx.clock.now() + ctx.interval;
    let shown = 0;
    try {
      while (!both.aborted) {
        const now = ctx.clock.now();
        const left = Math.ceil((deadline - now) / 1000);
        if (left <= 0) break;
        if (left !== shown) {
          shown = left;
          this.graceLeft = left;
          ctx.emit({ type: 'grace', env: ctx.env.name, trigger, remainingSeconds: left });
        }
        if (now >= nextTick) {
          nextTick = now + ctx.interval;
          try {
            await host.tick();
          } catch (err) {
            if (!both.aborted) ctx.alert('warning', `monitor tick failed: ${errorText(err)}`);
          }
          if (host.live() !== decidedOn || host.triggers().find((t) => t.name === trigger.name)?.status !== 'breached') break;
          continue;
        }
        await ctx.clock.sleep(Math.max(1, Math.min(deadline - (left - 1) * 1000, nextTick) - now), both);
      }
    } finally {
      this.graceLeft = null;
      this.graceCancel = null;
    }
    if (ctx.signal.aborted) return false;
    if (cancel.signal.aborted) {
      const by = typeof cancel.signal.reason === 'string' ? cancel.signal.reason : (host.paused()?.by ?? 'an operator');
      this.cancelledTriggers.add(trigger.name);
      host.setPhase('triggered');
      ctx.alert('warning', `automatic rollback cancelled by ${by} (${trigger.name} stays breached; no action until it clears)`);
      await ctx.record('automation_paused', by, `pending automatic rollback for ${trigger.name} cancelled by ${by}`, {
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
      live = await this.ctx.handle.store.live({ signal: this.ctx.signal });
    } catch (err) {
      return `cannot re-read the live release (${errorText(err)})`;
    }
    if (live !== decidedOn) return `the live release changed from ${decidedOn} to ${live ?? 'none'} during the countdown`;
    const lock = await this.lookAtLock();
    if ('error' in lock) return `the lock cannot be read (${lock.error})`;
    if (lock.held) return `another operation holds the lock (${lock.who})`;
    const current = this.host.triggers().find((t) => t.name === trigger.name);
    if (current?.status !== 'breached') return `${trigger.name} no longer breached (${current?.explanation ?? 'not evaluated'})`;
    return null;
  }

  /** Older than `from`, not bad, known-good: the candidates for a second or later attempt. */
  private async nextKnownGood(from: string, tried: ReadonlySet<string>): Promise<Backup | null> {
    const backups = await this.ctx.handle.store.list({ signal: this.ctx.signal });
    const fromB = backups.find((b) => b.name === from);
    const older = backups
      .filter((b) => !b.bad && b.knownGood && !tried.has(b.name) && b.name !== from && (!fromB || olderFirst(b, fromB) < 0))
      .sort((a, b) => olderFirst(b, a));
    return older[0] ?? null;
  }

  /** Remember an automatic rollback that switched the live release (recurrence.ts reads them). */
  private async remember(trigger: TriggerState, result: RollbackResult): Promise<void> {
    const record: AutoRollbackRecord = {
      env: this.ctx.env.name,
      at: new Date(this.ctx.clock.now()).toISOString(),
      trigger: trigger.name,
      from: result.from,
      to: result.to,
      verification: result.verification,
    };
    try {
      await this.log.append(record);
    } catch (err) {
      this.ctx.alert('warning', `cannot record the automatic rollback in the state dir: ${errorText(err)} (kept in memory)`);
    }
  }

  private async rollBack(trigger: TriggerState, attempts: number): Promise<void> {
    const { ctx, host } = this;
    const env = ctx.env.name;
    const signal = ctx.signal;
    const decidedOn = host.live() as string;
    const base = trigger.baseline === null ? 'no baseline' : `baseline ${fmt(trigger.baseline)}${trigger.unit}`;
    const summary = `${trigger.name} ${fmt(trigger.value)}${trigger.unit} vs threshold ${fmt(trigger.threshold)}${trigger.unit} (${base})`;
    host.setPhase('triggered');
    ctx.alert('critical', `auto-rollback initiated on ${env}: ${summary}`, {
      event: 'auto_rollback_initiated',
      text: trigger.explanation,
      data: { trigger: trigger.name, value: trigger.value, threshold: trigger.threshold, baseline: trigger.baseline, release: decidedOn },
    });
    if (ctx.policy.rollback.grace_seconds > 0) {
      if (!(await this.grace(trigger, decidedOn))) return;
      if (host.paused()) return;
      const why = await this.stillWarranted(trigger, decidedOn);
      if (why !== null) {
        if (signal.aborted) return;
        ctx.alert('warning', `automatic rollback of ${env} called off: ${why}`, { event: 'auto_rollback_called_off', data: { trigger: trigger.name, release: decidedOn } });
        if (!this.escalatedNow) host.setPhase(host.establishing() ? 'baseline' : 'watching');
        return;
      }
    }

    this.rollingNow = true;
    host.setPhase('rolling_back');
    const tried = new Set<string>();
    let from = decidedOn;
    let lastProblem = '';
    const unhealthy: string[] = [];
    try {
      for (let attempt = 1; attempt <= attempts && !signal.aborted; attempt++) {
        tried.add(from);
        let target: Backup | null;
        try {
          target = attempt === 1 ? pickDefaultTarget(await ctx.handle.store.list({ signal }), from) : await this.nextKnownGood(from, tried);
        } catch (err) {
          // A damaged marks.json says so itself; anything else failed while listing.
          lastProblem = isUserError(err) && err.code === 'MARKS_DAMAGED' ? errorText(err) : `cannot list backups: ${errorText(err)}`;
          break;
        }
        if (!target || target.bad) {
          lastProblem = attempt === 1 ? `nothing to roll back to from ${from} (no older release that is not marked bad)` : `no older known-good release than ${from} left to try`;
          break;
        }
        ctx.emit({ type: 'rollback', env, phase: 'started', trigger, target: target.name, attempt });
        const explanation = attempt === 1 ? trigger.explanation : `${trigger.explanation}; attempt ${attempt}: ${from} was also unhealthy`;
        const request: RollbackRequest = {
          env,
          kind: attempt === 1 ? 'standard' : 'targeted',
          reason: `automatic rollback: ${trigger.name} breached (${summary})`,
          trigger: trigger.name,
          explanation,
          signal,
          // Only a stale lock (dead or long-silent owner) is ever broken, and only if the policy allows.
          breakLock: ctx.env.policy.rollback.break_stale_locks,
          // The engine refuses, under the lock, if live is no longer what this decision was made on.
          expectFrom: from,
          ...(attempt === 1 ? {} : { to: target.name }),
        };
        let result: RollbackResult;
        try {
          result = await ctx.engine.run(request, (event) => ctx.emit({ type: 'engine', env, event }));
        } catch (err) {
          lastProblem = `rollback to ${target.name} failed: ${errorText(err)}`;
          ctx.alert('critical', lastProblem);
          if ((err as { exitCode?: number }).exitCode === ExitCode.LOCKED) return;
          break;
        }
        ctx.emit({ type: 'rollback', env, phase: 'finished', result, attempt });
        tried.add(result.to);
        const switched = !result.dry_run && (result.ok || result.verification === 'failed');
        if (switched) await this.remember(trigger, result);
        if (result.ok && result.verification !== 'failed') {
          ctx.alert('info', `auto-rollback of ${env} to ${result.to} succeeded (verification ${result.verification}); establishing a new baseline`, {
            event: 'auto_rollback_succeeded',
            data: { from: result.from, to: result.to, trigger: trigger.name, attempt },
          });
          await host.adoptRelease(result.to, ctx.clock.now(), { rebaseline: true });
          return;
        }
        if (result.exit_code === ExitCode.LOCKED) {
          ctx.alert('warning', `auto-rollback stopped: ${result.error ?? 'the lock is held'}`);
          return;
        }
        if (result.verification === 'failed') {
          unhealthy.push(result.to);
          lastProblem = `${result.to} is also unhealthy after the rollback (verification failed)`;
          ctx.alert('critical', `${lastProblem}; trying the next older known-good release`);
          from = result.to;
          continue;
        }
        if (result.code === 'LIVE_CHANGED') {
          // Someone else changed the live release since the decision: void, not a systemic issue.
          ctx.alert('warning', `auto-rollback not done: ${result.error ?? 'the live release changed since the decision'}`);
          return;
        }
        lastProblem = `rollback to ${target.name} failed: ${result.error ?? `exit ${result.exit_code}`}`;
        break;
      }
      if (signal.aborted) return;
      const also = unhealthy.length > 0 ? `previous release${unhealthy.length === 1 ? '' : 's'} ${unhealthy.join(', ')} also unhealthy; ` : '';
      await this.escalate(trigger, `${also}${lastProblem || `still unhealthy after ${attempts} rollback attempts`}`, { maintenance: unhealthy.length > 0 });
    } finally {
      this.rollingNow = false;
      if (!this.escalatedNow && host.phase() === 'rolling_back') host.setPhase('watching');
    }
  }

  /**
   * Stop: a critical "systemic issue" notification, recorded in history, and automation paused until an
   * operator resumes it (a new live release does not re-arm it). The windows follow the live release.
   */
  private async escalate(trigger: TriggerState, problem: string, options: { maintenance?: boolean } = {}): Promise<void> {
    const { ctx, host } = this;
    let live: string | null = host.live();
    try {
      live = await ctx.handle.store.live();
    } catch {
      // keep the last known
    }
    if (live !== host.live()) await host.adoptRelease(live, ctx.clock.now());
    this.escalatedNow = true;
    host.setPhase('escalated');
    const message = `systemic issue on ${ctx.env.name}: ${problem}. Automatic rollback stopped${options.maintenance ? '; maintenance stays on' : ''}; live is ${live ?? 'none'}. Manual action needed.`;
    await ctx.record('escalation', ctx.actor, message, { trigger: trigger.name, explanation: trigger.explanation, success: false, error: problem });
    if (!host.paused()) await host.pauseAutomation(ctx.actor);
    ctx.emit({ type: 'escalation', env: ctx.env.name, message });
    ctx.alert('critical', message, { event: 'escalation', text: trigger.explanation, data: { trigger: trigger.name, live } });
  }
}
