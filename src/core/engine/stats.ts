/**
 * Rollback statistics from history entries: the `stats` JSON document, plus the text dashboard
 * ("Rollback Statistics (Last 30 Days)": auto vs manual rollbacks, success rate, causes, average
 * rollback time).
 */
import type { HistoryEntry } from './types.js';
import { formatDuration } from '../format.js';

export interface RollbackStats {
  total: number;
  succeeded: number;
  failed: number;
  /** 0..1, null when there were none. */
  success_rate: number | null;
  by_trigger: Record<string, number>;
  by_env: Record<string, number>;
  median_duration_ms: number | null;
}

export interface DashboardNumbers extends RollbackStats {
  automatic: number;
  manual: number;
  emergency: number;
  verification_failed: number;
  average_duration_ms: number | null;
  last_30_days: { total: number; automatic: number; manual: number; succeeded: number; success_rate: number | null };
  first: string | null;
  last: string | null;
}

const ROLLBACK_KINDS = new Set(['standard', 'emergency', 'targeted']);

/** Only rollbacks count (lock breaks, pauses and escalations are in the log too). */
export function isRollback(e: HistoryEntry): boolean {
  return ROLLBACK_KINDS.has(e.kind);
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
}

export function computeStats(entries: readonly HistoryEntry[]): RollbackStats {
  let succeeded = 0;
  const byTrigger: Record<string, number> = {};
  const byEnv: Record<string, number> = {};
  const durations: number[] = [];
  let total = 0;
  for (const e of entries) {
    if (!isRollback(e)) continue;
    total++;
    if (e.success) succeeded++;
    byTrigger[e.trigger] = (byTrigger[e.trigger] ?? 0) + 1;
    byEnv[e.env] = (byEnv[e.env] ?? 0) + 1;
    if (typeof e.duration_ms === 'number' && Number.isFinite(e.duration_ms)) durations.push(e.duration_ms);
  }
  return {
    total,
    succeeded,
    failed: total - succeeded,
    success_rate: total ? Math.round((succeeded / total) * 10000) / 10000 : null,
    by_trigger: byTrigger,
    by_env: byEnv,
    median_duration_ms: median(durations),
  };
}

export function computeDashboard(entries: readonly HistoryEntry[], now = Date.now()): DashboardNumbers {
  const base = computeStats(entries);
  const rollbacks = entries.filter(isRollback);
  const durations = rollbacks.map((e) => e.duration_ms).filter((d) => Number.isFinite(d));
  const recent = rollbacks.filter((e) => now - Date.parse(e.timestamp) <= 30 * 86_400_000);
  const recentOk = recent.filter((e) => e.success).length;
  const times = rollbacks.map((e) => e.timestamp).sort();
  return {
    ...base,
    automatic: rollbacks.filter((e) => e.trigger !== 'manual').length,
    manual: rollbacks.filter((e) => e.trigger === 'manual').length,
    emergency: rollbacks.filter((e) => e.kind === 'emergency').length,
    verification_failed: rollbacks.filter((e) => e.verification === 'failed').length,
    average_duration_ms: durations.length ? Math.round(durations.reduce((a, b) => a + b, 0) / durations.length) : null,
    last_30_days: {
      total: recent.length,
      automatic: recent.filter((e) => e.trigger !== 'manual').length,
      manual: recent.filter((e) => e.trigger === 'manual').length,
      succeeded: recentOk,
      success_rate: recent.length ? Math.round((recentOk / recent.length) * 10000) / 10000 : null,
    },
    first: times[0] ?? null,
    last: times[times.length - 1] ?? null,
  };
}

function pct(rate: number | null): string {
  return rate === null ? 'n/a' : `${(rate * 100).toFixed(1)}%`;
}

export { formatDuration };

/** The text form: the dashboard's numbers as a plain-text section. */
export function formatDashboard(d: DashboardNumbers, scope: string): string {
  const lines: string[] = [];
  lines.push(`Rollback statistics (${scope})`, '');
  if (d.total === 0) {
    lines.push('No rollbacks recorded.');
    return lines.join('\n');
  }
  const share = (n: number) => (d.total ? ` (${((n / d.total) * 100).toFixed(1)}%)` : '');
  lines.push(`  Rollbacks:          ${d.total}   (${d.first?.slice(0, 10)} .. ${d.last?.slice(0, 10)})`);
  lines.push(`  Auto-rollbacks:     ${d.automatic}${share(d.automatic)}`);
  lines.push(`  Manual rollbacks:   ${d.manual}${share(d.manual)}`);
  lines.push(`  Emergency:          ${d.emergency}`);
  lines.push(`  Succeeded:          ${d.succeeded}`);
  lines.push(`  Failed:             ${d.failed}   (verification failed: ${d.verification_failed})`);
  lines.push(`  Success rate:       ${pct(d.success_rate)}`);
  lines.push(`  Median duration:    ${formatDuration(d.median_duration_ms)}`);
  lines.push(`  Average duration:   ${formatDuration(d.average_duration_ms)}`);
  lines.push('');
  lines.push(
    `  Last 30 days:       ${d.last_30_days.total} rollbacks (${d.last_30_days.automatic} automatic, ${d.last_30_days.manual} manual), success rate ${pct(d.last_30_days.success_rate)}`,
  );
  lines.push('', '  Rollback causes (by trigger):');
  for (const [k, v] of Object.entries(d.by_trigger).sort((a, b) => b[1] - a[1])) lines.push(`    ${k.padEnd(18)} ${v}`);
  lines.push('', '  By environment:');
  for (const [k, v] of Object.entries(d.by_env).sort((a, b) => b[1] - a[1])) lines.push(`    ${k.padEnd(18)} ${v}`);
  return lines.join('\n');
}
