/**
 * Before anything changes on a host: planning (read-only; the dry run ends here) and the preflight
 * phase: the lock, the check that the plan is still the one decided on or confirmed, the journal, and
 * the pre-validation of the target.
 *
 * Round trips: the lock, the journal and the target check go to the host as one script (host-batch.ts).
 * The live release is read again under the lock after it; a plan decided on or confirmed before
 * (expectFrom/expectTo) is re-checked before the journal instead (nothing is written for a refused
 * plan), so its journal and check are a second script. A lock found held, and `--break-lock`, take the
 * step-by-step path, which names the owner and breaks a stale lock.
 *
 * An emergency whose state_dir cannot be written (full or read-only disk: the lock cannot be created)
 * is refused like any other rollback, unless the request says the operator confirmed going ahead
 * without the state_dir (`withoutStateDir`): then it runs without the lock and the journal, says so as a
 * warning, and the record phase keeps its record on the operator's side.
 */
import { ExitCode, UserError } from '../errors.js';
import { shQuote } from '../exec/quote.js';
import { stateCall } from '../state/state-script.js';
import { SH_PRELUDE, storeScriptFailure } from '../stores/common.js';
import type { TargetCheck } from '../stores/types.js';
import { failureIn, runBatch, scriptDetail, type BatchOp, type BatchResult } from './host-batch.js';
import { Journal, journalFile } from './journal.js';
import { EnvLock, lockOwnerFile, recordBrokenLock, type AcquireOptions, type LockOwner } from './lock.js';
import { rollbackEvent } from './notify.js';
import { pendingDir } from './pending.js';
import { buildPlan, pinnedPlanRefusal, type BuiltPlan, type PlanNow } from './plan.js';
import { failureOf, type Failure, type Run } from './run.js';
import type { RollbackPlan, RollbackRequest } from './types.js';

/** The plan as events and the preview carry it (without the store's backup list). */
function stripPlan(plan: BuiltPlan): RollbackPlan {
  return { env: plan.env, kind: plan.kind, from: plan.from, to: plan.to, steps: plan.steps, warnings: plan.warnings, problems: plan.problems };
}

/** What became of the confirmed target since it was confirmed, by the plan's backup list. */
function confirmedTargetIn(req: RollbackRequest, plan: BuiltPlan): PlanNow['confirmedTarget'] {
  if (!req.expectTo) return undefined;
  const b = plan.backups.find((x) => x.name === req.expectTo!.name);
  return !b ? 'gone' : b.bad ? 'bad' : 'unchanged';
}

/**
 * Build the plan (validated for a dry run). True when the run may go on to the preflight; false when it
 * ends here: a dry run, an invalid plan, or a plan that is no longer the one decided on.
 */
export async function planning(run: Run): Promise<boolean> {
  const { req, env } = run;
  try {
    run.plan = await buildPlan(
      { env, store: run.h.store, notifyChannels: run.settings.notifier.channelNames, signal: req.signal },
      req,
      { validate: req.dryRun === true },
    );
  } catch (err) {
    run.fail(failureOf(err));
    return false;
  }
  const plan = run.plan;
  run.from = plan.from;
  run.to = plan.to.name;
  run.safeEmit({ type: 'plan', plan: stripPlan(plan) });
  for (const w of plan.warnings) run.warnings.push(w);
  // Decided or confirmed against another plan than the one of now: do nothing (checked again under the lock).
  const refusal = pinnedPlanRefusal(req, { from: plan.from, to: plan.to.name, confirmedTarget: confirmedTargetIn(req, plan) });
  if (refusal) {
    run.fail(failureOf(refusal));
    return false;
  }
  const hint = `run \`rollback-tui list --env ${env.name}\` to see the backups and their marks`;
  if (req.dryRun) {
    run.stage = 'dry-run';
    if (plan.problems.length) run.fail({ message: `the plan is not valid: ${plan.problems.join('; ')}`, hint, exitCode: ExitCode.FAILED });
    return false;
  }
  if (plan.problems.length) {
    run.fail(failureOf(new UserError(`cannot roll back ${env.name}: ${plan.problems.join('; ')}`, { hint })));
    return false;
  }
  run.stage = 'ran';
  return true;
}

