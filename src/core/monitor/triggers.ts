/**
 * Trigger evaluation: the policy's conditions over windows of samples, against the release's baseline.
 * PURE: no I/O, no clock (the caller passes `now`), so the console, the CLI's --once and the tests all
 * get the same answer from the same samples.
 *
 * Semantics (Argo Rollouts' analysis where the policy leaves it open):
 * - A window holds the samples with `now - window < at <= now`. It needs `samplesNeeded` samples
 *   (80% of window / interval, the slack absorbs timer jitter) before a mean/percentile/sustained
 *   condition may fire: until then the state is 'collecting' ("collecting 7/9").
 * - Counting conditions (health_check: probes that found the service down, one per tick however many
 *   checks failed in it; log_errors lines; database errors increase) can only
 *   grow as the window fills, so they fire as soon as the count is reached (Argo's failureLimit), even
 *   while collecting: a crash right after start is caught at once.
 * - A sample whose source errored for a metric (`sample.errors[metric]`) is a measurement error: it
 *   counts neither as healthy nor as breached. When errors leave fewer than `samplesNeeded` good
 *   samples in a full window the trigger is 'inconclusive' (never 'ok').
 * - Baseline-relative triggers (error_rate, latency) wait for the baseline ('collecting'); the
 *   absolute ones (memory, health_check, database, log_errors) work from the first sample.
 * - 'warning' when the value is above 80% of the threshold (counting triggers: at the first failure).
 */
import type { Policy } from '../config/schema.js';
import type { Baseline, Sample, TriggerState, TriggerStatus } from './types.js';
import { counterIncrease, fmt, fmtWindow, mean, percentile } from './stats.js';

export const TRIGGER_NAMES = ['error_rate', 'latency', 'memory', 'health_check', 'database', 'log_errors'] as const;
export type MonitorTriggerName = (typeof TRIGGER_NAMES)[number];

/** Fraction of window / interval samples a window needs before it can decide. */
export const WINDOW_SLACK = 0.8;
/** Fraction of the threshold above which a trigger is 'warning'. */
export const WARNING_FRACTION = 0.8;

export function intervalMs(policy: Policy): number {
  return policy.monitoring.check_interval_seconds * 1000;
}

export function samplesNeeded(windowMs: number, interval: number): number {
  return Math.max(1, Math.floor((windowMs / interval) * WINDOW_SLACK + 1e-9));
}

export function inWindow(samples: readonly Sample[], windowMs: number, now: number): Sample[] {
  const from = now - windowMs;
  return samples.filter((s) => s.at > from && s.at <= now);
}

/** The longest window any enabled trigger (or the baseline) looks at, in ms. */
export function longestWindowMs(policy: Policy): number {
  let longest = policy.monitoring.baseline_window_minutes * 60_000;
  for (const name of TRIGGER_NAMES) {
    const t = policy.triggers[name];
    if (t?.enabled) longest = Math.max(longest, t.window_minutes * 60_000);
  }
  return longest;
}

type NumericKey =
  | 'error_rate'
  | 'p50_latency_ms'
  | 'p95_latency_ms'
  | 'p99_latency_ms'
  | 'memory_usage_percent'
  | 'db_connection_errors'
  | 'log_error_lines';

interface Window {
  all: Sample[];
  /** Samples with a value for the metric. */
  valid: Sample[];
  values: number[];
  /** Samples whose source errored for the metric. */
  errored: Sample[];
  needed: number;
  windowMs: number;
}

function windowOf(samples: readonly Sample[], key: NumericKey, windowMinutes: number, policy: Policy, now: number): Window {
  const windowMs = windowMinutes * 60_000;
  const all = inWindow(samples, windowMs, now);
  const valid: Sample[] = [];
  const values: number[] = [];
  const errored: Sample[] = [];
  for (const s of all) {
    const v = s[key];
    if (typeof v === 'number' && Number.isFinite(v)) {
      valid.push(s);
      values.push(v);
    } else if (s.errors[key] !== undefined) errored.push(s);
  }
  return { all, valid, values, errored, needed: samplesNeeded(windowMs, intervalMs(policy)), windowMs };
}

