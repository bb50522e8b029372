/**
 * The verify phase on one host: the health checks against the restored release (skipped for an
 * emergency, and when none are configured), then maintenance mode off once it is verified. A failed
 * verification is exit 2: the restored release stays live, maintenance mode stays on.
 */
import { ExitCode } from '../errors.js';
import { maintenanceOff } from './change.js';
import { StepFailure, type Run } from './run.js';
import { healthCheckCommand, verifyRelease } from './verify.js';

export async function verify(run: Run): Promise<void> {
  if (!run.switched || !run.going) return;
  const { env, to } = run;
  if (run.emergency) run.skip('verify', 'emergency: verification skipped');
  else if (env.health.length === 0) {
    run.skip('verify', 'no health checks configured');
    run.warn('no health checks are configured: the restored release was not verified');
  } else {
    await run.must('verify', async () => {
      const v = await verifyRelease(env.health, {
        executor: run.h.executor,
        settings: env.policy.rollback,
        signal: run.req.signal,
        onProgress: (line) => run.safeEmit({ type: 'step-output', step: 'verify', line, stream: 'stdout' }),
      });
      run.verificationDetail = v.message;
      if (v.outcome === 'aborted') throw new StepFailure('verification interrupted', ExitCode.FAILED);
      if (!v.ok) {
        run.verification = 'failed';
        throw new StepFailure(
          `verification failed: ${v.message}`,
          ExitCode.VERIFICATION_FAILED,
          `${to} stays live${run.maintenanceOn ? ' and maintenance mode stays on' : ''}; look at the service logs and the failing checks (run them again with ${healthCheckCommand(env.name)}), or roll back further with \`--to\``,
        );
      }
      run.verification = 'passed';
    });
  }
  if (run.going && run.maintenanceOn) await maintenanceOff(run);
}
