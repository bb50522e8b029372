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
  /** Steps finished so far, in order. */
  done: StepName[];
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
    init: Omit<JournalRecord, 'updated_at' | 'pid' | 'host' | 'done' | 'started_at'> & { started_at?: string },
  ) {
    const now = new Date().toISOString();
    this.record = { ...init, started_at: init.started_at ?? now, updated_at: now, pid: process.pid, host: os.hostname(), done: [] };
  }

  get current(): Readonly<JournalRecord> {
    return this.record;
  }

  private write(): Promise<void> {
    this.record.updated_at = new Date().toISOString();
    return this.state.writeAtomic(journalFile(this.record.env), `${JSON.stringify(this.record)}\n`);
  }

  begin(step: StepName): Promise<void> {
    this.record.step = step;
    return this.write();
  }

  async stepStarted(step: StepName): Promise<void> {
    this.record.step = step;
    await this.write();
  }

  async stepDone(step: StepName): Promise<void> {
    if (!this.record.done.includes(step)) this.record.done.push(step);
    await this.write();
  }

  clear(): Promise<void> {
    return this.state.remove(journalFile(this.record.env));
  }
}

export function parseJournal(text: string | null): JournalRecord | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as JournalRecord;
    return v && typeof v.env === 'string' && typeof v.to === 'string' ? v : null;
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
  const switched = now === journal.to;
  const where = `${journal.kind} rollback of ${env} from ${journal.from ?? '(none)'} to ${journal.to}`;
  const message =
    `interrupted ${where} at step ${journal.step} (started ${clock(journal.started_at)} by ${journal.initiated_by}, pid ${journal.pid} on ${journal.host}, ${formatAgo(Date.parse(journal.updated_at))}); ` +
    `live is now ${now ?? 'nothing recognisable'}`;
  const lockNote = owner ? ' and --break-lock (its lock is still held)' : '';
  let hint: string;
  if (switched) {
    hint =
      journal.done.includes('start') || journal.step === 'verify' || journal.step === 'maintenance_off'
        ? `the switch to ${journal.to} happened and the service was started; check it with \`rollback-tui verify --env ${env}\` and re-run the rollback${lockNote} if needed`
        : `the switch to ${journal.to} happened but the service may not have been started: run service.start, then check with \`rollback-tui verify --env ${env}\`; a new rollback${lockNote} clears this report`;
  } else if (now === journal.from) {
    hint = `nothing was switched (${journal.from} is still live${journal.done.includes('stop') || journal.step === 'stop' ? ', but the service may be stopped' : ''}); re-run \`rollback-tui rollback --env ${env} --to ${journal.to} --reason ...\`${lockNote}`;
  } else {
    hint = `current resolves to neither release of the interrupted rollback; check the target with \`rollback-tui list --env ${env}\` before anything else`;
  }
  return { journal, live: now, lockOwner: owner, message, hint };
}
