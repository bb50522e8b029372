/**
 * The engine's facade for the CLI, the monitor and the console (plain TypeScript, no UI imports).
 *
 *   const engine = new RollbackEngine(handle, { version, notifier });
 *   const plan = await engine.plan(req);             // read-only, validated (dry run)
 *   const result = await engine.run(req, onEvent);   // events: plan, step-start/-output/-end, warning, result
 *   await readHistory(handle, { limit: 20 });        // newest first, torn lines set aside with warnings
 *   await appendHistory(handle, makeEntry({...}));   // the monitor's automation_paused, escalation ...
 *   computeStats(entries)
 */
import type { HistoryEntry } from './types.js';
import { appendHistoryTo, readHistoryFrom, type ReadHistoryResult } from './history.js';
import { readInterrupted, type InterruptedReport } from './journal.js';
import type { EngineHandle } from './engine.js';
import { flushPendingRecords } from './pending.js';

export { RollbackEngine, type EngineHandle, type EngineOptions, type HeldLock } from './engine.js';
export { serviceDown, type ConvergeOutcome } from './fleet-host.js';
export { buildPlan, pickDefaultTarget, formatPlan, kindOf, assertRunnable, STEP_ORDER, type BuiltPlan } from './plan.js';
export { Notifier, redactSecrets, type NotificationEvent, type NotifierOptions } from './notify.js';
export { EnvLock, describeOwner, lockStatus, type LockOwner } from './lock.js';
export { flushPendingRecords, pendingDir } from './pending.js';
export { readInterrupted, type InterruptedReport, type JournalRecord } from './journal.js';
export { healthCheckCommand, verifyRelease, type VerifyOutcome } from './verify.js';
export { computeStats, computeDashboard, formatDashboard, formatDuration, StatsAccumulator, statsFieldsOf, type RollbackStats, type DashboardNumbers } from './stats.js';
export { makeEntry, newEntryId, HistoryReader, HISTORY_FILE, type ReadHistoryResult } from './history.js';
export { currentIdentity, formatIdentity } from './identity.js';
export { formatIncident, incidentFileName } from './incident.js';
export * from './types.js';

type HistoryHandle = Pick<EngineHandle, 'state' | 'executor' | 'env'>;

/** History of one environment's state_dir, newest first (filtered to that environment). */
export function readHistory(handle: HistoryHandle, options: { limit?: number; allEnvs?: boolean } = {}): Promise<ReadHistoryResult> {
  return readHistoryFrom(handle.state, handle.executor, {
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.allEnvs ? {} : { env: handle.env.name }),
    label: handle.env.name,
  });
}

/** Append one entry (one round trip, fdatasync). */
export function appendHistory(handle: HistoryHandle, entry: HistoryEntry): Promise<void> {
  return appendHistoryTo(handle.state, handle.executor, entry);
}

/** The interrupted-rollback report for this environment, or null. Cheap: two reads and a `live`. */
export function interruptedRollback(handle: Pick<EngineHandle, 'state' | 'store' | 'env'>): Promise<InterruptedReport | null> {
  return readInterrupted(handle.state, handle.env.name, () => handle.store.live());
}

/**
 * Every command for an environment calls this first: appends the records a full or read-only
 * state_dir could not take before (kept on this machine), then prints the interrupted-rollback warning
 * (with what to do) through `warn`. Never throws (a report must not block the command).
 */
export async function reportInterrupted(
  handle: Pick<EngineHandle, 'state' | 'store' | 'env' | 'executor' | 'marks'>,
  warn: (message: string) => void,
): Promise<InterruptedReport | null> {
  const finished = await flushPendingRecords(handle, warn).catch(() => new Set<string>());
  try {
    const r = await interruptedRollback(handle);
    if (r && finished.has(r.journal.operation_id)) return null; // it finished; its record was kept, not its end
    if (r) warn(`${r.message}\n  what to do: ${r.hint}`);
    return r;
  } catch {
    return null;
  }
}