function state(
  name: MonitorTriggerName,
  status: TriggerStatus,
  w: Pick<Window, 'all' | 'needed'> | null,
  fields: Partial<Pick<TriggerState, 'value' | 'threshold' | 'baseline' | 'unit'>> & { explanation: string },
): TriggerState {
  return {
    name,
    status,
    value: fields.value ?? null,
    threshold: fields.threshold ?? null,
    baseline: fields.baseline ?? null,
    unit: fields.unit ?? '',
    samplesInWindow: w?.all.length ?? 0,
    samplesNeeded: w?.needed ?? 0,
    explanation: fields.explanation,
  };
}

function lastError(w: Window, key: string): string {
  const s = w.errored[w.errored.length - 1];
  return s?.errors[key] ?? 'no value';
}

/** Common early exits: not measured at all, still collecting, or too many measurement errors. */
function undecided(
  name: MonitorTriggerName,
  label: string,
  key: NumericKey,
  w: Window,
  extra: Partial<Pick<TriggerState, 'threshold' | 'baseline' | 'unit'>>,
): TriggerState | null {
  if (w.all.length > 0 && w.valid.length === 0 && w.errored.length === 0) {
    return state(name, 'disabled', w, { ...extra, explanation: `${label}: not measured by this metrics source` });
  }
  if (w.all.length < w.needed) {
    return state(name, 'collecting', w, {
      ...extra,
      explanation: `${label}: collecting ${w.all.length}/${w.needed} samples over ${fmtWindow(w.windowMs)}`,
    });
  }
  if (w.valid.length < w.needed) {
    return state(name, 'inconclusive', w, {
      ...extra,
      explanation: `${label}: inconclusive, ${w.errored.length} of ${w.all.length} samples in ${fmtWindow(w.windowMs)} failed (${lastError(w, key)})`,
    });
  }
  return null;
}

function level(value: number, threshold: number, breached: boolean): TriggerStatus {
  if (breached) return 'breached';
  return value > threshold * WARNING_FRACTION && value > 0 ? 'warning' : 'ok';
}

function evalErrorRate(policy: Policy, samples: readonly Sample[], baseline: Baseline | null, now: number): TriggerState {
  const t = policy.triggers.error_rate;
  if (!t?.enabled) return state('error_rate', 'disabled', null, { unit: '/min', explanation: 'error rate: trigger disabled' });
  const w = windowOf(samples, 'error_rate', t.window_minutes, policy, now);
  const base = baseline?.metrics.error_rate ?? 0;
  const threshold = Math.max(base * t.multiplier, t.min_errors_per_minute);
  const extra = { threshold: baseline ? threshold : null, baseline: baseline ? base : null, unit: '/min' };
  if (!baseline) {
    return state('error_rate', 'collecting', w, { ...extra, explanation: 'error rate: waiting for the baseline' });
  }
  const early = undecided('error_rate', 'error rate', 'error_rate', w, extra);
  if (early) return early;
  const value = mean(w.values) as number;
  const breached = value > threshold;
  const why =
    base * t.multiplier >= t.min_errors_per_minute
      ? `baseline ${fmt(base)}/min x ${fmt(t.multiplier)}`
      : `floor min_errors_per_minute ${fmt(t.min_errors_per_minute)}; baseline ${fmt(base)}/min x ${fmt(t.multiplier)}`;
  return state('error_rate', level(value, threshold, breached), w, {
    ...extra,
    value,
    explanation: `error rate ${fmt(value)}/min ${breached ? '>' : '<='} ${fmt(threshold)}/min (${why}) over ${fmtWindow(w.windowMs)}`,
  });
}

