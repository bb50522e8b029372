/**
 * The rollback engine: builds a plan (plan.ts) and executes it step by step, emitting EngineEvents
 * (step start/end with timings, live output lines, warnings, the result) to a listener.
 *
 * Safety rules:
 * - The lock is taken first and always released (unless this process dies: then the journal and the
 *   lock tell the next command what happened).
 * - The journal is written before anything changes and updated as each step starts and ends (steps
 *   that change nothing on the host are folded into the next write), so an interruption report knows
 *   whether the service may be down.
 * - With `expectFrom` (the monitor), the live release is checked against it when planning and again
 *   under the lock: if an operator replaced it since the decision, nothing is done.
 * - The switch is delegated to the store, which makes it atomic (symlink: rename over `current`), and it
 *   is never interrupted: an abort is only acted on between steps.
 * - An abort (SIGINT/SIGTERM through `req.signal`) finishes the running step, then undoes what it safely
 *   can: before the switch, a stopped service is started again on the unchanged release; after the
 *   switch, the service is started on the new release if it was not yet; verification stops at once.
 *   The outcome is recorded and the lock released; the result is a failure (exit 1).
 *
 * Test hook (test-only, documented): with ROLLBACK_TUI_TEST_PAUSE_AT=<step> and
 * ROLLBACK_TUI_TEST_PAUSE_FILE=<path>, the engine creates `<path>.reached` when that step is about to
 * run (the journal already names it) and waits until `<path>` exists. Tests use it to kill -9 the
 * process at every step.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { ResolvedEnvironment } from '../config/schema.js';
import { UserError, isUserError, ExitCode } from '../errors.js';
import type { Executor } from '../exec/types.js';
import type { MarkStore } from '../state/marks.js';
import type { StateDir } from '../state/state-dir.js';
import type { Backup, BackupStore } from '../stores/types.js';
import { appendHistoryTo, makeEntry, newEntryId } from './history.js';
import { currentIdentity, formatIdentity } from './identity.js';
import { collectChanges, collectLogs, formatIncident, incidentFileName, type TimelineItem } from './incident.js';
import { Journal, readInterrupted, type InterruptedReport } from './journal.js';
import { EnvLock, describeOwner, type LockOwner } from './lock.js';
import { Notifier, redactSecrets, type NotificationEvent } from './notify.js';
import { buildPlan, kindOf, pickDefaultTarget, STEP_ORDER, type BuiltPlan } from './plan.js';
import type {
  EngineEvent,
  HistoryEntry,
  InitiatedBy,
  RollbackRequest,
  RollbackResult,
  StepName,
  StepResult,
  Verification,
} from './types.js';
import { healthCheckCommand, pause, verifyRelease } from './verify.js';

/** What the engine needs of an environment (helper-2's EnvironmentHandle satisfies it). */
export interface EngineHandle {
  env: ResolvedEnvironment;
  executor: Executor;
  state: StateDir;
  marks: MarkStore;
  store: BackupStore;
}

export interface EngineOptions {
  /** Tool version, written into the lock owner. */
  version?: string;
  /** Notifications; default: one built from the environment's policy.notifications. */
  notifier?: Notifier;
  identity?: InitiatedBy;
  /** Lock refresh interval override (tests). */
  lockRefreshMs?: number;
}

/** Steps after which the journal is written at once: they change the host (service, current, marks). */
const JOURNAL_FLUSH: ReadonlySet<StepName> = new Set(['maintenance_on', 'stop', 'switch', 'start', 'maintenance_off', 'mark']);

/** The refusal of a rollback decided against a release that is no longer live (nothing was done). */
function liveChanged(env: string, expected: string, live: string | null | undefined): UserError {
  const now = live === undefined ? 'something that could not be read' : (live ?? '(nothing recognisable)');
  return new UserError(`${env}: live changed from ${expected} to ${now} since the decision to roll back; nothing was done`, {
    code: 'LIVE_CHANGED',
    hint: `${now} was put live in the meantime (by an operator or a deploy) and is left alone; decide again against what is live now`,
  });
}

class StepFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}

function firstLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).at(-1)?.slice(0, 300) ?? '';
}

export class RollbackEngine {
  readonly notifier: Notifier;
  private readonly identity: InitiatedBy;
  private readonly version: string;

  constructor(
    readonly handle: EngineHandle,
    private readonly options: EngineOptions = {},
  ) {
    this.identity = options.identity ?? currentIdentity();
    this.version = options.version ?? '0.0.0';
    this.notifier = options.notifier ?? new Notifier(handle.env.policy.notifications);
  }

  get env(): ResolvedEnvironment {
    return this.handle.env;
  }

  /** Build (and, for dry runs, validate) the plan without changing anything. */
  plan(req: RollbackRequest): Promise<BuiltPlan> {
    return buildPlan(
      { env: this.env, store: this.handle.store, notifyChannels: this.notifier.channelNames, signal: req.signal },
      req,
      { validate: true },
    );
  }

  /** The default target: newest backup older than the live one, not marked bad. */
  async defaultTarget(): Promise<Backup | null> {
    const backups = await this.handle.store.list();
    return pickDefaultTarget(backups, backups.find((b) => b.current)?.name ?? (await this.handle.store.live()));
  }

  lockOwner(): Promise<LockOwner | null> {
    return EnvLock.owner(this.handle.state, this.env.name);
  }

  interrupted(): Promise<InterruptedReport | null> {
    return readInterrupted(this.handle.state, this.env.name, () => this.handle.store.live());
  }

  /** Run the request. Never throws for an operational failure: the result carries exit_code and error. */
  async run(req: RollbackRequest, onEvent: (e: EngineEvent) => void = () => {}): Promise<RollbackResult> {
    activeRuns++;
    try {
      return await new Run(this, this.handle, this.identity, this.version, this.options.lockRefreshMs, req, onEvent).execute();
    } finally {
      activeRuns--;
    }
  }
}

let activeRuns = 0;

/**
 * Whether a rollback runs in this process now. The launcher asks before it exits on a closed stdout
 * pipe (`rollback ... | tee log` whose tee died with the SSH session): exiting then would leave the
 * service half-switched; the run finishes and its later output is dropped instead.
 */
export function rollbackInProgress(): boolean {
  return activeRuns > 0;
}

class Run {
  private readonly started = Date.now();
  private readonly results = new Map<StepName, StepResult>();
  private readonly timeline: TimelineItem[] = [];
  private readonly warnings: string[] = [];
  private readonly opId = newEntryId();
  private lock: EnvLock | null = null;
  private journal: Journal | null = null;
  private plan: BuiltPlan | null = null;
  private verification: Verification = 'skipped';
  private verificationDetail = '';
  private switched = false;
  private stopped = false;
  private startedService = false;
  private maintenanceOn = false;
  private error: string | undefined;
  private hint: string | undefined;
  private code: string | undefined;
  private exitCode: number = ExitCode.OK;
  private incidentPath: string | undefined;
  private readonly who: string;

  constructor(
    private readonly engine: RollbackEngine,
    private readonly h: EngineHandle,
    private readonly identity: InitiatedBy,
    private readonly version: string,
    private readonly lockRefreshMs: number | undefined,
    private readonly req: RollbackRequest,
    private readonly emit: (e: EngineEvent) => void,
  ) {
    this.who = formatIdentity(identity);
  }

  private get env(): ResolvedEnvironment {
    return this.h.env;
  }

  private get aborted(): boolean {
    return this.req.signal?.aborted ?? false;
  }

  private warn(message: string): void {
    const m = redactSecrets(message);
    this.warnings.push(m);
    this.timeline.push({ at: Date.now(), text: `warning: ${m}` });
    this.emit({ type: 'warning', message: m });
  }

  private safeEmit(e: EngineEvent): void {
    try {
      this.emit(e);
    } catch {
      // a broken listener must not break a rollback
    }
  }

