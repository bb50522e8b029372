/**
 * One rollback run against one host's handle: the steps' results and timings, the timeline, the
 * warnings, what the run has done to the host (stopped, switched, maintenance on), the run's one
 * `failure`, and the result built from all of it. The phases (preflight.ts, change.ts, verify-phase.ts,
 * record.ts) act through a Run; a fleet runs one Run per host.
 *
 * Failure rule: the first fatal failure of a run is its failure (message, hint, code, exit code); a
 * failing bookkeeping step (maintenance off after success, an undo, mark, record, unlock) is a warning
 * and leaves the rollback's own outcome standing.
 *
 * Test hook (test-only, documented): with ROLLBACK_TUI_TEST_PAUSE_AT=<step> and
 * ROLLBACK_TUI_TEST_PAUSE_FILE=<path>, a run creates `<path>.reached` when that step is about to run
 * (the journal already names it) and waits until `<path>` exists. Tests use it to kill -9 the process
 * at every step, or to change the host under a paused run.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { shQuote } from '../exec/quote.js';
import { STATE_FUNCTIONS, stateCall } from '../state/state-script.js';
import type { ResolvedEnvironment } from '../config/schema.js';
import { ExitCode, isUserError } from '../errors.js';
import type { Executor } from '../exec/types.js';
import type { MarkStore } from '../state/marks.js';
import type { StateDir } from '../state/state-dir.js';
import type { BackupStore } from '../stores/types.js';
import { newEntryId } from './history.js';
import type { TimelineItem } from './incident.js';
import { journalFile, type Journal } from './journal.js';
import type { EnvLock } from './lock.js';
import { redactSecrets, type Notifier, type RollbackEventFacts } from './notify.js';
import { kindOf, STEP_ORDER, type BuiltPlan } from './plan.js';
import type { EngineEvent, InitiatedBy, RollbackKind, RollbackRequest, RollbackResult, StepName, StepResult, Verification } from './types.js';
import { healthCheckCommand, pause } from './verify.js';

/** What a run needs of one host of an environment (the EnvironmentHandle of environment.ts satisfies it). */
export interface EngineHandle {
  env: ResolvedEnvironment;
  executor: Executor;
  state: StateDir;
  marks: MarkStore;
  store: BackupStore;
}

/**
 * A fleet rollback's lock on this host, taken before the run (all hosts, fixed order, all or nothing):
 * the run uses it instead of taking its own, records under the fleet's operation id and the host's
 * name, and leaves the release to the fleet.
 */
export interface HeldLock {
  lock: EnvLock;
  operationId: string;
  host: string;
}

/** The engine-wide settings a run uses. */
export interface RunSettings {
  notifier: Notifier;
  identity: InitiatedBy;
  who: string;
  version: string;
  /** Lock refresh interval override (tests). */
  lockRefreshMs: number | undefined;
}

/** Why a run did not succeed: one line for the operator, what to do next, and the exit code. */
export interface Failure {
  message: string;
  exitCode: number;
  hint?: string;
  /** Machine-readable reason, e.g. "LOCK_HELD", "LIVE_CHANGED", "PLAN_CHANGED". */
  code?: string;
}

/** A step's own failure with the exit code it stands for (a failed start is exit 2, a failed stop 1). */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The failure an error stands for (messages redacted). */
export function failureOf(err: unknown): Failure {
  const message = redactSecrets(err instanceof Error ? err.message : String(err));
  if (err instanceof StepFailure) return { message, exitCode: err.exitCode, ...(err.hint ? { hint: err.hint } : {}) };
  if (isUserError(err)) return { message, exitCode: err.exitCode, ...(err.hint ? { hint: err.hint } : {}), code: err.code };
  return { message, exitCode: ExitCode.FAILED };
}

/** The last non-empty line of a command's output (where tools put their final error), capped. */
export function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).at(-1)?.slice(0, 300) ?? '';
}

/**
 * Steps after which the journal is written at once: they change the host (maintenance mode). The ends
 * of `stop`, `switch`, `start` and `mark` are written with the next step's start instead, which follows
 * before anything else changes (the switch, the start, the undo's start, the verification, the record;
 * or the record clears the journal): a report read in between says the same either way (the service
 * may be stopped; the switch happened and the service was not started; it was started, or was being
 * started an instant before), and each is one write less: over SSH, one round trip less per host.
 */
const JOURNAL_FLUSH: ReadonlySet<StepName> = new Set(['maintenance_on', 'maintenance_off']);

/** The test-only pause hook's point, when it is `step` (ROLLBACK_TUI_TEST_PAUSE_AT / _FILE). */
export function testPausePoint(step: StepName): { file: string } | null {
  const at = process.env.ROLLBACK_TUI_TEST_PAUSE_AT;
  const file = process.env.ROLLBACK_TUI_TEST_PAUSE_FILE;
  return at && file && at === step ? { file } : null;
}