function evalLatency(policy: Policy, samples: readonly Sample[], baseline: Baseline | null, now: number): TriggerState {
  const t = policy.triggers.latency;
  if (!t?.enabled) return state('latency', 'disabled', null, { unit: 'ms', explanation: 'latency: trigger disabled' });
  const key = `${t.metric}_latency_ms` as const;
  const pct = Number(t.metric.slice(1));
  const label = `${t.metric} latency`;
  const w = windowOf(samples, key, t.window_minutes, policy, now);
  const base = baseline?.metrics[key] ?? null;
  const threshold = base === null ? null : Math.max(base * t.multiplier, t.min_latency_ms);
  const extra = { threshold, baseline: base, unit: 'ms' };
  if (!baseline) return state('latency', 'collecting', w, { ...extra, explanation: `${label}: waiting for the baseline` });
  if (base === null || threshold === null) {
    return state('latency', 'inconclusive', w, { ...extra, explanation: `${label}: the baseline has no ${label}` });
  }
  const early = undecided('latency', label, key, w, extra);
  if (early) return early;
  const value = percentile(w.values, pct) as number;
  const breached = value > threshold;
  return state('latency', level(value, threshold, breached), w, {
    ...extra,
    value,
    explanation: `${label} ${fmt(value)} ms ${breached ? '>' : '<='} ${fmt(threshold)} ms (${
      base * t.multiplier >= t.min_latency_ms ? '' : `floor min_latency_ms ${fmt(t.min_latency_ms)}; `
    }baseline ${fmt(base)} ms x ${fmt(t.multiplier)}) over ${fmtWindow(w.windowMs)}`,
  });
}

function evalMemory(policy: Policy, samples: readonly Sample[], now: number): TriggerState {
  const t = policy.triggers.memory;
  if (!t?.enabled) return state('memory', 'disabled', null, { unit: '%', explanation: 'memory: trigger disabled' });
  const w = windowOf(samples, 'memory_usage_percent', t.window_minutes, policy, now);
  const threshold = t.threshold_percent;
  const extra = { threshold, unit: '%' };
  const early = undecided('memory', 'memory', 'memory_usage_percent', w, extra);
  if (early) return early;
  // Sustained: every good sample in the window above the threshold; the value shown is the lowest.
  const value = Math.min(...w.values);
  const latest = w.values[w.values.length - 1] as number;
  const breached = value > threshold;
  const status: TriggerStatus = breached ? 'breached' : value > threshold * WARNING_FRACTION || latest > threshold ? 'warning' : 'ok';
  const explanation = breached
    ? `memory above ${fmt(threshold)}% for the whole ${fmtWindow(w.windowMs)} window (lowest ${fmt(value)}%, now ${fmt(latest)}%)`
    : `memory lowest ${fmt(value)}% over ${fmtWindow(w.windowMs)} <= ${fmt(threshold)}% (now ${fmt(latest)}%)`;
  return state('memory', status, w, { ...extra, value, explanation });
}

function evalHealth(policy: Policy, samples: readonly Sample[], now: number): TriggerState {
  const t = policy.triggers.health_check;
  if (!t?.enabled) return state('health_check', 'disabled', null, { unit: 'failures', explanation: 'health checks: trigger disabled' });
  const windowMs = t.window_minutes * 60_000;
  const all = inWindow(samples, windowMs, now);
  const w = { all, needed: samplesNeeded(windowMs, intervalMs(policy)) };
  const measured = all.filter((s) => s.up !== null);
  const errored = all.filter((s) => s.up === null && s.errors.up !== undefined);
  const extra = { threshold: t.failure_count, unit: 'failures' };
  if (all.length > 0 && measured.length === 0 && errored.length === 0) {
    return state('health_check', 'disabled', w, { ...extra, explanation: 'health checks: none configured for this environment' });
  }
  // One failure per probe (tick) that found the service down, however many checks failed in it.
  const failures = measured.filter((s) => s.up === false).length;
  const breached = failures >= t.failure_count;
  const head = `${failures} failed health check${failures === 1 ? '' : 's'} in ${fmtWindow(windowMs)}`;
  if (breached) {
    return state('health_check', 'breached', w, { ...extra, value: failures, explanation: `${head} >= ${t.failure_count}` });
  }
  if (all.length < w.needed) {
    return state('health_check', 'collecting', w, {
      ...extra,
      value: failures,
      explanation: `${head} < ${t.failure_count}, collecting ${all.length}/${w.needed} samples`,
    });
  }
  if (measured.length < w.needed) {
    const last = errored[errored.length - 1]?.errors.up ?? 'no value';
    return state('health_check', 'inconclusive', w, {
      ...extra,
      value: failures,
      explanation: `health checks: inconclusive, ${errored.length} of ${all.length} probes in ${fmtWindow(windowMs)} could not run (${last})`,
    });
  }
  return state('health_check', failures > 0 ? 'warning' : 'ok', w, { ...extra, value: failures, explanation: `${head} < ${t.failure_count}` });
}

