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
export function isRollback(e: Pick<HistoryEntry, 'kind'>): boolean {
  return ROLLBACK_KINDS.has(e.kind);
}

/** What the numbers are made of: a few fields of each entry. */
export type StatsFields = Pick<HistoryEntry, 'env' | 'kind' | 'trigger' | 'success' | 'verification' | 'duration_ms' | 'timestamp'>;

/** Most frequent first (then by name), whatever order the log was read in. */
const byCount = (counts: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));

const rate = (n: number, of: number): number | null => (of ? Math.round((n / of) * 10000) / 10000 : null);

/**
 * Statistics one entry at a time, so a history of any size is counted without being held: only the
 * durations are kept (8 bytes an entry, for the median).
 */
export class StatsAccumulator {
  private total = 0;
  private succeeded = 0;
  private automatic = 0;
  private emergency = 0;
  private verificationFailed = 0;
  private readonly byTrigger: Record<string, number> = Object.create(null) as Record<string, number>;
  private readonly byEnv: Record<string, number> = Object.create(null) as Record<string, number>;
  private durations = new Float64Array(1024);
  private count = 0;
  private sum = 0;
  private recent = { total: 0, automatic: 0, succeeded: 0 };
  private first: string | null = null;
  private last: string | null = null;

  constructor(private readonly now = Date.now()) {}

  add(e: StatsFields): void {
    if (!isRollback(e)) return;
    this.total++;
    if (e.success) this.succeeded++;
    const auto = e.trigger !== 'manual';
    if (auto) this.automatic++;
    if (e.kind === 'emergency') this.emergency++;
    if (e.verification === 'failed') this.verificationFailed++;
    this.byTrigger[e.trigger] = (this.byTrigger[e.trigger] ?? 0) + 1;
    this.byEnv[e.env] = (this.byEnv[e.env] ?? 0) + 1;
    if (typeof e.duration_ms === 'number' && Number.isFinite(e.duration_ms)) {
      if (this.count === this.durations.length) {
        const grown = new Float64Array(this.durations.length * 2);
        grown.set(this.durations);
        this.durations = grown;
      }
      this.durations[this.count++] = e.duration_ms;
      this.sum += e.duration_ms;
    }
    if (this.now - Date.parse(e.timestamp) <= 30 * 86_400_000) {
      this.recent.total++;
      if (auto) this.recent.automatic++;
      if (e.success) this.recent.succeeded++;
    }
    if (this.first === null || e.timestamp < this.first) this.first = e.timestamp;
    if (this.last === null || e.timestamp > this.last) this.last = e.timestamp;
  }

  private median(): number | null {
    if (this.count === 0) return null;
    const s = this.durations.slice(0, this.count).sort();
    const mid = s.length >> 1;
    return s.length % 2 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
  }

  stats(): RollbackStats {
    return {
      total: this.total,
      succeeded: this.succeeded,
      failed: this.total - this.succeeded,
      success_rate: rate(this.succeeded, this.total),
      by_trigger: byCount(this.byTrigger),
      by_env: byCount(this.byEnv),
      median_duration_ms: this.median(),
    };
  }

  dashboard(): DashboardNumbers {
    return {
      ...this.stats(),
      automatic: this.automatic,
      manual: this.total - this.automatic,
      emergency: this.emergency,
      verification_failed: this.verificationFailed,
      average_duration_ms: this.count ? Math.round(this.sum / this.count) : null,
      last_30_days: {
        total: this.recent.total,
        automatic: this.recent.automatic,
        manual: this.recent.total - this.recent.automatic,
        succeeded: this.recent.succeeded,
        success_rate: rate(this.recent.succeeded, this.recent.total),
      },
      first: this.first,
      last: this.last,
    };
  }
}

export function computeStats(entries: readonly StatsFields[]): RollbackStats {
  const acc = new StatsAccumulator();
  for (const e of entries) acc.add(e);
  return acc.stats();
}

export function computeDashboard(entries: readonly StatsFields[], now = Date.now()): DashboardNumbers {
  const acc = new StatsAccumulator(now);
  for (const e of entries) acc.add(e);
  return acc.dashboard();
}

/**
 * The top-level fields stats needs, picked out of one history line without parsing all of it (the
 * steps are most of a line): a key name followed by `":` cannot occur inside a JSON string, where every
 * quote is escaped. Any doubt (a field missing or present twice, as it could be in a nested object)
 * falls back to a full parse. Null: not an entry (corrupt).
 */
const KEY = /"(env|kind|trigger|success|verification|duration_ms|timestamp)":/g;
const REQUIRED = ['env', 'kind', 'trigger', 'success', 'timestamp'] as const;

/** The JSON value starting at `at` when it is a string, a number or true/false/null; undefined otherwise. */
function scalarAt(text: string, at: number): unknown {
  if (text.charCodeAt(at) === 34) {
    let close = text.indexOf('"', at + 1);
    for (;;) {
      if (close < 0) return undefined;
      let bs = 0;
      while (text.charCodeAt(close - 1 - bs) === 92) bs++;
      if (bs % 2 === 0) break;
      close = text.indexOf('"', close + 1);
    }
    const raw = text.slice(at + 1, close);
    return raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
  }
  let stop = at;
  while (stop < text.length && !',}] '.includes(text.charAt(stop))) stop++;
  const raw = text.slice(at, stop);
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === 'null') return null;
  const n = Number(raw);
  return raw !== '' && Number.isFinite(n) ? n : undefined;
}

export function statsFieldsOf(line: string): StatsFields | null {
  const text = line.trim();
  quick: if (text.charCodeAt(0) === 123 && text.charCodeAt(text.length - 1) === 125) {
    const found: Record<string, unknown> = {};
    KEY.lastIndex = 0;
    for (let m = KEY.exec(text); m !== null; m = KEY.exec(text)) {
      const key = m[1]!;
      const value = scalarAt(text, KEY.lastIndex);
      if (key in found || value === undefined) break quick; // twice (nested somewhere), or not a scalar
      found[key] = value;
    }
    if (REQUIRED.every((k) => k in found)) return found as unknown as StatsFields;
  }
  try {
    const v = JSON.parse(text) as Partial<HistoryEntry> | null;
    if (typeof v === 'object' && v !== null && typeof v.env === 'string' && typeof v.timestamp === 'string') return v as StatsFields;
  } catch {
    // not JSON
  }
  return null;
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