/** The pause hook inside a script on the host, at `step`: the same `.reached` file and wait as in-process. */
export function pauseFragment(step: StepName): string {
  const p = testPausePoint(step);
  if (!p) return '';
  return `printf '%s\\n' ${process.pid} > ${shQuote(`${p.file}.reached`)}\nwhile [ ! -e ${shQuote(p.file)} ]; do sleep 0.02; done\n`;
}

/** The line a command's script prints on stderr when the journal before it could not be written. */
const JOURNAL_TROUBLE = '@@journal-failed';

/**
 * How far a run got: still planning (an early failure has no steps), a dry run (the plan's steps as
 * planned), or past planning (the steps that ran or were skipped).
 */
type Stage = 'planning' | 'dry-run' | 'ran';

export class Run {
  readonly started = Date.now();
  /** The operation id: the lock owner's, the journal's and the history entry's (one for every host of a fleet rollback). */
  readonly opId: string;
  readonly kind: RollbackKind;
  readonly timeline: TimelineItem[] = [];
  readonly warnings: string[] = [];
  private readonly results = new Map<StepName, StepResult>();
  stage: Stage = 'planning';
  plan: BuiltPlan | null = null;
  from: string | null = null;
  to: string;
  failure: Failure | null = null;
  /** What keeps other rollbacks out: the lock, nothing yet, or nothing by the operator's choice (an emergency on an unwritable state_dir). */
  guard: 'none' | 'locked' | 'unguarded' = 'none';
  lock: EnvLock | null = null;
  journal: Journal | null = null;
  verification: Verification = 'skipped';
  verificationDetail = '';
  stopped = false;
  switched = false;
  maintenanceOn = false;
  /** Refused under the lock before anything was done: nothing is recorded or notified. */
  unrecorded = false;
  incidentPath: string | undefined;
  /** The record could not be written to the state_dir: why, and where it is kept instead. */
  recordKept: { error: string; kept_in: string | null } | undefined;
  private journalWarned = false;
  /** Over SSH: the journal naming this step goes to the host with the step's command (see stepWithCommand). */
  private journalWithCommand: { step: StepName; script: string } | null = null;

  constructor(
    readonly h: EngineHandle,
    readonly req: RollbackRequest,
    readonly settings: RunSettings,
    private readonly emit: (e: EngineEvent) => void,
    readonly held?: HeldLock,
  ) {
    this.opId = held?.operationId ?? newEntryId();
    this.kind = kindOf(req);
    this.to = req.to ?? '';
  }

  get env(): ResolvedEnvironment {
    return this.h.env;
  }

  get emergency(): boolean {
    return this.kind === 'emergency';
  }

  get aborted(): boolean {
    return this.req.signal?.aborted ?? false;
  }

  /** Neither failed nor interrupted: the next step may run. */
  get going(): boolean {
    return !this.failure && !this.aborted;
  }

  /** The facts every notification of this run carries. */
  get eventFacts(): RollbackEventFacts {
    return {
      env: this.env.name,
      ceoAlert: this.env.policy.notifications.ceo_alert === true,
      reason: this.req.reason,
      trigger: this.req.trigger,
      ...(this.req.explanation ? { explanation: this.req.explanation } : {}),
      kind: this.kind,
      who: this.settings.who,
      operationId: this.opId,
    };
  }

  /** The run's failure, unless it already has one (the first failure is what went wrong). */
  fail(f: Failure): void {
    this.failure ??= f;
  }

  warn(message: string): void {
    const m = redactSecrets(message);
    this.warnings.push(m);
    this.timeline.push({ at: Date.now(), text: `warning: ${m}` });
    this.safeEmit({ type: 'warning', message: m });
  }

  safeEmit(e: EngineEvent): void {
    try {
      this.emit(e);
    } catch {
      // a broken listener must not break a rollback
    }
  }

  private async testPause(step: StepName): Promise<void> {
    const p = testPausePoint(step);
    if (!p) return;
    writeFileSync(`${p.file}.reached`, `${process.pid}\n`);
    while (!existsSync(p.file)) await pause(20);
  }

  /**
   * A step begins: the journal names it (unless `journalled`: the caller's own script writes it), the
   * test pause hook, the events. Returns its start time for stepEnded.
   */
  async stepStarted(name: StepName, options: { journalled?: boolean; paused?: boolean } = {}): Promise<number> {
    const t0 = Date.now();
    const title = this.plan?.steps.find((s) => s.name === name)?.title ?? name;
    if (this.journal && name !== 'journal' && !options.journalled) await this.journal.stepStarted(name).catch((err: Error) => this.journalTrouble(err));
    if (!options.paused) await this.testPause(name);
    this.safeEmit({ type: 'step-start', step: name, title, at: t0 });
    this.timeline.push({ at: t0, text: `${name}: ${title}` });
    return t0;
  }