function evalDatabase(policy: Policy, samples: readonly Sample[], now: number): TriggerState {
  const t = policy.triggers.database;
  if (!t?.enabled) return state('database', 'disabled', null, { unit: 'errors', explanation: 'database: trigger disabled' });
  const w = windowOf(samples, 'db_connection_errors', t.window_minutes, policy, now);
  const extra = { threshold: t.threshold, unit: 'errors' };
  // db_connection_errors is a cumulative counter: the increase over the window counts, anchored on the
  // last good reading before the window when there is one.
  const first = w.all[0];
  let anchor: number | null = null;
  for (const s of samples) {
    if (first && s.at >= first.at) break;
    if (s.at <= now - w.windowMs && typeof s.db_connection_errors === 'number') anchor = s.db_connection_errors;
  }
  const readings = anchor === null ? w.values : [anchor, ...w.values];
  const increase = counterIncrease(readings);
  const head = `${fmt(increase ?? 0)} db connection errors in ${fmtWindow(w.windowMs)}`;
  if (increase !== null && increase > t.threshold) {
    return state('database', 'breached', w, { ...extra, value: increase, explanation: `${head} > ${fmt(t.threshold)}` });
  }
  const early = undecided('database', 'database', 'db_connection_errors', w, extra);
  if (early) return early;
  const value = increase ?? 0;
  return state('database', level(value, t.threshold, false), w, { ...extra, value, explanation: `${head} <= ${fmt(t.threshold)}` });
}

function evalLogs(policy: Policy, samples: readonly Sample[], now: number): TriggerState {
  const t = policy.triggers.log_errors;
  if (!t?.enabled) return state('log_errors', 'disabled', null, { unit: 'lines', explanation: 'log errors: trigger disabled' });
  const w = windowOf(samples, 'log_error_lines', t.window_minutes, policy, now);
  const extra = { threshold: t.threshold, unit: 'lines' };
  let count = 0;
  for (const v of w.values) count += v;
  const head = `${count} log line${count === 1 ? '' : 's'} matching /${t.patterns.join('|')}/ in ${fmtWindow(w.windowMs)}`;
  if (count >= t.threshold) {
    return state('log_errors', 'breached', w, { ...extra, value: count, explanation: `${head} >= ${t.threshold}` });
  }
  const early = undecided('log_errors', 'log errors', 'log_error_lines', w, extra);
  if (early) return early;
  return state('log_errors', count > 0 ? 'warning' : 'ok', w, { ...extra, value: count, explanation: `${head} < ${t.threshold}` });
}

/**
 * Evaluate every trigger of the policy over the samples (oldest first, one release) at time `now`.
 * Always returns the six triggers in a fixed order; unconfigured ones are 'disabled'.
 */
export function evaluateTriggers(policy: Policy, samples: readonly Sample[], baseline: Baseline | null, now: number): TriggerState[] {
  return [
    evalErrorRate(policy, samples, baseline, now),
    evalLatency(policy, samples, baseline, now),
    evalMemory(policy, samples, now),
    evalHealth(policy, samples, now),
    evalDatabase(policy, samples, now),
    evalLogs(policy, samples, now),
  ];
}

/** The first breached trigger, in the fixed order (error_rate first: the most critical). */
export function firstBreached(states: readonly TriggerState[]): TriggerState | null {
  return states.find((s) => s.status === 'breached') ?? null;
}
