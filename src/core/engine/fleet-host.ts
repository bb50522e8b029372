/**
 * Convergence of one host of a fleet rollback, under the lock the fleet already holds on it (HeldLock).
 * A host to be switched runs the one-host phases (RollbackEngine.runHeld).
 *
 * Convergence: a host that is already live on the fleet's target is not switched. One round of its
 * health checks decides: all passing, it is `skipped` (nothing is done or recorded); failing, it is
 * verified again, after its service is started when no check got an answer at all (the service is down).
 * That is what lets a re-run of a stopped fleet rollback finish the job.
 */
import { runHealthChecks, type HealthCheckResult } from '../health/checks.js';
import { start } from './change.js';
import { takeLock, writeJournal } from './preflight.js';
import { record, release } from './record.js';
import type { Run } from './run.js';
import type { RollbackResult } from './types.js';
import { verify } from './verify-phase.js';

/** The service answers nothing at all: every check failed without an HTTP answer or a passing probe. */
export function serviceDown(results: readonly HealthCheckResult[]): boolean {
  return results.length > 0 && results.every((r) => !r.ok && r.status === undefined && r.inconclusive !== true);
}

export interface ConvergeOutcome {
  /** Healthy on the target already: nothing was done, nothing recorded. */
  skipped: boolean;
  result: RollbackResult;
}

/** A host already live on `run.to`: skipped when healthy, else started (if down) and verified again. */
export async function converge(run: Run, live: string): Promise<ConvergeOutcome> {
  run.from = live;
  run.stage = 'ran';
  const env = run.env;
  const first = env.health.length === 0 ? [] : await runHealthChecks(env.health, { executor: run.h.executor, signal: run.req.signal });
  if (first.every((r) => r.ok)) {
    run.verification = env.health.length === 0 ? 'skipped' : 'passed';
    const result = run.finish();
    return { skipped: true, result: { ...result, steps: [] } };
  }
  const down = serviceDown(first);
  run.warn(`already live on ${live} but not healthy (${first.filter((r) => !r.ok).map((r) => `${r.name}: ${r.error ?? 'failed'}`).join('; ')})${down ? ': starting the service' : ': verifying it again'}`);
  if ((await takeLock(run)) && (await writeJournal(run)) && !run.aborted) {
    run.skip('validate', `${live} is already live`);
    run.skip('maintenance_on', `${live} is already live`);
    run.skip('stop', `${live} is already live`);
    run.skip('switch', `${live} is already live`);
    run.switched = true;
    if (down) await start(run);
    else run.skip('start', 'the service answers');
    await verify(run);
  }
  run.noteInterruption();
  await record(run);
  await release(run);
  return { skipped: false, result: run.finish() };
}
