/** Small statistics and formatting helpers shared by triggers, baselines and the CLI. */
import { formatNumber } from '../format.js';

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

/** A number for humans ("?" when missing) and a window length ("5m", "90s"): the shared formats. */
export const fmt = (n: number | null | undefined): string => formatNumber(n);
export { formatWindow as fmtWindow } from '../format.js';
