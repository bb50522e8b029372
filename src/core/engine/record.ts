/**
 * After the changes, on one host: the record phase (marks, history, incident report, notification)
 * and the release phase (the lock). Bookkeeping: a failure here is a warning, the rollback's own outcome
 * stands.
 *
 * When the state_dir cannot take the record (full or read-only disk), the rollback still happened: the
 * result says so plainly (`record_kept`), the history entry, incident report and unwritten marks are
 * kept on the operator's side (pending.ts) for the next command to append, and the journal is removed
 * so that no command reports an interruption that did not happen. If even the operator's side cannot
 * be written, the entry is given in a warning, to append by hand.
 */
import { formatIncident, collectChanges, collectLogs, incidentFileName } from './incident.js';
import { appendHistoryTo, makeEntry } from './history.js';
import { rollbackResultEvent } from './notify.js';
import { keepPendingRecord } from './pending.js';
import { STEP_ORDER } from './plan.js';
import type { Run } from './run.js';
import type { HistoryEntry } from './types.js';

/** The marks a switch calls for: the release fled is bad; the restored one is known-good once verified. */
function marksOf(run: Run): { bad: string[]; knownGood: string[] } {
  const { from, to } = run;
  return { bad: from && from !== to ? [from] : [], knownGood: run.verification === 'passed' ? [to] : [] };
}

export async function record(run: Run): Promise<void> {
  if (run.guard !== 'none') {
    if (run.switched) await run.bookkeeping('mark', () => run.h.marks.apply(marksOf(run)).then(() => undefined));
    else run.skip('mark', 'nothing was switched');
  }
  for (const s of STEP_ORDER) {
    if (s === 'record' || s === 'notify' || s === 'unlock' || run.has(s)) continue;
    const planned = run.plan?.steps.find((p) => p.name === s)?.skipped;
    run.skip(s, planned ?? (run.failure ? 'not run (an earlier step failed)' : run.aborted ? 'not run (interrupted)' : 'not run'));
  }
  if (run.guard === 'none' || run.unrecorded) {
    const why = run.guard === 'none' ? 'nothing was changed' : 'nothing was done';
    run.skip('record', why);
    run.skip('notify', why);
    return;
  }
  const success = run.failure === null;
  const entry = makeEntry({
    id: run.opId,
    timestamp: new Date(run.started).toISOString(),
    env: run.env.name,
    kind: run.kind,
    trigger: run.req.trigger,
    from: run.from,
    to: run.to,
    reason: run.req.reason,
    initiated_by: run.settings.who,
    initiated_by_detail: run.settings.identity,
    success,
    verification: run.verification,
    error: run.failure?.message ?? null,
    ...(run.req.explanation ? { explanation: run.req.explanation } : {}),
    ...(run.held ? { host: run.held.host } : {}),
  });
  await run.bookkeeping(
    'record',
    () => writeRecord(run, entry),
    (f) => (run.recordKept ? null : `record failed: ${f.message}`),
  );
  await run.bookkeeping('notify', async () => {
    const notifier = run.settings.notifier;
    if (notifier.channelNames.length === 0) return { skipped: 'no notification channels configured' };
    notifier.notify(
      rollbackResultEvent(run.eventFacts, {
        from: run.from,
        to: run.to,
        success,
        verification: run.verification,
        error: run.failure?.message ?? null,
        durationMs: Date.now() - run.started,
      }),
    );
  });
}

async function writeRecord(run: Run, entry: HistoryEntry): Promise<void> {
  const { h } = run;
  entry.steps = run.stepList();
  entry.duration_ms = Date.now() - run.started;
  const name = incidentFileName(entry);
  const [changes, logs] = await Promise.all([collectChanges(h.store, run.from, run.switched ? run.to : null), collectLogs(run.env, h.executor)]);
  const report = formatIncident({ entry, timeline: run.timeline, verificationDetail: run.verificationDetail, changes, logs, warnings: run.warnings });
  let reportWritten = false;
  try {
    await h.state.writeAtomic(name, report);
    run.incidentPath = h.state.path(name);
    entry.incident_report = run.incidentPath;
    reportWritten = true;
  } catch (err) {
    run.warn(`could not write the incident report: ${(err as Error).message}`);
  }
  try {
    await appendHistoryTo(h.state, h.executor, entry);
  } catch (err) {
    keepRecord(run, entry, reportWritten ? undefined : { name, text: report }, (err as Error).message);
    throw err;
  } finally {
    // Recorded, or kept for the next command: either way the rollback is over, not interrupted.
    const journal = run.journal;
    run.journal = null;
    await journal?.clear().catch((err: Error) => run.warn(`could not remove the journal: ${err.message}`));
  }
}

/** The state_dir cannot take the history entry: keep it (and what else is unwritten) on the operator's side. */
function keepRecord(run: Run, entry: HistoryEntry, incident: { name: string; text: string } | undefined, error: string): void {
  const marks = run.statusOf('mark') === 'failed' ? marksOf(run) : undefined;
  let keptIn: string | null = null;
  try {
    keptIn = keepPendingRecord({
      env: run.env.name,
      state_dir: run.h.state.root,
      executor: run.h.executor.description,
      saved_at: new Date().toISOString(),
      error,
      entry,
      ...(incident ? { incident } : {}),
      ...(marks ? { marks } : {}),
    });
  } catch (err) {
    run.warn(`could not keep the record on this machine either (${(err as Error).message}); append this line to ${run.h.state.path('history.jsonl')} by hand: ${JSON.stringify(entry)}`);
  }
  run.recordKept = { error, kept_in: keptIn };
  const what = `${run.env.name} was rolled back from ${run.from ?? '(none)'} to ${run.to}, but its record could not be written to ${run.h.state.root} (${error})`;
  run.warn(
    keptIn
      ? `${what}: the history entry${incident ? ', incident report' : ''}${marks ? ' and marks' : ''} are kept in ${keptIn} and go into the history with the next command for ${run.env.name} that can write them`
      : what,
  );
}

/** The release phase: the lock goes (and is gone: a refresh in flight is waited for). */
export async function release(run: Run): Promise<void> {
  if (run.held) run.skip('unlock', 'the fleet rollback releases the lock of every host at its end');
  else if (run.guard === 'locked' && run.lock) {
    const lock = run.lock;
    await run.bookkeeping('unlock', () => lock.release());
  } else run.skip('unlock', run.guard === 'unguarded' ? 'no lock was taken (the state_dir cannot be written)' : 'the lock was not taken');
}