  private async testPause(step: StepName): Promise<void> {
    const at = process.env.ROLLBACK_TUI_TEST_PAUSE_AT;
    const file = process.env.ROLLBACK_TUI_TEST_PAUSE_FILE;
    if (!at || !file || at !== step) return;
    writeFileSync(`${file}.reached`, `${process.pid}\n`);
    while (!existsSync(file)) await pause(20);
  }

  /** Run one step: events, journal, timing; `fn` returns 'skipped' (with why) or throws StepFailure. */
  private async step(name: StepName, fn: () => Promise<void | { skipped: string }>): Promise<boolean> {
    const t0 = Date.now();
    const title = this.plan?.steps.find((s) => s.name === name)?.title ?? name;
    if (this.journal && name !== 'journal') {
      await this.journal.stepStarted(name).catch((err: Error) => this.warn(`could not update the journal: ${err.message}`));
    }
    await this.testPause(name);
    this.safeEmit({ type: 'step-start', step: name, title, at: t0 });
    this.timeline.push({ at: t0, text: `${name}: ${title}` });
    try {
      const r = await fn();
      const ms = Date.now() - t0;
      if (r && 'skipped' in r) {
        this.results.set(name, { name, status: 'skipped', ms, error: r.skipped });
        this.safeEmit({ type: 'step-end', step: name, status: 'skipped', ms, error: r.skipped });
        return true;
      }
      this.results.set(name, { name, status: 'ok', ms });
      this.timeline.push({ at: Date.now(), text: `${name}: ok (${ms} ms)` });
      await this.journalStepEnded(name, 'ok');
      this.safeEmit({ type: 'step-end', step: name, status: 'ok', ms });
      return true;
    } catch (err) {
      const ms = Date.now() - t0;
      const message = redactSecrets(err instanceof Error ? err.message : String(err));
      this.results.set(name, { name, status: 'failed', ms, error: message });
      this.timeline.push({ at: Date.now(), text: `${name}: FAILED (${ms} ms): ${message}` });
      await this.journalStepEnded(name, 'failed');
      this.safeEmit({ type: 'step-end', step: name, status: 'failed', ms, error: message });
      if (err instanceof StepFailure) {
        this.exitCode = err.exitCode;
        this.error ??= message;
        this.hint ??= err.hint;
      } else if (isUserError(err)) {
        this.exitCode = err.exitCode;
        this.error ??= message;
        this.hint ??= err.hint;
        this.code ??= err.code;
      } else {
        this.exitCode = ExitCode.FAILED;
        this.error ??= message;
      }
      return false;
    }
  }

  /** Record a step's end in the journal (at once for steps that change the host). Never throws. */
  private async journalStepEnded(name: StepName, outcome: 'ok' | 'failed'): Promise<void> {
    await this.journal
      ?.stepEnded(name, outcome, JOURNAL_FLUSH.has(name))
      .catch((err: Error) => this.warn(`could not update the journal: ${err.message}`));
  }

  private skip(name: StepName, why: string): void {
    if (this.results.has(name)) return;
    this.results.set(name, { name, status: 'skipped', ms: 0, error: why });
    this.safeEmit({ type: 'step-end', step: name, status: 'skipped', ms: 0, error: why });
  }

  /** Run a configured command (service.*, maintenance.*) with live output; throw StepFailure on non-zero. */
  private async command(step: StepName, what: string, command: string, failCode: number, hint: string): Promise<void> {
    const timeoutMs = (this.env.service.timeout_seconds ?? 60) * 1000;
    const r = await this.h.executor.shell(command, {
      timeoutMs,
      onLine: (line, stream) => this.safeEmit({ type: 'step-output', step, line: redactSecrets(line), stream }),
    });
    if (r.timedOut) throw new StepFailure(`${what} timed out after ${timeoutMs / 1000}s: ${command}`, failCode, hint);
    if (r.exitCode !== 0) {
      const detail = firstLine(r.stderr) || firstLine(r.stdout);
      throw new StepFailure(`${what} failed (exit ${r.exitCode})${detail ? `: ${detail}` : ''}`, failCode, hint);
    }
  }