  /**
   * A step begun with stepStarted ended: its result, the journal (with `journalled`, in memory only: the
   * caller's script wrote what the host needs; the lock is taken before there is a journal), the events.
   */
  async stepEnded(name: StepName, t0: number, outcome: 'ok' | { skipped: string } | Failure, options: { journalled?: boolean } = {}): Promise<void> {
    const ms = Date.now() - t0;
    if (typeof outcome === 'object' && 'skipped' in outcome) {
      this.results.set(name, { name, status: 'skipped', ms, error: outcome.skipped });
      this.safeEmit({ type: 'step-end', step: name, status: 'skipped', ms, error: outcome.skipped });
      return;
    }
    const failure = outcome === 'ok' ? null : outcome;
    this.results.set(name, { name, status: failure ? 'failed' : 'ok', ms, ...(failure ? { error: failure.message } : {}) });
    this.timeline.push({ at: Date.now(), text: failure ? `${name}: FAILED (${ms} ms): ${failure.message}` : `${name}: ok (${ms} ms)` });
    if (!options.journalled) await this.journalStepEnded(name, failure ? 'failed' : 'ok');
    else if (name !== 'lock') await this.journal?.stepEnded(name, failure ? 'failed' : 'ok', false);
    this.safeEmit({ type: 'step-end', step: name, status: failure ? 'failed' : 'ok', ms, ...(failure ? { error: failure.message } : {}) });
  }

  /**
   * Run one step: events, journal, timing. `fn` returns `{ skipped }` (with why) or throws. Returns the
   * step's failure (null when it succeeded or was skipped); the caller decides whether it is the run's.
   */
  async step(name: StepName, fn: () => Promise<void | { skipped: string }>, options: { withCommand?: boolean } = {}): Promise<Failure | null> {
    const viaCommand = options.withCommand === true && this.h.executor.kind !== 'local' && this.journal !== null;
    if (viaCommand) {
      const write = stateCall('write_atomic', this.h.state.path(journalFile(this.env.name)), this.journal!.contentAt(name));
      // A subshell: the functions' umask and temp-file trap never reach the command.
      this.journalWithCommand = { step: name, script: `(\n${STATE_FUNCTIONS}\n${write}\n) || echo ${JOURNAL_TROUBLE} >&2\n${pauseFragment(name)}` };
    }
    const t0 = await this.stepStarted(name, viaCommand ? { journalled: true, paused: true } : {});
    try {
      const r = await fn();
      await this.stepEnded(name, t0, r && 'skipped' in r ? r : 'ok');
      return null;
    } catch (err) {
      const failure = failureOf(err);
      await this.stepEnded(name, t0, failure);
      return failure;
    } finally {
      this.journalWithCommand = null;
    }
  }

  /**
   * A step whose one host call is a configured command (stop, start): over SSH the journal naming the
   * step is written by the same call, first (the test pause waits after it, on the host), so the step
   * costs one round trip; on this machine the journal is written in-process as for any step.
   */
  stepWithCommand(name: StepName, fn: () => Promise<void | { skipped: string }>): Promise<Failure | null> {
    return this.step(name, fn, { withCommand: true });
  }

  /** A step whose failure is the run's failure; true when it did not fail. */
  async must(name: StepName, fn: () => Promise<void | { skipped: string }>, options: { withCommand?: boolean } = {}): Promise<boolean> {
    const f = await this.step(name, fn, options);
    if (f) this.fail(f);
    return f === null;
  }

  /**
   * A bookkeeping step: its failure is a warning (`warning` words it; null when the step already said
   * more), the rollback's own outcome stands. True when it did not fail.
   */
  async bookkeeping(
    name: StepName,
    fn: () => Promise<void | { skipped: string }>,
    warning: (f: Failure) => string | null = (f) => `${name} failed: ${f.message}`,
  ): Promise<boolean> {
    const f = await this.step(name, fn);
    const text = f && warning(f);
    if (text) this.warn(text);
    return f === null;
  }

  /** A journal that cannot be written is said once per run (a full disk would say it at every step). */
  private journalTrouble(err: Error): void {
    if (this.journalWarned) return;
    this.journalWarned = true;
    this.warn(`could not update the journal: ${err.message}`);
  }

  /** Record a step's end in the journal (at once for steps that change the host). Never throws. */
  private async journalStepEnded(name: StepName, outcome: 'ok' | 'failed'): Promise<void> {
    await this.journal?.stepEnded(name, outcome, JOURNAL_FLUSH.has(name)).catch((err: Error) => this.journalTrouble(err));
  }

  skip(name: StepName, why: string): void {
    if (this.results.has(name)) return;
    this.results.set(name, { name, status: 'skipped', ms: 0, error: why });
    this.safeEmit({ type: 'step-end', step: name, status: 'skipped', ms: 0, error: why });
  }

