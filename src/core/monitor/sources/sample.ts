/** Building and combining samples. */
import { clipMessage } from '../../health/body.js';
import type { Sample } from '../types.js';

/** The numeric metric fields of a Sample that sources fill. */
export const METRIC_KEYS = [
  'error_rate',
  'p50_latency_ms',
  'p95_latency_ms',
  'p99_latency_ms',
  'memory_usage_percent',
  'cpu_usage_percent',
  'request_rate',
  'db_connection_errors',
  'log_error_lines',
] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];

export function isMetricKey(name: string): name is MetricKey {
  return (METRIC_KEYS as readonly string[]).includes(name);
}

export function emptySample(at: number, release: string | null): Sample {
  return {
    at,
    release,
    up: null,
    health_failures: 0,
    error_rate: null,
    p50_latency_ms: null,
    p95_latency_ms: null,
    p99_latency_ms: null,
    memory_usage_percent: null,
    cpu_usage_percent: null,
    request_rate: null,
    db_connection_errors: null,
    log_error_lines: null,
    custom: {},
    errors: {},
  };
}

/** Set a metric (known field or custom) on a sample. */
export function setMetric(sample: Sample, name: string, value: number | null): void {
  if (isMetricKey(name)) sample[name] = value;
  else sample.custom[name] = value;
}

/** Record that the source could not measure `name`: inconclusive, never zero. */
export function setError(sample: Sample, name: string, message: string): void {
  setMetric(sample, name, null);
  sample.errors[name] = clipMessage(message);
}

/** A short error text from anything thrown. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timed out';
    if (err.name === 'AbortError') return 'aborted';
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as NodeJS.ErrnoException).code;
      return code ? `${code}: ${cause.message}` : cause.message;
    }
    return err.message.split('\n')[0] ?? err.message;
  }
  return String(err);
}

/**
 * Overlay the metrics of `from` (a prometheus or command sample) onto `into` (the probe sample, which
 * carries up/health_failures): every metric `from` measured or failed to measure replaces the probe's.
 */
export function overlayMetrics(into: Sample, from: Sample): Sample {
  const out: Sample = { ...into, custom: { ...into.custom, ...from.custom }, errors: { ...into.errors } };
  for (const key of METRIC_KEYS) {
    if (from[key] !== null) {
      out[key] = from[key];
      delete out.errors[key];
    } else if (from.errors[key] !== undefined) {
      out[key] = null;
      out.errors[key] = from.errors[key];
    }
  }
  for (const [k, v] of Object.entries(from.errors)) if (!isMetricKey(k)) out.errors[k] = v;
  return out;
}
