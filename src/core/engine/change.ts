/**
 * The change phase on one host: maintenance on, stop, switch, start. The switch is delegated to the
 * store, which makes it atomic (symlink releases: a rename over `current`), and it is never interrupted:
 * an abort is only acted on between steps.
 *
 * What is undone when the phase stops early: before the switch, a stopped service is started again on
 * the unchanged release and maintenance mode is turned off; after the switch, the service is started on
 * the new release even if an abort arrived meanwhile (never left stopped). An emergency goes on past a
 * failed stop (the switch is what matters).
 */
import { ExitCode } from '../errors.js';
import type { Run } from './run.js';
import { healthCheckCommand } from './verify.js';

export async function change(run: Run): Promise<void> {
  const svcHint = `nothing was switched: ${run.from ?? '(none)'} is still live`;
  await maintenanceOn(run, svcHint);
  if (run.going) await stop(run, svcHint);
  if (run.going) await switchRelease(run);
  if (run.switched) await start(run);
  else await undo(run);
}

async function maintenanceOn(run: Run, svcHint: string): Promise<void> {
  const m = run.env.maintenance;
  if (run.emergency) run.skip('maintenance_on', 'emergency: no maintenance mode');
  else if (!m) run.skip('maintenance_on', 'no maintenance commands configured');
  else {
    await run.must('maintenance_on', async () => {
      await run.command('maintenance_on', 'maintenance.on', m.on, ExitCode.FAILED, svcHint);
      run.maintenanceOn = true;
    });
  }
}

async function stop(run: Run, svcHint: string): Promise<void> {
  const command = run.env.service.stop;
  if (!command) return run.skip('stop', 'no service.stop configured');
  const f = await run.stepWithCommand('stop', async () => {
    run.stopped = true; // it may be partly stopped even if the command fails
    await run.command('stop', 'service.stop', command, ExitCode.FAILED, `${svcHint}; the service may be partly stopped`);
  });
  if (f && run.emergency) run.warn(`emergency: continuing although service.stop failed: ${f.message}`);
  else if (f) run.fail(f);
}

async function switchRelease(run: Run): Promise<void> {
  const to = run.to;
  const { store } = run.h;
  // Over SSH, the journal naming the switch goes in the switch's own script when the store takes it.
  const withCommand = store.switchRunsBefore === true;
  const ok = await run.must('switch', async () => {
    const before = withCommand ? run.takeJournalScript('switch') : null;
    try {
      await store.switchTo(to, {
        breakLock: run.req.breakLock,
        emergency: run.emergency,
        ...(before ? { before } : {}),
        onLine: (line, stream) => run.journalOutput('switch', line, stream),
      });
    } catch (err) {
      // A failed switch: find out what is live now (the store switches atomically). A switch that
      // succeeded made the target live (the stores check it), so no second look delays the start.
      const live = await store.live().catch(() => null);
      run.switched = live === to;
      throw err;
    }
  }, { withCommand });
  if (ok) run.switched = true;
}

export async function start(run: Run): Promise<void> {
  const command = run.env.service.start;
  if (!command) return run.skip('start', 'no service.start configured');
  const failed = await run.stepWithCommand('start', () =>
    run.command(
      'start',
      'service.start',
      command,
      run.emergency ? ExitCode.FAILED : ExitCode.VERIFICATION_FAILED,
      `${run.to} is live but the service did not start: check the service logs, then its health with ${healthCheckCommand(run.env.name)}`,
    ),
  );
  if (failed) run.fail(failed);
  if (failed && !run.emergency) run.verification = 'failed';
}

/** Nothing was switched: bring the unchanged release back up, and maintenance mode off. */
async function undo(run: Run): Promise<void> {
  const command = run.env.service.start;
  if (run.stopped && command) {
    run.warn(`the switch did not happen: starting the service again on ${run.from ?? '(none)'}`);
    await run.bookkeeping('start', () => run.command('start', 'service.start (undo)', command, ExitCode.FAILED, 'start the service by hand'));
  }
  if (run.maintenanceOn) await maintenanceOff(run);
}

/** maintenance.off; its failure is a warning (the rollback's outcome stands) and maintenance stays on. */
export async function maintenanceOff(run: Run): Promise<void> {
  const off = run.env.maintenance!.off;
  const ok = await run.bookkeeping(
    'maintenance_off',
    () => run.command('maintenance_off', 'maintenance.off', off, ExitCode.FAILED, 'run maintenance.off by hand'),
    (f) => `maintenance.off failed: ${f.message}; maintenance mode is still on`,
  );
  if (ok) run.maintenanceOn = false;
}
