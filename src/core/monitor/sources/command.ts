/**
 * The `command` metrics source: `metrics.command` runs through the executor (on the target host for
 * SSH environments) and prints one JSON object of metric values, e.g.
 * `{"error_rate": 0.4, "p95_latency_ms": 210, "memory_usage_percent": 51, "queue_depth": 3}`.
 * Known names fill the sample's fields, others go to `custom`. A value that is not a number is an
 * error for that metric; a failed run, a timeout or unparseable output makes every metric the command
 * last reported (or all known metrics, before its first success) inconclusive.
 */
import type { MetricsConfig } from '../../config/schema.js';
import type { Executor } from '../../exec/types.js';
import type { Sample } from '../types.js';
import { METRIC_KEYS, emptySample, isMetricKey, errorText, setError, setMetric } from './sample.js';

export interface CommandContext {
  executor: Executor;
  at: number;
  release: string | null;
  signal?: AbortSignal;
}

/** Parse the command's output: one JSON object (the last line that is one, so a banner is tolerated). */
export function parseMetricsJson(stdout: string): Record<string, unknown> {
  const text = stdout.trim();
  const candidates = [text, ...text.split('\n').reverse()];
  for (const c of candidates) {
    const t = c.trim();
    if (!t.startsWith('{')) continue;
    try {
      const v: unknown = JSON.parse(t);
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // try the next candidate
    }
  }
  throw new Error(`printed no JSON object: ${JSON.stringify(text.slice(0, 80))}`);
}

export class CommandSource {
  private lastKeys: string[] | null = null;

  constructor(private readonly metrics: MetricsConfig) {}

  async sample(ctx: CommandContext): Promise<Sample> {
    const sample = emptySample(ctx.at, ctx.release);
    const command = this.metrics.command;
    const failAll = (message: string): Sample => {
      const keys = this.lastKeys ?? METRIC_KEYS.filter((k) => k !== 'log_error_lines');
      for (const k of keys) setError(sample, k, message);
      return sample;
    };
    if (!command) return failAll('metrics.command is not set');
    const timeoutMs = this.metrics.timeout_seconds * 1000;
    let obj: Record<string, unknown>;
    try {
      const r = await ctx.executor.shell(command, { timeoutMs, signal: ctx.signal, maxOutputBytes: 1024 * 1024 });
      if (r.timedOut) return failAll(`metrics.command timed out after ${timeoutMs} ms`);
      if (r.exitCode !== 0) {
        const last = r.stderr.trim().split('\n').pop() ?? '';
        return failAll(`metrics.command exit ${r.exitCode}${last ? `: ${last.slice(0, 160)}` : ''}`);
      }
      obj = parseMetricsJson(r.stdout);
    } catch (err) {
      return failAll(`metrics.command ${errorText(err)}`);
    }
    const keys: string[] = [];
    for (const [name, raw] of Object.entries(obj)) {
      if (typeof raw === 'number' && Number.isFinite(raw)) {
        setMetric(sample, name, raw);
        keys.push(name);
      } else if (raw === null || (typeof raw === 'string' && isMetricKey(name))) {
        const num = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
        if (Number.isFinite(num)) setMetric(sample, name, num);
        else setError(sample, name, `metrics.command reported ${JSON.stringify(raw)} for ${name}`);
        keys.push(name);
      }
      // Other strings, objects, booleans and arrays are context (version, mode), not metrics: ignored.
    }
    this.lastKeys = keys;
    return sample;
  }
}
