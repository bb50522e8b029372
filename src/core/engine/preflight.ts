/**
 * Before anything changes on a host: planning (read-only; the dry run ends here) and the preflight
 * phase: the lock, the check that the plan is still the one decided on or confirmed, the journal, and
 * the pre-validation of the target.
 *
 * An emergency whose state_dir cannot be written (full or read-only disk: the lock cannot be created)
 * is refused like any other rollback, unless the request says the operator confirmed going ahead
 * without the state_dir (`withoutStateDir`): then it runs without the lock and the journal, says so as a
 * warning, and the record phase keeps its record on the operator's side.
 */
import { ExitCode, UserError } from '../errors.js';
import { Journal } from './journal.js';
import { EnvLock, recordBrokenLock } from './lock.js';
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
  if (!(await takeLock(run))) return false;
  if (!(await stillAsPlanned(run))) return false;
  const { env, from, to } = run;
  run.settings.notifier.notify(
    rollbackEvent(run.eventFacts, 'rollback_started', 'warning', `${env.name}: ${run.kind} rollback started (${from ?? '(none)'} -> ${to})`, { from, to }),
  );
  if (!(await writeJournal(run))) return false;
  if (run.aborted) return false;
  if (run.emergency) run.skip('validate', 'emergency: pre-validation skipped');
  else await run.must('validate', () => run.h.store.validateTarget(to, { signal: run.req.signal, breakLock: run.req.breakLock }));
  return run.going;
}

export async function takeLock(run: Run): Promise<boolean> {
  const { env, req, settings } = run;
  if (run.held) {
    const held = run.held.lock;
    await run.step('lock', async () => {
      run.lock = held;
    });
    run.guard = 'locked';
    return true;
  }
  const f = await run.step('lock', async () => {
    run.lock = await EnvLock.acquire(run.h.state, {
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
    });
  });
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
async function stillAsPlanned(run: Run): Promise<boolean> {
  const { req } = run;
  const liveRead = await run.h.store.live().catch(() => undefined);
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
  const { req } = run;
  return run.must('journal', async () => {
    run.journal = new Journal(run.h.state, {
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
    await run.journal.begin('journal');
  });
}
