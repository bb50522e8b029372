/**
 * The `probe` metrics source: the environment's health checks themselves. Each tick runs every check
 * once: up/down, failed checks, latency (the slowest check; p50/p95/p99 come from the window of these
 * per-probe latencies), and the error rate as failed probes per minute (failures this tick scaled by
 * the interval, so the window mean is failures per minute over the window). Memory comes from
 * `metrics.memory`: a command printing a percent, or `meminfo` for the host's /proc/meminfo, both
 * through the executor (so over SSH it is the target's memory); or an http(s) URL answering a percent or
 * JSON with `memory_usage_percent`, fetched from this machine in-process (keep-alive, no process a
 * sample: a console idling on it costs nothing extra).
 *
 * A check that could not run (SSH to the target down: `inconclusive`) makes the tick inconclusive for
 * up, error rate and latency (`sample.errors.up` ...) unless another check failed conclusively.
 */
import type { MetricsConfig, ResolvedEnvironment } from '../../config/schema.js';
import type { Executor } from '../../exec/types.js';
import { readBounded } from '../../health/body.js';
import { runHealthChecks, type HealthCheckResult } from '../../health/checks.js';
import type { Sample } from '../types.js';
import { emptySample, errorText, setError } from './sample.js';

export interface ProbeContext {
  executor: Executor;
  at: number;
  release: string | null;
  intervalMs: number;
  signal?: AbortSignal;
}

export interface ProbeSample extends Sample {
  /** The individual check results of this tick (for the console's detail view). */
  checks?: HealthCheckResult[];
}

const MEMINFO_SCRIPT = 'cat /proc/meminfo';
/** What the health checks measure besides up/down; inconclusive together when a check could not run. */
const PROBE_METRICS = ['error_rate', 'p50_latency_ms', 'p95_latency_ms', 'p99_latency_ms'] as const;

/** Parse /proc/meminfo into a used-memory percent (MemTotal - MemAvailable). */
export function parseMeminfo(text: string): number {
  const field = (name: string): number | null => {
    const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const total = field('MemTotal');
  let available = field('MemAvailable');
  if (available === null) {
    const free = field('MemFree');
    const buffers = field('Buffers') ?? 0;
    const cached = field('Cached') ?? 0;
    available = free === null ? null : free + buffers + cached;
  }
  if (!total || available === null) throw new Error('/proc/meminfo has no MemTotal/MemAvailable');
  return ((total - available) / total) * 100;
}

/** Parse a command's output as a percent: the first number, "87.5" or "87.5%". */
export function parsePercent(text: string): number {
  const m = /-?\d+(?:\.\d+)?/.exec(text);
  if (!m) throw new Error(`printed no number: ${JSON.stringify(text.trim().slice(0, 60))}`);
  const v = Number(m[0]);
  if (v < 0 || v > 100) throw new Error(`printed ${v}, not a percent`);
  return v;
}

/** The largest memory answer read from a URL: a percent or a small JSON document. */
const MEMORY_BODY_LIMIT = 64 * 1024;

/** A memory URL's answer: JSON with a numeric `memory_usage_percent`, or text whose first number is the percent. */
export function parseMemoryAnswer(text: string): number {
  try {
    const doc = JSON.parse(text) as unknown;
    const v = doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>).memory_usage_percent : undefined;
    if (typeof v === 'number') return parsePercent(String(v));
    if (typeof doc === 'object' && doc !== null) throw new Error('answered JSON without a numeric memory_usage_percent');
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  return parsePercent(text);
}

async function readMemoryUrl(url: string, timeoutMs: number, signal?: AbortSignal): Promise<number> {
  const timeout = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  } catch (err) {
    throw new Error(timeout.aborted ? `timed out after ${timeoutMs} ms` : errorText(err));
  }
  const body = await readBounded(res, MEMORY_BODY_LIMIT);
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${url}`);
  if (body.tooLarge) throw new Error(`answer larger than ${MEMORY_BODY_LIMIT / 1024} KiB from ${url}`);
  return parseMemoryAnswer(body.text);
}

export async function readMemory(metrics: MetricsConfig, executor: Executor, signal?: AbortSignal): Promise<number> {
  const spec = metrics.memory;
  if (!spec) throw new Error('metrics.memory is not set');
  const timeoutMs = metrics.timeout_seconds * 1000;
  if (/^https?:\/\//i.test(spec)) return readMemoryUrl(spec, timeoutMs, signal);
  const r = spec === 'meminfo' ? await executor.script(MEMINFO_SCRIPT, [], { timeoutMs, signal }) : await executor.shell(spec, { timeoutMs, signal });
  if (r.timedOut) throw new Error(`timed out after ${timeoutMs} ms`);
  if (r.exitCode !== 0) throw new Error(`exit ${r.exitCode}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').pop()}` : ''}`);
  return spec === 'meminfo' ? parseMeminfo(r.stdout) : parsePercent(r.stdout);
}

export async function probeSample(env: Pick<ResolvedEnvironment, 'health' | 'metrics'>, ctx: ProbeContext): Promise<ProbeSample> {
  const sample: ProbeSample = emptySample(ctx.at, ctx.release);
  const memory = env.metrics.memory
    ? readMemory(env.metrics, ctx.executor, ctx.signal).then(
        (v) => ({ ok: true as const, v }),
        (err: unknown) => ({ ok: false as const, err: errorText(err) }),
      )
    : null;
  if (env.health.length > 0) {
    const results = await runHealthChecks(env.health, { executor: ctx.executor, signal: ctx.signal });
    sample.checks = results;
    const conclusive = results.filter((r) => !r.inconclusive);
    const failures = conclusive.filter((r) => !r.ok).length;
    sample.health_failures = failures;
    if (failures === 0 && conclusive.length < results.length) {
      // Nothing failed that could be checked, but some checks could not run (SSH down): no verdict.
      const notRun = results.filter((r) => r.inconclusive).map((r) => `${r.name}: ${r.error ?? 'not run'}`).join('; ');
      const why = `health check not run (${notRun})`;
      sample.errors.up = why;
      for (const key of PROBE_METRICS) setError(sample, key, why);
    } else {
      // A failure seen is a failure, whatever else could not be checked.
      const latency = Math.max(...conclusive.map((r) => r.latencyMs));
      sample.up = failures === 0;
      sample.error_rate = failures * (60_000 / ctx.intervalMs);
      sample.p50_latency_ms = latency;
      sample.p95_latency_ms = latency;
      sample.p99_latency_ms = latency;
    }
  }
  if (memory) {
    const m = await memory;
    if (m.ok) sample.memory_usage_percent = m.v;
    else setError(sample, 'memory_usage_percent', `metrics.memory: ${m.err}`);
  }
  return sample;
}