  has(name: StepName): boolean {
    return this.results.has(name);
  }

  statusOf(name: StepName): StepResult['status'] | undefined {
    return this.results.get(name)?.status;
  }

  /** Run a configured command (service.*, maintenance.*) with live output; throw StepFailure on non-zero. */
  /**
   * The journal's lines for a step begun `withCommand`, for the step's one host call to run first (taken
   * once; null on this machine, or without a journal). Its output goes through journalOutput().
   */
  takeJournalScript(step: StepName): string | null {
    const journal = this.journalWithCommand?.step === step ? this.journalWithCommand.script : null;
    this.journalWithCommand = null;
    return journal;
  }

  /** A line of a call that ran the journal's lines first: the journal's failure noted, the rest is the step's output. */
  journalOutput(step: StepName, line: string, stream: 'stdout' | 'stderr'): void {
    if (stream === 'stderr' && line === JOURNAL_TROUBLE) {
      this.journalTrouble(new Error(`${this.h.state.path(journalFile(this.env.name))} could not be written before ${step}`));
      return;
    }
    this.safeEmit({ type: 'step-output', step, line: redactSecrets(line), stream });
  }

  async command(step: StepName, what: string, command: string, failCode: number, hint: string): Promise<void> {
    const timeoutMs = (this.env.service.timeout_seconds ?? 60) * 1000;
    const journal = this.takeJournalScript(step);
    const options = {
      timeoutMs,
      onLine: (line: string, stream: 'stdout' | 'stderr') => {
        if (journal && stream === 'stderr' && line === JOURNAL_TROUBLE) return;
        this.safeEmit({ type: 'step-output', step, line: redactSecrets(line), stream });
      },
    };
    // With the journal first: the command `eval`ed from a quoted literal, as shell() runs it.
    const r = journal ? await this.h.executor.script(`${journal}eval ${shQuote(command)}\n`, [], options) : await this.h.executor.shell(command, options);
    if (journal && r.stderr.split('\n').includes(JOURNAL_TROUBLE)) {
      this.journalTrouble(new Error(`${this.h.state.path(journalFile(this.env.name))} could not be written before ${what}`));
      r.stderr = r.stderr.split('\n').filter((l) => l !== JOURNAL_TROUBLE).join('\n');
    }
    if (r.timedOut) throw new StepFailure(`${what} timed out after ${timeoutMs / 1000}s: ${command}`, failCode, hint);
    if (r.exitCode !== 0) {
      const detail = lastLine(r.stderr) || lastLine(r.stdout);
      throw new StepFailure(`${what} failed (exit ${r.exitCode})${detail ? `: ${detail}` : ''}`, failCode, hint);
    }
  }

  /** An abort that no step turned into a failure still makes the run a failure, saying where it stopped. */
  noteInterruption(): void {
    if (!this.aborted || this.failure) return;
    this.fail({
      message: `interrupted${this.switched ? ` after switching to ${this.to}` : `; nothing was switched, ${this.from ?? '(none)'} is still live`}`,
      hint: this.switched ? `check the health of ${this.to} with ${healthCheckCommand(this.env.name)}` : 're-run the rollback when ready',
      exitCode: ExitCode.FAILED,
    });
  }

  stepList(): StepResult[] {
    return STEP_ORDER.filter((s) => this.results.has(s)).map((s) => this.results.get(s)!);
  }

  /** The result, one shape for a finished run, an early failure and a dry run; emitted as the last event. */
  finish(): RollbackResult {
    const f = this.failure;
    const steps =
      this.stage === 'dry-run' && this.plan
        ? this.plan.steps.map((s): StepResult => ({ name: s.name, status: s.skipped ? 'skipped' : 'planned', ms: 0 }))
        : this.stepList();
    const result: RollbackResult = {
      ok: f === null,
      env: this.env.name,
      kind: this.kind,
      dry_run: this.req.dryRun === true,
      from: this.from,
      to: this.to,
      steps,
      verification: this.verification,
      duration_ms: Date.now() - this.started,
      exit_code: f?.exitCode ?? ExitCode.OK,
      ...(this.incidentPath ? { incident_report: this.incidentPath } : {}),
      ...(f ? { error: f.message } : {}),
      ...(f?.hint ? { hint: f.hint } : {}),
      warnings: [...this.warnings],
      ...(this.guard !== 'none' && !this.unrecorded ? { id: this.opId } : {}),
      ...(f?.code ? { code: f.code } : {}),
      ...(this.guard === 'unguarded' ? { unguarded: true } : {}),
      ...(this.recordKept ? { record_kept: this.recordKept } : {}),
    };
    this.safeEmit({ type: 'result', result });
    return result;
  }
}
