/**
 * The history of a fleet: each host's state_dir has its own entries, and one fleet rollback leaves one
 * entry per host, all with the operation's id and the host's name. `history` shows them per host;
 * `stats` counts each operation once (mergeFleetOperations): it succeeded when every host's part did,
 * it took as long as its slowest host, and its verification failed when any host's did.
 */
import type { HistoryEntry } from '../engine/types.js';

const ROLLBACKS: ReadonlySet<HistoryEntry['kind']> = new Set(['standard', 'emergency', 'targeted']);

/** One entry per fleet operation (the hosts' entries of one id merged); other entries unchanged; newest first. */
export function mergeFleetOperations(entries: readonly HistoryEntry[]): HistoryEntry[] {
  const merged = new Map<string, HistoryEntry>();
  const out: HistoryEntry[] = [];
  for (const e of entries) {
    if (e.host === undefined || !ROLLBACKS.has(e.kind)) {
      out.push(e);
      continue;
    }
    const key = `${e.env}|${e.id}`;
    const seen = merged.get(key);
    if (!seen) {
      const first: HistoryEntry = { ...e, error: e.error === null ? null : `${e.host}: ${e.error}` };
      merged.set(key, first);
      out.push(first);
      continue;
    }
    seen.success &&= e.success;
    seen.duration_ms = Math.max(seen.duration_ms, e.duration_ms);
    if (e.verification === 'failed' || (seen.verification === 'skipped' && e.verification === 'passed')) seen.verification = e.verification;
    if (e.timestamp < seen.timestamp) seen.timestamp = e.timestamp;
    seen.error ??= e.error === null ? null : `${e.host}: ${e.error}`;
    seen.host = `${seen.host ?? ''},${e.host}`;
  }
  return out.sort((a, b) => (a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : 0));
}
