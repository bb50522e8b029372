/**
 * The rollback journal: `state_dir/journal/<env>.json`, written (atomically) before anything changes,
 * updated as each step starts and ends, removed when the rollback is over. If it is still there when no
 * live process holds the lock, a rollback was interrupted (SIGKILL, power loss, SSH drop): every command
 * for the environment reports it, with where `current` points now and what to do.
 */
import os from 'node:os';
import type { RollbackKind, StepName } from './types.js';
import { lockStatus, parseOwner, lockOwnerFile, type LockOwner } from './lock.js';
import { clock, formatAgo } from './time.js';
import { healthCheckCommand } from './verify.js';

export interface JournalState {
  read(name: string): Promise<string | null>;
  writeAtomic(name: string, content: string): Promise<void>;
  remove(name: string): Promise<void>;
}

export const journalFile = (env: string): string => `journal/${env}.json`;

export interface JournalRecord {
  operation_id: string;
  env: string;
  kind: RollbackKind;
  from: string | null;
  to: string;
  /** The step running (or last started) when the journal was written. */
  step: StepName;
  /** Steps finished successfully so far, in order. */
  done: StepName[];
  /** Steps that ended in failure (a failed `stop` may still have stopped the service). */
  failed?: StepName[];
  /** "manual" or the policy trigger that fired, with its explanation (so an interrupted automatic
   * rollback is recorded as what it was). Absent in journals of older versions: "manual". */
  trigger?: string;
  explanation?: string;
  started_at: string;
  updated_at: string;
  pid: number;
  host: string;
  initiated_by: string;
  reason: string;
}

export class Journal {
  private record: JournalRecord;
  constructor(
    private readonly state: JournalState,
    init: Omit<JournalRecord, 'updated_at' | 'pid' | 'host' | 'done' | 'failed' | 'started_at'> & { started_at?: string },
  ) {
    const now = new Date().toISOString();
    this.record = { ...init, started_at: init.started_at ?? now, updated_at: now, pid: process.pid, host: os.hostname(), done: [], failed: [] };
  }

  get current(): Readonly<JournalRecord> {
    return this.record;
  }

  private write(): Promise<void> {
    return this.state.writeAtomic(journalFile(this.record.env), this.contentAt(this.record.step));
  }

  /**
   * The file's content with `step` running (and the steps before it in `done`), for a caller that writes
   * it itself (inside a combined script); from then on this journal is what that content says.
   */
  contentAt(step: StepName, done: readonly StepName[] = this.record.done): string {
    this.record.step = step;
    this.record.done = [...done];
    this.record.updated_at = new Date().toISOString();
    return `${JSON.stringify(this.record)}\n`;
  }

  begin(step: StepName): Promise<void> {
    this.record.step = step;
    return this.write();
  }

  async stepStarted(step: StepName): Promise<void> {
    this.record.step = step;
    await this.write();
  }

  /**
   * A step ended (ok or failed). `write: false` keeps it in memory until the next write (the next
   * step's start): for steps that change nothing on the host, whose outcome no hint depends on.
   */
  async stepEnded(step: StepName, outcome: 'ok' | 'failed', write = true): Promise<void> {
    const list = outcome === 'ok' ? this.record.done : (this.record.failed ??= []);
    if (!list.includes(step)) list.push(step);
    if (write) await this.write();
  }

  clear(): Promise<void> {
    return this.state.remove(journalFile(this.record.env));
  }
}

export function parseJournal(text: string | null): JournalRecord | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as JournalRecord;
    if (!v || typeof v.env !== 'string' || typeof v.to !== 'string') return null;
    return { ...v, done: Array.isArray(v.done) ? v.done : [], failed: Array.isArray(v.failed) ? v.failed : [] };
  } catch {
    return null;
  }
}

export interface InterruptedReport {
  journal: JournalRecord;
  /** What `current` resolves to now (null if nothing recognisable). */
  live: string | null;
  /** The lock the interrupted run left behind, if it is still there. */
  lockOwner: LockOwner | null;
  /** "interrupted rollback of prod from X to Y at step Z; live is now W". */
  message: string;
  /** What to do next. */
  hint: string;
}