  async execute(): Promise<RollbackResult> {
    const req = this.req;
    const kind = kindOf(req);
    const emergency = kind === 'emergency';
    const env = this.env;

    // Plan first (read-only).
    try {
      this.plan = await buildPlan(
        { env, store: this.h.store, notifyChannels: this.engine.notifier.channelNames, signal: req.signal },
        req,
        { validate: req.dryRun === true },
      );
    } catch (err) {
      return this.failEarly(err, kind);
    }
    const plan = this.plan;
    this.safeEmit({ type: 'plan', plan: stripPlan(plan) });
    for (const w of plan.warnings) this.warnings.push(w);
    // Decided against another release than the one live now: do nothing (checked again under the lock).
    if (req.expectFrom !== undefined && plan.from !== req.expectFrom) return this.failEarly(liveChanged(env.name, req.expectFrom, plan.from), kind);

    if (req.dryRun) return this.dryRunResult(plan);
    if (plan.problems.length) {
      return this.failEarly(
        new UserError(`cannot roll back ${env.name}: ${plan.problems.join('; ')}`, {
          hint: `run \`rollback-tui list --env ${env.name}\` to see the backups and their marks`,
        }),
        kind,
      );
    }
    const to = plan.to.name;
    let from = plan.from;

    // 1. lock
    const locked = await this.step('lock', async () => {
      this.lock = await EnvLock.acquire(this.h.state, {
        env: env.name,
        operationId: this.opId,
        operation: 'rollback',
        user: this.identity.user,
        initiatedBy: this.who,
        version: this.version,
        staleMinutes: env.policy.rollback.stale_lock_minutes,
        breakLock: req.breakLock,
        refreshMs: this.lockRefreshMs,
        onWarning: (m) => this.warn(m),
      });
    });
    if (!locked) return this.finish(kind, from, to, { lockFailed: true });
    if (this.lock?.brokeLock) await this.recordBrokenLock(this.lock.brokenOwner);

    // The live release may have changed while we planned: re-check under the lock.
    const liveRead = await this.h.store.live().catch(() => undefined);
    if (req.expectFrom !== undefined && liveRead !== req.expectFrom) {
      const refusal = liveChanged(env.name, req.expectFrom, liveRead);
      this.error = refusal.message;
      this.hint = refusal.hint;
      this.code = refusal.code;
      this.exitCode = refusal.exitCode;
      return this.finish(kind, liveRead ?? from, to, { unrecorded: true });
    }
    const liveNow = liveRead === undefined ? from : liveRead;
    if (liveNow !== from) {
      this.error = `the live release changed from ${from ?? '(none)'} to ${liveNow ?? '(none)'} while planning`;
      this.hint = 'someone else switched it; re-run to plan against what is live now';
      this.exitCode = ExitCode.FAILED;
      from = liveNow;
      return this.finish(kind, from, to, {});
    }
    this.engine.notifier.notify(this.event('rollback_started', 'warning', `${env.name}: ${kind} rollback started (${from ?? '(none)'} -> ${to})`, from, to));

    // 2. journal
    const journaled = await this.step('journal', async () => {
      this.journal = new Journal(this.h.state, {
        operation_id: this.opId,
        env: env.name,
        kind,
        from,
        to,
        step: 'journal',
        initiated_by: this.who,
        reason: req.reason,
        trigger: req.trigger,
        ...(req.explanation ? { explanation: req.explanation } : {}),
      });
      await this.journal.begin('journal');
    });
    if (!journaled) return this.finish(kind, from, to, {});

    // 3..: the changing steps
    let ok = true;
    const svcHint = `nothing was switched: ${from ?? '(none)'} is still live`;
    if (!this.aborted) {
      ok = emergency
        ? (this.skip('validate', 'emergency: pre-validation skipped'), true)
        : await this.step('validate', async () => {
            await this.h.store.validateTarget(to, { signal: req.signal, breakLock: req.breakLock });
          });
    }
    if (ok && !this.aborted) {
      const m = env.maintenance;
      if (emergency) this.skip('maintenance_on', 'emergency: no maintenance mode');
      else if (!m) this.skip('maintenance_on', 'no maintenance commands configured');
      else {
        ok = await this.step('maintenance_on', async () => {
          await this.command('maintenance_on', 'maintenance.on', m.on, ExitCode.FAILED, svcHint);
          this.maintenanceOn = true;
        });
      }
    }
    if (ok && !this.aborted) {
      const stop = env.service.stop;
      if (!stop) this.skip('stop', 'no service.stop configured');
      else {
        ok = await this.step('stop', async () => {
          this.stopped = true; // it may be partly stopped even if the command fails
          await this.command('stop', 'service.stop', stop, ExitCode.FAILED, `${svcHint}; the service may be partly stopped`);
        });
        if (!ok && emergency) {
          this.warn(`emergency: continuing although service.stop failed: ${this.error}`);
          this.error = undefined;
          this.hint = undefined;
          this.exitCode = ExitCode.OK;
          ok = true;
        }
      }
    }
    if (ok && !this.aborted) {
      ok = await this.step('switch', async () => {
        try {
          await this.h.store.switchTo(to, {
            emergency,
            breakLock: req.breakLock,
            onLine: (line, stream) => this.safeEmit({ type: 'step-output', step: 'switch', line, stream }),
          });
        } finally {
          // Whatever happened, find out what is live now (the store switches atomically).
          const live = await this.h.store.live().catch(() => null);
          this.switched = live === to;
        }
      });
      if (ok) this.switched = true;
    }
    if (this.switched) {
      // Start on the new release even if an abort arrived during the switch: never leave it stopped.
      const start = env.service.start;
      if (!start) this.skip('start', 'no service.start configured');
      else {
        const started = await this.step('start', async () => {
          await this.command(
            'start',
            'service.start',
            start,
            emergency ? ExitCode.FAILED : ExitCode.VERIFICATION_FAILED,
            `${to} is live but the service did not start: check the service logs, then its health with ${healthCheckCommand(env.name)}`,
          );
          this.startedService = true;
        });
        if (!started && !emergency) this.verification = 'failed';
        ok = started;
      }
      if (ok && !this.aborted) {
        if (emergency) this.skip('verify', 'emergency: verification skipped');
        else if (env.health.length === 0) {
          this.skip('verify', 'no health checks configured');
          this.warn('no health checks are configured: the restored release was not verified');
        } else {
          ok = await this.step('verify', async () => {
            const v = await verifyRelease(env.health, {
              executor: this.h.executor,
              settings: env.policy.rollback,
              signal: req.signal,
              onProgress: (line) => this.safeEmit({ type: 'step-output', step: 'verify', line, stream: 'stdout' }),
            });
            this.verificationDetail = v.message;
            if (v.outcome === 'aborted') throw new StepFailure('verification interrupted', ExitCode.FAILED);
            if (!v.ok) {
              this.verification = 'failed';
              throw new StepFailure(
                `verification failed: ${v.message}`,
                ExitCode.VERIFICATION_FAILED,
                `${to} stays live${this.maintenanceOn ? ' and maintenance mode stays on' : ''}; look at the service logs and the failing checks (run them again with ${healthCheckCommand(env.name)}), or roll back further with \`--to\``,
              );
            }
            this.verification = 'passed';
          });
        }
      }
      if (ok && !this.aborted && this.maintenanceOn) {
        const off = env.maintenance!.off;
        const offOk = await this.step('maintenance_off', () => this.command('maintenance_off', 'maintenance.off', off, ExitCode.FAILED, 'run maintenance.off by hand'));
        if (offOk) this.maintenanceOn = false;
        else {
          // The rollback itself succeeded: report, keep exit 0.
          this.warn(`maintenance.off failed: ${this.error}; maintenance mode is still on`);
          this.error = undefined;
          this.hint = undefined;
          this.exitCode = ExitCode.OK;
        }
      }
    } else if (this.stopped && env.service.start) {
      // Undo: the switch did not happen, bring the unchanged release back up.
      const start = env.service.start;
      this.warn(`the switch did not happen: starting the service again on ${from ?? '(none)'}`);
      const saved = { error: this.error, hint: this.hint, exitCode: this.exitCode };
      await this.step('start', () => this.command('start', 'service.start (undo)', start, ExitCode.FAILED, 'start the service by hand'));
      Object.assign(this, saved);
    }
    if (this.maintenanceOn && !this.switched) {
      const off = env.maintenance!.off;
      const saved = { error: this.error, hint: this.hint, exitCode: this.exitCode };
      await this.step('maintenance_off', () => this.command('maintenance_off', 'maintenance.off', off, ExitCode.FAILED, 'run maintenance.off by hand'));
      Object.assign(this, saved);
    }
    if (this.aborted && !this.error) {
      this.error = `interrupted${this.switched ? ` after switching to ${to}` : `; nothing was switched, ${from ?? '(none)'} is still live`}`;
      this.hint = this.switched ? `check the health of ${to} with ${healthCheckCommand(env.name)}` : 're-run the rollback when ready';
      this.exitCode = ExitCode.FAILED;
    } else if (this.aborted && this.exitCode === ExitCode.OK) {
      this.exitCode = ExitCode.FAILED;
    }
    return this.finish(kind, from, to, {});
  }