/** Lock, re-check, journal, validate. True when the change phase may start. */
export async function preflight(run: Run): Promise<boolean> {
  const pinned = run.req.expectFrom !== undefined || run.req.expectTo !== undefined;
  let checked: BatchResult['outcomes'] | null = null;
  let live: LiveNow = { known: false };
  if (run.held || run.req.breakLock) {
    if (!(await takeLock(run))) return false;
  } else {
    const opts = lockOptions(run);
    const owner = EnvLock.ownerFor(opts);
    const read = liveOp(run);
    const batch = await runBatch(run, [lockOp(run, owner), ...(pinned ? [] : await checkOps(run)), ...(read ? [read.op] : [])]);
    const locked = batch.outcomes.get('lock');
    if (batch.openStep) {
      run.journal = null; // not written: the lock is decided step by step first
      if (!(await takeLock(run, batch.openStep.t0))) return false;
    } else if (locked === 'ok') {
      run.lock = EnvLock.taken(run.h.state, owner, opts);
      run.guard = 'locked';
      checked = pinned ? null : batch.outcomes;
      if (read && batch.outcomes.get('live') === 'ok') live = read.now;
    } else {
      run.journal = null;
      run.fail(failureIn(locked) ?? { message: `could not take the lock of ${run.env.name}`, exitCode: ExitCode.FAILED });
      return false;
    }
  }
  // A run under a lock held beforehand (a fleet host's) planned under that lock: its plan's own check
  // of the live release and the confirmed target stands, with no second read.
  if (!run.held && !(await stillAsPlanned(run, live))) return false;
  const { env, from, to } = run;
  run.settings.notifier.notify(
    rollbackEvent(run.eventFacts, 'rollback_started', 'warning', `${env.name}: ${run.kind} rollback started (${from ?? '(none)'} -> ${to})`, { from, to }),
  );
  const outcomes = checked ?? (await runBatch(run, await checkOps(run))).outcomes;
  for (const step of ['journal', 'validate'] as const) {
    const f = failureIn(outcomes.get(step));
    if (f) run.fail(f);
  }
  if (!run.going) return false;
  if (run.emergency) run.skip('validate', 'emergency: pre-validation skipped');
  else if (!outcomes.has('validate')) await run.must('validate', () => run.h.store.validateTarget(to, { signal: run.req.signal, breakLock: run.req.breakLock }));
  return run.going;
}

/** The live release as read under the lock, when the preflight's script read it. */
type LiveNow = { known: false } | { known: true; name: string | null };

/** The live read at the end of the preflight's script (stores that have one): no round trip of its own. */
function liveOp(run: Run): { op: BatchOp; now: LiveNow } | null {
  const read = run.h.store.liveRead?.();
  if (!read) return null;
  const result: { op: BatchOp; now: LiveNow } = {
    now: { known: false },
    op: {
      step: 'live',
      fragment: () => `(\nset -- ${read.args.map(shQuote).join(' ')}\n${SH_PRELUDE}\n${read.script}\n)\nrc=$?\nif [ "$rc" -eq 0 ]; then mark live ok; else mark live failed "$rc"; exit 0; fi\n`,
      passed: async (stdout) => {
        result.now = { known: true, name: read.parse(stdout) };
        return 'ok';
      },
      failed: () => 'undecided',
    },
  };
  return result;
}

function lockOptions(run: Run): AcquireOptions {
  const { env, req, settings } = run;
  return {
    env: env.name,
    operationId: run.opId,
    operation: 'rollback',
    user: settings.identity.user,
    initiatedBy: settings.who,
    version: settings.version,
    staleMinutes: env.policy.rollback.stale_lock_minutes,
    breakLock: req.breakLock,
    refreshMs: settings.lockRefreshMs,
    onWarning: (m) => run.warn(m),
  };
}

/** The lock's exclusive create; anything but a new lock is undecided (the step-by-step path says why). */
function lockOp(run: Run, owner: LockOwner): BatchOp {
  const file = lockOwnerFile(run.env.name);
  const text = EnvLock.ownerText(owner);
  return {
    step: 'lock',
    fragment: () => `${stateCall('create_exclusive', run.h.state.path(file), text)}\ncase $? in 0) mark lock ok ;; *) mark lock held; exit 0 ;; esac\n`,
    here: async () => ((await run.h.state.createExclusive(file, text).catch(() => false)) ? 'ok' : 'undecided'),
    failed: () => 'undecided',
  };
}

/**
 * The journal (written once, already naming the check that follows it) and the store's target check as
 * one fragment, where the store has one; a store without one (containers) is checked on its own after.
 */
async function checkOps(run: Run): Promise<BatchOp[]> {
  const ops: BatchOp[] = [];
  const options = { signal: run.req.signal, breakLock: run.req.breakLock };
  const check = run.emergency ? null : await run.h.store.targetCheck?.(run.to, options).catch(() => null);
  if (run.guard === 'unguarded') {
    run.journal = null;
    run.skip('journal', 'the state_dir cannot be written (emergency without the lock and journal)');
  } else {
    run.journal = newJournal(run);
    const file = journalFile(run.env.name);
    const text = run.journal.contentAt(check ? 'validate' : 'journal', check ? ['journal'] : []);
    ops.push({
      step: 'journal',
      fragment: () => `if ${stateCall('write_atomic', run.h.state.path(file), text)}; then mark journal ok; else mark journal failed; exit 0; fi\n`,
      here: async () => {
        await run.h.state.writeAtomic(file, text);
        return 'ok';
      },
      failed: (_status, _code, r, thrown) => thrown ?? failureOf(run.h.state.error(`write ${file}`, r ? scriptDetail(r) : 'no result')),
    });
  }
  if (check) ops.push(validateOp(run, check));
  return ops;
}

