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
import { shQuote } from '../exec/quote.js';
import { stateCall } from '../state/state-script.js';
import { failureIn, runBatch, scriptDetail, type BatchOp } from './host-batch.js';
import { formatIncident, collectChanges, collectLogs, incidentFileName } from './incident.js';
import { APPEND_HISTORY_FUNCTION, appendHistoryTo, HISTORY_FILE, historyAppendError, historyLineOf, makeEntry } from './history.js';
import { journalFile } from './journal.js';
import { lockOwnerFile, type EnvLock } from './lock.js';
import { rollbackResultEvent } from './notify.js';
import { keepPendingRecord } from './pending.js';
import { STEP_ORDER } from './plan.js';
import { failureOf, type Run } from './run.js';
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
  // Record and unlock go together (one script over SSH) when this run holds its own lock.
  const lock = !run.held && run.guard === 'locked' ? run.lock : null;
  const ops = [recordOp(run, entry), notifyOp(run, success), ...(lock ? [unlockOp(run, lock)] : [])];
  // No refresh may rewrite the owner file once the script has removed it.
  if (lock && run.h.executor.kind !== 'local') await lock.stopRefreshing();
  const { outcomes } = await runBatch(run, ops);
  const recordFailure = failureIn(outcomes.get('record'));
  if (recordFailure) {
    if (!run.recordKept) run.warn(`record failed: ${recordFailure.message}`);
    await clearJournal(run);
    // The script stopped at the record: the notification still goes; the lock goes in release().
    await run.bookkeeping('notify', () => sendResult(run, success).then((r) => (r === 'ok' ? undefined : r)));
  }
  const unlockFailure = failureIn(outcomes.get('unlock'));
  if (unlockFailure) run.warn(`unlock failed: ${unlockFailure.message}`);
}

/** The incident report: what changed, the logs, the timeline (not for an emergency: see recordOp). */
async function incidentReport(run: Run, entry: HistoryEntry): Promise<{ name: string; text: string } | null> {
  if (run.emergency) return null;
  const { h } = run;
  const [changes, logs] = await Promise.all([collectChanges(h.store, run.from, run.switched ? run.to : null), collectLogs(run.env, h.executor)]);
  return {
    name: incidentFileName(entry),
    text: formatIncident({ entry, timeline: run.timeline, verificationDetail: run.verificationDetail, changes, logs, warnings: run.warnings }),
  };
}

/**
 * The record: incident report, history entry, the journal removed. An emergency records only what must
 * follow its recovery (the history entry and, before it, the marks; the layout's own records were written
 * by the switch): no incident report, whose changes and logs cost round trips to the host.
 * The journal names `record` before it (that write also says `mark` ended).
 */