/**
 * The journal entry if a rollback was interrupted; null when there is none, or when its owner is
 * evidently still running (the lock is held by the same operation, refreshed recently, and not by a
 * dead process on this host).
 */
export async function readInterrupted(
  state: JournalState,
  env: string,
  live: () => Promise<string | null>,
  options: { refreshGraceMs?: number } = {},
): Promise<InterruptedReport | null> {
  const journal = parseJournal(await state.read(journalFile(env)).catch(() => null));
  if (!journal) return null;
  const owner = parseOwner(await state.read(lockOwnerFile(env)).catch(() => null));
  if (owner && owner.operation_id === journal.operation_id) {
    // Still held by the operation that wrote the journal: running, unless it evidently died.
    const st = lockStatus(owner, (options.refreshGraceMs ?? 90_000) / 60_000);
    if (!st.deadOnThisHost && !st.stale) return null;
  }
  const now = await live().catch(() => null);
  const where = `${journal.kind} rollback of ${env} from ${journal.from ?? '(none)'} to ${journal.to}`;
  const message =
    `interrupted ${where} at step ${journal.step} (started ${clock(journal.started_at)} by ${journal.initiated_by}, pid ${journal.pid} on ${journal.host}, ${formatAgo(Date.parse(journal.updated_at))}); ` +
    `live is now ${now ?? 'nothing recognisable'}`;
  const hint = interruptedHint(journal, now, env, owner ? ' and --break-lock (its lock is still held)' : '');
  return { journal, live: now, lockOwner: owner, message, hint };
}

/**
 * What to do after an interruption, from where `current` points now and which steps had started,
 * finished or failed: whether the service may be down (stopped and not started again), whether it was
 * started on the new release, whether maintenance mode may still be on.
 */
export function interruptedHint(j: JournalRecord, live: string | null, env: string, lockNote: string): string {
  const ran = (s: StepName) => j.done.includes(s);
  const touched = (s: StepName) => ran(s) || j.step === s || (j.failed ?? []).includes(s);
  const check = healthCheckCommand(env);
  const maintenance = touched('maintenance_on') && !ran('maintenance_off') ? '; maintenance mode may still be on: run maintenance.off once the service is healthy' : '';
  if (live === j.to) {
    if (ran('start')) {
      return `the switch to ${j.to} happened and the service was started on it: just check its health with ${check}${maintenance}; a new rollback${lockNote} clears this report`;
    }
    const why =
      j.step === 'start'
        ? 'the service was being started when the rollback was interrupted: it may be down'
        : touched('stop')
          ? 'the service was stopped before the switch and not started again: it is probably down'
          : j.step === 'switch'
            ? 'the service was not restarted on it'
            : null; // start was skipped (no service commands configured)
    return why
      ? `the switch to ${j.to} happened but ${why}; run service.start, then check its health with ${check}${maintenance}; a new rollback${lockNote} clears this report`
      : `the switch to ${j.to} happened (no service commands ran): check its health with ${check}${maintenance}; a new rollback${lockNote} clears this report`;
  }
  if (live === j.from) {
    const service =
      touched('stop') && !ran('start')
        ? `but the service may be stopped: start it on ${j.from} with service.start, then check its health with ${check}`
        : touched('stop')
          ? `and the service was started again on it`
          : `and the service was not stopped`;
    return `nothing was switched (${j.from} is still live) ${service}${maintenance}; if the rollback is still needed, re-run \`rollback-tui rollback --env ${env} --to ${j.to} --reason ...\`${lockNote}`;
  }
  if (live === null && touched('switch')) {
    // A switch in two moves (container releases: stop the live one, start the target) cut in between.
    return `nothing is live: the switch was interrupted with neither ${j.from ?? '(none)'} nor ${j.to} running; make one live now: \`rollback-tui rollback --env ${env} --to ${j.to} --reason ...\`${lockNote} (or start ${j.from ?? 'the previous release'} again by hand), then check its health with ${check}${maintenance}`;
  }
  return `current resolves to neither release of the interrupted rollback; check the target with \`rollback-tui list --env ${env}\` before anything else`;
}