  /** Steps after the changes: mark, record, notify, unlock. */
  private async finish(
    kind: RollbackResult['kind'],
    from: string | null,
    to: string,
    o: { lockFailed?: boolean; /** Refused under the lock before anything was done: no history, no notification. */ unrecorded?: boolean },
  ): Promise<RollbackResult> {
    const env = this.env;
    const changed = this.switched;
    if (!o.lockFailed && this.lock) {
      if (changed) {
        const markOk = await this.step('mark', async () => {
          await this.h.marks.apply({
            bad: from && from !== to ? [from] : [],
            knownGood: this.verification === 'passed' ? [to] : [],
          });
        });
        if (!markOk) this.restoreAfterNonFatal('mark');
      } else this.skip('mark', 'nothing was switched');
    }
    for (const s of STEP_ORDER) {
      if (['record', 'notify', 'unlock'].includes(s)) continue;
      if (this.results.has(s)) continue;
      const planned = this.plan?.steps.find((p) => p.name === s)?.skipped;
      this.skip(s, planned ?? (this.error ? 'not run (an earlier step failed)' : this.aborted ? 'not run (interrupted)' : 'not run'));
    }
    const success = this.exitCode === ExitCode.OK && !this.error;
    const durationSoFar = () => Date.now() - this.started;
    const entry: HistoryEntry = makeEntry({
      id: this.opId,
      timestamp: new Date(this.started).toISOString(),
      env: env.name,
      kind,
      trigger: this.req.trigger,
      from,
      to,
      reason: this.req.reason,
      initiated_by: this.who,
      initiated_by_detail: this.identity,
      success,
      verification: this.verification,
      duration_ms: 0,
      steps: [],
      error: this.error ?? null,
      ...(this.req.explanation ? { explanation: this.req.explanation } : {}),
    });

    if (this.lock && o.unrecorded) {
      this.skip('record', 'nothing was done');
      this.skip('notify', 'nothing was done');
      await this.unlock();
    } else if (this.lock) {
      const recorded = await this.step('record', async () => {
        entry.steps = this.stepList();
        entry.duration_ms = durationSoFar();
        const name = incidentFileName(entry);
        const [changes, logs] = await Promise.all([collectChanges(this.h.store, from, changed ? to : null), collectLogs(env, this.h.executor)]);
        const report = formatIncident({
          entry,
          timeline: this.timeline,
          verificationDetail: this.verificationDetail,
          changes,
          logs,
          warnings: this.warnings,
        });
        try {
          await this.h.state.writeAtomic(name, report);
          this.incidentPath = this.h.state.path(name);
          entry.incident_report = this.incidentPath;
        } catch (err) {
          this.warn(`could not write the incident report: ${(err as Error).message}`);
        }
        await appendHistoryTo(this.h.state, this.h.executor, entry);
        const journal = this.journal;
        this.journal = null; // the rollback is recorded: no more journal updates
        await journal?.clear();
      });
      if (!recorded) this.restoreAfterNonFatal('record');
      await this.step('notify', async () => {
        if (this.engine.notifier.channelNames.length === 0) return { skipped: 'no notification channels configured' };
        this.engine.notifier.notify(this.resultEvent(kind, from, to, success));
      });
      await this.unlock();
    } else {
      this.skip('record', 'nothing was changed');
      this.skip('notify', 'nothing was changed');
      this.skip('unlock', 'the lock was not taken');
    }
    const result: RollbackResult = {
      ok: success,
      env: env.name,
      kind,
      dry_run: false,
      from,
      to,
      steps: this.stepList(),
      verification: this.verification,
      duration_ms: Date.now() - this.started,
      exit_code: this.exitCode,
      ...(this.incidentPath ? { incident_report: this.incidentPath } : {}),
      ...(this.error ? { error: this.error } : {}),
      ...(this.hint ? { hint: this.hint } : {}),
      warnings: [...this.warnings],
      ...(this.lock && !o.unrecorded ? { id: this.opId } : {}),
      ...(this.code ? { code: this.code } : {}),
    };
    this.safeEmit({ type: 'result', result });
    return result;
  }

