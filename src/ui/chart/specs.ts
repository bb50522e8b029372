/**
 * What each chart shows, derived from the console state: the series, the baseline and the trigger's
 * threshold (baseline x multiplier for latency and error rate, the fixed percent for memory).
 */
import type { TriggerState } from '../../core/monitor/types.js';
import type { AppState, SeriesPoint } from '../state/types.js';
import type { PlotMark } from './plot.js';

export interface MetricChart {
  id: 'p95' | 'memory' | 'errors';
  title: string;
  unit: string;
  values: (number | null)[];
  current: number | null;
  baseline: number | null;
  threshold: number | null;
  /** Memory is drawn on a fixed 0-100 scale. */
  fixedMax?: number;
}

export interface HealthChart {
  id: 'health';
  title: string;
  values: (boolean | null)[];
  current: boolean | null;
  upPercent: number | null;
}

/** What the charts read from the state (the monitor for baseline and thresholds, the series). */
export type ChartInput = Pick<AppState, 'monitor' | 'series'>;

function trigger(state: ChartInput, name: string): TriggerState | undefined {
  return state.monitor?.triggers.find((t) => t.name === name);
}

function last<T>(xs: readonly T[]): T | null {
  for (let i = xs.length - 1; i >= 0; i--) {
    const v = xs[i];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

interface Columns {
  p95: (number | null)[];
  memory: (number | null)[];
  errors: (number | null)[];
  up: (boolean | null)[];
}

/** The series split into columns, once per series (same arrays for the same series: the charts memoize on them). */
const columnCache = new WeakMap<readonly SeriesPoint[], Columns>();

function columnsOf(series: readonly SeriesPoint[]): Columns {
  let c = columnCache.get(series);
  if (!c) {
    c = { p95: series.map((p) => p.p95), memory: series.map((p) => p.memory), errors: series.map((p) => p.errorRate), up: series.map((p) => p.up) };
    columnCache.set(series, c);
  }
  return c;
}

export function metricCharts(state: ChartInput): MetricChart[] {
  const b = state.monitor?.baseline?.metrics;
  const lat = trigger(state, 'latency');
  const mem = trigger(state, 'memory');
  const err = trigger(state, 'error_rate');
  const { p95, memory, errors } = columnsOf(state.series);
  return [
    {
      id: 'p95',
      title: 'p95 latency',
      unit: 'ms',
      values: p95,
      current: last(p95),
      baseline: lat?.baseline ?? b?.p95_latency_ms ?? null,
      threshold: lat && lat.status !== 'disabled' ? lat.threshold : null,
    },
    {
      id: 'memory',
      title: 'memory',
      unit: '%',
      values: memory,
      current: last(memory),
      baseline: b?.memory_usage_percent ?? null,
      threshold: mem && mem.status !== 'disabled' ? mem.threshold : null,
      fixedMax: 100,
    },
    {
      id: 'errors',
      title: 'error rate',
      unit: '/min',
      values: errors,
      current: last(errors),
      baseline: err?.baseline ?? b?.error_rate ?? null,
      threshold: err && err.status !== 'disabled' ? err.threshold : null,
    },
  ];
}

export function healthChart(state: Pick<AppState, 'series'>): HealthChart {
  const values = columnsOf(state.series).up;
  const known = values.filter((v): v is boolean => v !== null);
  return {
    id: 'health',
    title: 'health',
    values,
    current: last(values),
    upPercent: known.length ? (100 * known.filter(Boolean).length) / known.length : null,
  };
}

/** The moments rollbacks started, from the history (newest first there), for the charts' time axes. */
const marksCache = new WeakMap<readonly { timestamp: string; duration_ms?: number | null }[], PlotMark[]>();

export function rollbackMarks(history: readonly { timestamp: string }[]): PlotMark[] {
  let marks = marksCache.get(history);
  if (!marks) {
    marks = history.map((e) => ({ at: Date.parse(e.timestamp) })).filter((m) => Number.isFinite(m.at));
    marksCache.set(history, marks);
  }
  return marks;
}
