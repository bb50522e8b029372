/**
 * The `prometheus` metrics source: one instant query (`GET /api/v1/query`) per metric of
 * `metrics.queries`, all concurrently, each with `metrics.timeout_seconds`. Every way a query can fail
 * makes that metric inconclusive with the reason, never zero:
 * - an error answer (`"status":"error"`, errorType `bad_data`, `execution`, `timeout`, ...),
 * - HTTP 5xx / other non-2xx, a connection error, our own timeout,
 * - an empty result (the series does not exist, e.g. the target is not scraped yet),
 * - more than one series (aggregate in the query, e.g. `sum(...)`), NaN or infinite values.
 *
 * Known names (error_rate, p50/p95/p99_latency_ms, memory_usage_percent, cpu_usage_percent,
 * request_rate, db_connection_errors) fill the sample's fields; any other name goes to `custom`.
 * An answer larger than PROMETHEUS_ANSWER_LIMIT is not read further: inconclusive, "response larger than 4 MiB".
 * `db_connection_errors` is read as a counter (query the `_total`, not an increase()): the database
 * trigger takes its increase over the window.
 */
import type { MetricsConfig } from '../../config/schema.js';
import type { Sample } from '../types.js';
import { clipMessage, readBounded, tooLargeMessage } from '../../health/body.js';
import { emptySample, errorText, setError, setMetric } from './sample.js';

/** What is read of one query's answer at most: a single series is a few hundred bytes. */
export const PROMETHEUS_ANSWER_LIMIT = 4 * 1024 * 1024;

export interface PrometheusContext {
  at: number;
  release: string | null;
  signal?: AbortSignal;
}

export type QueryOutcome = { ok: true; value: number } | { ok: false; error: string };

interface PromResponse {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

/** Interpret one /api/v1/query answer. */
export function interpretQueryResponse(httpStatus: number, body: string): QueryOutcome {
  let parsed: PromResponse | null = null;
  try {
    parsed = JSON.parse(body) as PromResponse;
  } catch {
    parsed = null;
  }
  if (parsed?.status === 'error') {
    return { ok: false, error: clipMessage(`${parsed.errorType ?? 'error'}: ${parsed.error ?? 'no detail'}`) };
  }
  if (httpStatus < 200 || httpStatus > 299) {
    const snippet = body.trim().split('\n')[0]?.slice(0, 120) ?? '';
    return { ok: false, error: `HTTP ${httpStatus}${snippet ? `: ${snippet}` : ''}` };
  }
  if (!parsed || parsed.status !== 'success' || !parsed.data) return { ok: false, error: 'not a Prometheus API answer' };
  const { resultType, result } = parsed.data;
  let raw: unknown;
  if (resultType === 'scalar') {
    raw = Array.isArray(result) ? result[1] : undefined;
  } else if (resultType === 'vector') {
    if (!Array.isArray(result) || result.length === 0) return { ok: false, error: 'empty result (no such series yet)' };
    if (result.length > 1) return { ok: false, error: `${result.length} series, expected 1 (aggregate the query, e.g. sum(...))` };
    const v = (result[0] as { value?: unknown }).value;
    raw = Array.isArray(v) ? v[1] : undefined;
  } else {
    return { ok: false, error: `result type ${resultType ?? '?'} (use an instant vector or scalar query)` };
  }
  const value = typeof raw === 'string' ? Number(raw) : NaN;
  if (typeof raw !== 'string') return { ok: false, error: 'malformed value in result' };
  if (!Number.isFinite(value)) return { ok: false, error: `value is ${raw}` };
  return { ok: true, value };
}

export async function queryPrometheus(baseUrl: string, promql: string, timeoutMs: number, signal?: AbortSignal): Promise<QueryOutcome> {
  const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('query', promql);
  // Ask Prometheus to give up a little before we do, so its own timeout error is what we report.
  url.searchParams.set('timeout', `${Math.max(1, Math.floor(timeoutMs * 0.9))}ms`);
  const signals = [AbortSignal.timeout(timeoutMs)];
  if (signal) signals.push(signal);
  try {
    const res = await fetch(url, { signal: AbortSignal.any(signals), headers: { accept: 'application/json' } });
    // An instant query for one series answers in bytes: a larger answer is read no further than the cap.
    const body = await readBounded(res, PROMETHEUS_ANSWER_LIMIT);
    if (body.tooLarge) return { ok: false, error: `${tooLargeMessage(PROMETHEUS_ANSWER_LIMIT)} (aggregate the query, e.g. sum(...))` };
    return interpretQueryResponse(res.status, body.text);
  } catch (err) {
    const text = errorText(err);
    return { ok: false, error: text === 'timed out' ? `timed out after ${timeoutMs} ms` : text };
  }
}

export async function prometheusSample(metrics: MetricsConfig, ctx: PrometheusContext): Promise<Sample> {
  const sample = emptySample(ctx.at, ctx.release);
  const queries = Object.entries(metrics.queries ?? {});
  if (!metrics.url) {
    for (const [name] of queries) setError(sample, name, 'metrics.url is not set');
    return sample;
  }
  const base = metrics.url;
  const results = await Promise.all(
    queries.map(async ([name, q]) => [name, await queryPrometheus(base, q, metrics.timeout_seconds * 1000, ctx.signal)] as const),
  );
  for (const [name, r] of results) {
    if (r.ok) setMetric(sample, name, r.value);
    else setError(sample, name, `prometheus: ${r.error}`);
  }
  return sample;
}