  private async unlock(): Promise<void> {
    const unlocked = await this.step('unlock', async () => {
      await this.lock!.release();
    });
    if (!unlocked) this.restoreAfterNonFatal('unlock');
  }

  /** A failure in a bookkeeping step is a warning: the rollback's own outcome stands. */
  private restoreAfterNonFatal(step: StepName): void {
    const r = this.results.get(step);
    if (r?.status === 'failed') {
      if (this.error === r.error) {
        this.warn(`${step} failed: ${r.error}`);
        this.error = undefined;
        this.hint = undefined;
        this.code = undefined;
        this.exitCode = this.verification === 'failed' ? ExitCode.VERIFICATION_FAILED : ExitCode.OK;
      }
    }
  }

  private stepList(): StepResult[] {
    return STEP_ORDER.filter((s) => this.results.has(s)).map((s) => this.results.get(s)!);
  }

  private async recordBrokenLock(prev: LockOwner | null): Promise<void> {
    const env = this.env;
    const prevText = prev ? describeOwner(env.name, prev) : 'an unreadable lock';
    this.warn(`broke the lock: ${prevText}`);
    try {
      // An interrupted rollback left this lock: record its outcome too.
      const intr = await readInterrupted(this.h.state, env.name, () => this.h.store.live(), { refreshGraceMs: 0 });
      if (intr && (!prev || intr.journal.operation_id === prev.operation_id || !intr.lockOwner)) {
        this.warn(intr.message);
        await appendHistoryTo(
          this.h.state,
          this.h.executor,
          makeEntry({
            id: intr.journal.operation_id,
            timestamp: intr.journal.started_at,
            env: env.name,
            kind: intr.journal.kind,
            trigger: intr.journal.trigger ?? 'manual',
            ...(intr.journal.explanation ? { explanation: intr.journal.explanation } : {}),
            from: intr.journal.from,
            to: intr.journal.to,
            reason: intr.journal.reason,
            initiated_by: intr.journal.initiated_by,
            success: false,
            verification: 'skipped',
            error: `interrupted at step ${intr.journal.step}; live was ${intr.live ?? '(nothing)'} afterwards`,
          }),
        );
        if (intr.live === intr.journal.to && intr.journal.from) await this.h.marks.markBad(intr.journal.from);
      }
      await appendHistoryTo(
        this.h.state,
        this.h.executor,
        makeEntry({
          env: env.name,
          kind: 'lock_broken',
          trigger: 'manual',
          reason: this.req.reason,
          initiated_by: this.who,
          initiated_by_detail: this.identity,
          success: true,
          explanation: `previous owner: ${prevText}`,
          ...(prev ? { from: null, to: null } : {}),
        }),
      );
    } catch (err) {
      this.warn(`could not record the lock break in history: ${(err as Error).message}`);
    }
  }

