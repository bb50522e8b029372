/**
 * Operator-side records: when a rollback happened but the state_dir could not take its record (a full
 * or read-only disk), the history entry, the incident report and the marks it could not write are kept
 * in `$XDG_STATE_HOME/rollback-tui/pending/` (default `~/.local/state/rollback-tui/pending/`) on the
 * machine that ran it, one JSON file per rollback. The next command for that environment (same
 * state_dir, same host) that can write them appends them to the history, so nothing is lost.
 *
 * A file being appended is claimed first by renaming it (`<file>.claim-<pid>`), so two commands at once
 * never append one record twice; a claim left by a dead process is given back.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appendHistoryTo } from './history.js';
import { journalFile, parseJournal } from './journal.js';
import { EnvLock, lockOwnerFile, pidAlive } from './lock.js';
import type { EngineHandle } from './run.js';
import type { HistoryEntry } from './types.js';

export interface PendingRecord {
  env: string;
  state_dir: string;
  /** The executor's description ("local", "deploy@app-1:22"): which host's state_dir it belongs to. */
  executor: string;
  saved_at: string;
  /** Why the state_dir could not take it. */
  error: string;
  entry: HistoryEntry;
  /** The incident report, when it could not be written either (its name in the state_dir and its text). */
  incident?: { name: string; text: string };
  /** The marks the rollback could not write (the release it fled is bad). */
  marks?: { bad: string[]; knownGood: string[] };
}

/** `$XDG_STATE_HOME/rollback-tui/pending` (default `~/.local/state/rollback-tui/pending`). */
export function pendingDir(): string {
  const base = process.env.XDG_STATE_HOME && path.isAbsolute(process.env.XDG_STATE_HOME) ? process.env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'rollback-tui', 'pending');
}

/** Write the record durably (temp file, fsync, rename); returns its path. Throws when it cannot. */
export function keepPendingRecord(record: PendingRecord): string {
  const dir = pendingDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${record.entry.id.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
  return file;
}

function readRecord(file: string): PendingRecord | null {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as PendingRecord;
    return v && typeof v.env === 'string' && v.entry && typeof v.entry.id === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** Claims of dead processes become pending files again. */
function giveBackDeadClaims(dir: string, names: string[]): void {
  for (const n of names) {
    const m = /^(.*\.json)\.claim-(\d+)$/.exec(n);
    if (m && !pidAlive(Number(m[2]))) {
      try {
        renameSync(path.join(dir, n), path.join(dir, m[1]!));
      } catch {
        // taken back by someone else meanwhile
      }
    }
  }
}

/**
 * The journal and the lock a finished rollback could not remove (its state_dir went read-only) go once
 * its record is in: that operation is over.
 */
async function removeLeftoversOf(h: Pick<EngineHandle, 'env' | 'state'>, operationId: string): Promise<void> {
  const journal = parseJournal(await h.state.read(journalFile(h.env.name)).catch(() => null));
  if (journal?.operation_id === operationId) await h.state.remove(journalFile(h.env.name));
  const owner = await EnvLock.owner(h.state, h.env.name).catch(() => null);
  if (owner?.operation_id === operationId) await h.state.remove(lockOwnerFile(h.env.name));
}

/**
 * Marks written late: every `bad` one (the release fled stays fled), but `known-good` only for a release
 * nothing has marked bad since (marking one way removes the other mark, and a later rollback away from
 * it must win).
 */
async function applyLate(h: Pick<EngineHandle, 'marks'>, marks: { bad: string[]; knownGood: string[] }): Promise<void> {
  const badNow = marks.knownGood.length ? (await h.marks.read()).bad : [];
  const knownGood = marks.knownGood.filter((n) => !badNow.includes(n));
  if (marks.bad.length || knownGood.length) await h.marks.apply({ bad: marks.bad, knownGood });
}

/**
 * Append the records kept on this machine for this environment's state_dir: incident report, marks,
 * then the history entry. Says what it appended, or why a record is still kept. Never throws. Returns
 * the operation ids of the records found (appended or still kept): those rollbacks finished, whatever
 * a journal left behind says.
 */
export async function flushPendingRecords(
  h: Pick<EngineHandle, 'env' | 'state' | 'executor' | 'marks'>,
  warn: (message: string) => void,
): Promise<Set<string>> {
  const dir = pendingDir();
  const finished = new Set<string>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return finished;
  }
  giveBackDeadClaims(dir, names);
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const file = path.join(dir, name);
    const rec = readRecord(file);
    if (!rec || rec.env !== h.env.name || rec.state_dir !== h.state.root || rec.executor !== h.executor.description) continue;
    finished.add(rec.entry.id);
    const claim = `${file}.claim-${process.pid}`;
    try {
      renameSync(file, claim);
    } catch {
      continue; // another command is appending it
    }
    const what = `the record of the ${rec.entry.kind} rollback ${rec.entry.id} of ${rec.env} (${rec.entry.from ?? '(none)'} -> ${rec.entry.to ?? '(none)'}, ${rec.entry.timestamp})`;
    try {
      const entry = { ...rec.entry };
      if (rec.incident) {
        await h.state.writeAtomic(rec.incident.name, rec.incident.text);
        entry.incident_report = h.state.path(rec.incident.name);
      }
      if (rec.marks) await applyLate(h, rec.marks);
      await appendHistoryTo(h.state, h.executor, entry);
      unlinkSync(claim);
      await removeLeftoversOf(h, rec.entry.id).catch(() => undefined);
      warn(`appended ${what} to the history: the state_dir could not take it then (${rec.error}); it was kept in ${file}`);
    } catch (err) {
      renameSync(claim, file);
      warn(`${what} is still kept in ${file}: the state_dir cannot take it yet (${(err as Error).message})`);
    }
  }
  return finished;
}