/** The store's check in a subshell with its own arguments (its `exit` ends only the subshell). */
function validateOp(run: Run, check: TargetCheck): BatchOp {
  const executor = run.h.executor;
  return {
    step: 'validate',
    fragment: () =>
      `(\nset -- ${check.args.map(shQuote).join(' ')}\n${SH_PRELUDE}\n${check.script}\n)\nrc=$?\nif [ "$rc" -eq 0 ]; then mark validate ok; else mark validate failed "$rc"; exit 0; fi\n`,
    passed: async (stdout) => {
      await check.after(stdout);
      return 'ok';
    },
    failed: (_status, code, r, thrown) => {
      if (thrown || !r) return thrown ?? failureOf(new UserError(`${check.what} failed on ${executor.description}`, { code: 'STORE_FAILED' }));
      const err = storeScriptFailure(executor, check.what, { ...r, exitCode: code || r.exitCode || 1 }, check.failures, 120_000);
      return failureOf(err);
    },
  };
}

function newJournal(run: Run): Journal {
  const { req } = run;
  return new Journal(run.h.state, {
    operation_id: run.opId,
    env: run.env.name,
    kind: run.kind,
    from: run.from,
    to: run.to,
    step: 'journal',
    initiated_by: run.settings.who,
    reason: req.reason,
    trigger: req.trigger,
    ...(req.explanation ? { explanation: req.explanation } : {}),
  });
}

/**
 * The lock step by itself: a fleet's lock held already, `--break-lock`, or the lock a combined script
 * found held (its step begun at `openedAt`): who holds it, a stale one broken on request, an emergency
 * without the state_dir.
 */
export async function takeLock(run: Run, openedAt?: number): Promise<boolean> {
  const { req, settings } = run;
  if (run.held) {
    const held = run.held.lock;
    await run.step('lock', async () => {
      run.lock = held;
    });
    run.guard = 'locked';
    return true;
  }
  const acquire = async (): Promise<void> => {
    run.lock = await EnvLock.acquire(run.h.state, lockOptions(run));
  };
  let f: Failure | null;
  if (openedAt === undefined) f = await run.step('lock', acquire);
  else {
    f = await acquire().then(() => null, failureOf);
    await run.stepEnded('lock', openedAt, f ?? 'ok', { journalled: true });
  }
  if (!f) {
    run.guard = 'locked';
    if (run.lock?.brokeLock) {
      await recordBrokenLock(run.h, run.lock.brokenOwner, { reason: req.reason, who: settings.who, identity: settings.identity }, (m) => run.warn(m));
    }
    return true;
  }
  if (run.emergency && f.code === 'STATE_DIR') return unguardedEmergency(run, f);
  run.fail(f);
  return false;
}

/** The state_dir cannot take the lock: an emergency goes ahead without it only when that was confirmed. */
function unguardedEmergency(run: Run, f: Failure): boolean {
  if (!run.req.withoutStateDir) {
    run.fail({
      message: `${f.message}; nothing was done`,
      code: 'STATE_DIR_UNWRITABLE',
      exitCode: ExitCode.FAILED,
      hint: `free space in (or remount) ${run.env.state_dir}; or, for an emergency, go ahead without the lock and history: run it again and confirm with the environment's name (or --yes)`,
    });
    return false;
  }
  run.guard = 'unguarded';
  run.warn(
    `EMERGENCY WITHOUT THE STATE DIR (${f.message}): going ahead as confirmed, without the lock (another rollback or a deploy is not kept out), ` +
      `without the journal (if this process dies, the next command cannot report it), and with the history entry, incident report and marks ` +
      `kept in ${pendingDir()} on this machine until a command for ${run.env.name} can write them to ${run.env.state_dir}`,
  );
  return true;
}

/** The live release (and the confirmed target's marks) again, under the lock: a plan decided on must still hold. */
async function stillAsPlanned(run: Run, live: LiveNow = { known: false }): Promise<boolean> {
  const { req } = run;
  const liveRead = live.known ? live.name : await run.h.store.live().catch(() => undefined);
  let confirmedTarget: PlanNow['confirmedTarget'];
  if (req.expectTo) {
    const marks = await run.h.marks.read().catch(() => null);
    confirmedTarget = marks?.bad.includes(req.expectTo.name) ? 'bad' : 'unchanged';
  }
  const refusal = pinnedPlanRefusal(req, { from: liveRead, confirmedTarget });
  if (refusal) {
    run.fail(failureOf(refusal));
    run.from = liveRead ?? run.from;
    run.unrecorded = true;
    return false;
  }
  const liveNow = liveRead === undefined ? run.from : liveRead;
  if (liveNow !== run.from) {
    run.fail({
      message: `the live release changed from ${run.from ?? '(none)'} to ${liveNow ?? '(none)'} while planning`,
      hint: 'someone else switched it; re-run to plan against what is live now',
      exitCode: ExitCode.FAILED,
    });
    run.from = liveNow;
    return false;
  }
  return true;
}

export async function writeJournal(run: Run): Promise<boolean> {
  if (run.guard === 'unguarded') {
    run.skip('journal', 'the state_dir cannot be written (emergency without the lock and journal)');
    return true;
  }
  return run.must('journal', async () => {
    run.journal = newJournal(run);
    await run.journal.begin('journal');
  });
}