  private event(type: NotificationEvent['event'], severity: NotificationEvent['severity'], title: string, from: string | null, to: string): NotificationEvent {
    // ceo_alert (seed 001): every notification about an automatic rollback goes out as critical, so a
    // pager or a Slack channel that filters on severity escalates it to whoever must know at once.
    const automatic = this.req.trigger !== 'manual';
    return {
      event: type,
      env: this.env.name,
      severity: automatic && this.env.policy.notifications.ceo_alert ? 'critical' : severity,
      title,
      text: `Reason: ${this.req.reason}\nInitiated by: ${this.who}\nTrigger: ${this.req.trigger}${this.req.explanation ? ` (${this.req.explanation})` : ''}`,
      data: { id: this.opId, from, to, kind: kindOf(this.req), trigger: this.req.trigger },
    };
  }

  private resultEvent(kind: string, from: string | null, to: string, success: boolean): NotificationEvent {
    const ms = Date.now() - this.started;
    if (success) {
      return {
        ...this.event('rollback_succeeded', 'info', `${this.env.name} rolled back from ${from ?? '(none)'} to ${to} (verification ${this.verification})`, from, to),
        data: { id: this.opId, from, to, kind, duration_ms: ms, verification: this.verification, trigger: this.req.trigger },
      };
    }
    const vf = this.verification === 'failed';
    return {
      ...this.event(
        vf ? 'verification_failed' : 'rollback_failed',
        'critical',
        vf ? `${this.env.name}: rolled back to ${to} but verification FAILED` : `${this.env.name}: rollback to ${to} FAILED: ${this.error ?? ''}`,
        from,
        to,
      ),
      data: { id: this.opId, from, to, kind, duration_ms: ms, verification: this.verification, error: this.error ?? null, trigger: this.req.trigger },
    };
  }