function recordOp(run: Run, entry: HistoryEntry): BatchOp {
  const { h } = run;
  const historyFile = h.state.path(HISTORY_FILE);
  const journal = run.journal && h.state.path(journalFile(run.env.name));
  let incident: { name: string; text: string } | null = null;
  let incidentPath: string | null = null;
  const done = (reportWritten: boolean): void => {
    if (reportWritten && incidentPath) {
      run.incidentPath = incidentPath;
      entry.incident_report = incidentPath;
    }
    run.journal = null;
  };
  return {
    step: 'record',
    journalStart: true,
    prepare: async () => {
      entry.steps = run.stepList();
      entry.duration_ms = Date.now() - run.started;
      incident = await incidentReport(run, entry).catch((err: Error) => {
        run.warn(`could not write the incident report: ${err.message}`);
        return null;
      });
      incidentPath = incident && h.state.path(incident.name);
    },
    fragment: () =>
      [
        'line=' + shQuote(historyLineOf(entry)),
        incident && incidentPath
          ? `if err=$(${stateCall('write_atomic', incidentPath, incident.text)} 2>&1); then line=${shQuote(historyLineOf({ ...entry, incident_report: incidentPath }))}; echo report-written; else printf 'report-failed %s\n' "$(printf '%s' "$err" | tail -n 1)"; fi`
          : '',
        APPEND_HISTORY_FUNCTION,
        `if err=$(append_history ${shQuote(historyFile)} "$line" 2>&1); then :; else printf '%s\n' "$err" | tail -n 1 >&2; mark record failed; exit 0; fi`,
        journal ? `if err=$(${stateCall('remove_file', journal)} 2>&1); then :; else printf 'journal-failed %s\n' "$(printf '%s' "$err" | tail -n 1)"; fi` : '',
        'mark record ok',
        '',
      ].join('\n'),
    here: async () => {
      let reportWritten = false;
      if (incident) {
        try {
          await h.state.writeAtomic(incident.name, incident.text);
          reportWritten = true;
        } catch (err) {
          run.warn(`could not write the incident report: ${(err as Error).message}`);
        }
      }
      if (reportWritten) entry.incident_report = incidentPath!;
      try {
        await appendHistoryTo(h.state, h.executor, entry);
      } catch (err) {
        keepRecord(run, entry, reportWritten || !incident ? undefined : incident, (err as Error).message);
        throw err;
      } finally {
        // Recorded, or kept for the next command: either way the rollback is over, not interrupted.
        await clearJournal(run);
      }
      done(reportWritten);
      return 'ok';
    },
    passed: async (stdout) => {
      const lines = stdout.split('\n');
      const reportFailed = lines.find((l) => l.startsWith('report-failed '));
      if (reportFailed) run.warn(`could not write the incident report: ${reportFailed.slice('report-failed '.length)}`);
      const journalFailed = lines.find((l) => l.startsWith('journal-failed '));
      if (journalFailed) run.warn(`could not remove the journal: ${journalFailed.slice('journal-failed '.length)}`);
      done(lines.includes('report-written'));
      return 'ok';
    },
    failed: (_status, _code, r, thrown) => {
      const reportWritten = r?.stdout.split('\n').includes('report-written') ?? false;
      const failure = thrown ?? failureOf(historyAppendError(historyFile, h.executor, r ? scriptDetail(r) : 'no result'));
      keepRecord(run, entry, reportWritten || !incident ? undefined : incident, failure.message);
      return failure;
    },
  };
}

async function clearJournal(run: Run): Promise<void> {
  const journal = run.journal;
  run.journal = null;
  await journal?.clear().catch((err: Error) => run.warn(`could not remove the journal: ${err.message}`));
}

/** The result notification: queued in this process and sent in the background (never waited for here). */
async function sendResult(run: Run, success: boolean): Promise<'ok' | { skipped: string }> {
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
  return 'ok';
}

/** The notification between the record and the unlock: the host has nothing to do for it but go on. */
function notifyOp(run: Run, success: boolean): BatchOp {
  const send = () => sendResult(run, success);
  return { step: 'notify', fragment: () => 'mark notify ok\n', here: send, passed: send, failed: (_s, _c, _r, thrown) => thrown ?? 'ok' };
}

/** The lock goes, if it is still ours (a refresh in flight is waited for first, so it is gone). */
function unlockOp(run: Run, lock: EnvLock): BatchOp {
  const file = run.h.state.path(lockOwnerFile(run.env.name));
  return {
    step: 'unlock',
    fragment: () => `${stateCall('remove_if_owner', file, lock.owner.operation_id)}\ncase $? in 0|10) mark unlock ok ;; *) mark unlock failed; exit 0 ;; esac\n`,
    here: async () => {
      await lock.release();
      return 'ok';
    },
    passed: async () => {
      lock.removedElsewhere();
      return 'ok';
    },
    failed: (_status, _code, r, thrown) => thrown ?? failureOf(run.h.state.error(`remove ${lockOwnerFile(run.env.name)}`, r ? scriptDetail(r) : 'no result')),
  };
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
  if (run.has('unlock')) return; // released with the record
  if (run.held) run.skip('unlock', 'the fleet rollback releases the lock of every host at its end');
  else if (run.guard === 'locked' && run.lock) {
    const lock = run.lock;
    await run.bookkeeping('unlock', () => lock.release());
  } else run.skip('unlock', run.guard === 'unguarded' ? 'no lock was taken (the state_dir cannot be written)' : 'the lock was not taken');
}
