/** Small statistics and formatting helpers shared by triggers, baselines and the CLI. */

/** Nearest-rank percentile (p in 0..100) of the values; null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? null;
}

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * Increase of a cumulative counter over consecutive readings, PromQL `increase()`-style: a drop is a
 * counter reset (the process restarted), after which the new reading counts from zero.
 */
export function counterIncrease(readings: readonly number[]): number | null {
  if (readings.length < 2) return null;
  let total = 0;
  for (let i = 1; i < readings.length; i++) {
    const prev = readings[i - 1] as number;
    const cur = readings[i] as number;
    total += cur >= prev ? cur - prev : cur;
  }
  return total;
}

/** A number for humans: 3 significant digits at most, no trailing zeros. */
export function fmt(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '?';
  const a = Math.abs(n);
  const s = a >= 100 ? n.toFixed(0) : a >= 10 ? n.toFixed(1) : a >= 1 ? n.toFixed(2) : n.toFixed(3);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** A window length for humans: "5m", "90s", "1.2s". */
export function fmtWindow(ms: number): string {
  const s = ms / 1000;
  if (s >= 60 && Number.isInteger(s / 60)) return `${s / 60}m`;
  return `${fmt(s)}s`;
}