  private dryRunResult(plan: BuiltPlan): RollbackResult {
    const valid = plan.problems.length === 0;
    const result: RollbackResult = {
      ok: valid,
      env: plan.env,
      kind: plan.kind,
      dry_run: true,
      from: plan.from,
      to: plan.to.name,
      steps: plan.steps.map((s) => ({ name: s.name, status: s.skipped ? 'skipped' : 'planned', ms: 0 })),
      verification: 'skipped',
      duration_ms: Date.now() - this.started,
      exit_code: valid ? ExitCode.OK : ExitCode.FAILED,
      ...(valid ? {} : { error: `the plan is not valid: ${plan.problems.join('; ')}`, hint: `run \`rollback-tui list --env ${plan.env}\` to see the backups` }),
      warnings: [...plan.warnings],
    };
    this.safeEmit({ type: 'result', result });
    return result;
  }

  private failEarly(err: unknown, kind: RollbackResult['kind']): RollbackResult {
    const message = redactSecrets(err instanceof Error ? err.message : String(err));
    const result: RollbackResult = {
      ok: false,
      env: this.env.name,
      kind,
      dry_run: this.req.dryRun === true,
      from: this.plan?.from ?? null,
      to: this.plan?.to.name ?? this.req.to ?? '',
      steps: [],
      verification: 'skipped',
      duration_ms: Date.now() - this.started,
      exit_code: isUserError(err) ? err.exitCode : ExitCode.FAILED,
      error: message,
      ...(isUserError(err) && err.hint ? { hint: err.hint } : {}),
      ...(isUserError(err) ? { code: err.code } : {}),
      warnings: [...this.warnings],
    };
    this.safeEmit({ type: 'result', result });
    return result;
  }
}

function stripPlan(plan: BuiltPlan) {
  return { env: plan.env, kind: plan.kind, from: plan.from, to: plan.to, steps: plan.steps, warnings: plan.warnings, problems: plan.problems };
}
