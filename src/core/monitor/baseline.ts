/**
 * Baselines: what "normal" looks like for one release, measured over `baseline_window_minutes` after
 * the monitor first sees it live, persisted as `<state_dir>/baselines/<release>.json` (atomic write)
 * so a restarted monitor compares against the same numbers instead of re-learning from a release that
 * may have gone bad in the meantime.
 *
 * Fields: error rate (mean, /min), p50/p95/p99 latency (nearest-rank over the per-sample
 * values, the same way the latency trigger reads its window), memory and CPU percent (mean), request
 * rate (mean) where the source has them; null where it does not.
 */
import type { Baseline, Sample } from './types.js';
import { mean, percentile } from './stats.js';

export const BASELINE_DIR = 'baselines';

/** The state-dir operations the baseline store needs (StateDir provides them). */
export interface BaselineStateDir {
  read(name: string): Promise<string | null>;
  writeAtomic(name: string, content: string): Promise<void>;
}

function values(samples: readonly Sample[], key: keyof Baseline['metrics']): number[] {
  const out: number[] = [];
  for (const s of samples) {
    const v = s[key];
    if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
  }
  return out;
}

/** Compute a baseline from the samples of its window (oldest first). */
export function computeBaseline(release: string, samples: readonly Sample[], healthy: boolean, now: number): Baseline {
  return {
    release,
    timestamp: new Date(now).toISOString(),
    samples: samples.length,
    healthy,
    metrics: {
      error_rate: mean(values(samples, 'error_rate')),
      p50_latency_ms: percentile(values(samples, 'p50_latency_ms'), 50),
      p95_latency_ms: percentile(values(samples, 'p95_latency_ms'), 95),
      p99_latency_ms: percentile(values(samples, 'p99_latency_ms'), 99),
      memory_usage_percent: mean(values(samples, 'memory_usage_percent')),
      cpu_usage_percent: mean(values(samples, 'cpu_usage_percent')),
      request_rate: mean(values(samples, 'request_rate')),
    },
  };
}

/** Fraction of a baseline window's samples that must be conclusive and up (as a trigger window needs). */
export const HEALTHY_FRACTION = 0.8;

/** The sample fields a baseline records: a measurement error on any of them makes the sample inconclusive. */
const BASELINE_KEYS = ['up', 'error_rate', 'p50_latency_ms', 'p95_latency_ms', 'p99_latency_ms', 'memory_usage_percent', 'cpu_usage_percent', 'request_rate'] as const;

/**
 * Was the release healthy over its baseline window? Most samples (HEALTHY_FRACTION) must be conclusive
 * (no measurement error on a baseline field, something measured) and up (health checks passed, or none
 * configured), and no trigger may have fired meanwhile. Nothing measured is not healthy.
 */
export function judgeBaselineWindow(samples: readonly Sample[], breached: boolean): { healthy: boolean; why: string } {
  if (breached) return { healthy: false, why: 'a trigger fired during the window' };
  if (samples.length === 0) return { healthy: false, why: 'no samples' };
  let inconclusive = 0;
  let down = 0;
  for (const s of samples) {
    const measured = s.up !== null || BASELINE_KEYS.some((k) => k !== 'up' && s[k] !== null);
    if (!measured || BASELINE_KEYS.some((k) => s.errors[k] !== undefined)) inconclusive++;
    else if (s.up === false) down++;
  }
  const good = samples.length - inconclusive - down;
  if (good >= HEALTHY_FRACTION * samples.length - 1e-9) return { healthy: true, why: `${good} of ${samples.length} samples up` };
  const parts = [down > 0 ? `${down} down` : '', inconclusive > 0 ? `${inconclusive} inconclusive` : ''].filter(Boolean).join(', ');
  return { healthy: false, why: `${parts} of ${samples.length} samples` };
}

export function baselineFile(release: string): string {
  return `${BASELINE_DIR}/${release}.json`;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Parse a stored baseline; null when missing or damaged (a damaged one is re-established). */
export function parseBaseline(text: string | null, release: string): Baseline | null {
  if (text === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (!raw || typeof raw !== 'object') return null;
  const o = raw as Record<string, unknown>;
  const m = (o.metrics ?? {}) as Record<string, unknown>;
  if (o.release !== release || typeof o.timestamp !== 'string') return null;
  return {
    release,
    timestamp: o.timestamp,
    samples: num(o.samples) ?? 0,
    healthy: o.healthy === true,
    metrics: {
      error_rate: num(m.error_rate),
      p50_latency_ms: num(m.p50_latency_ms),
      p95_latency_ms: num(m.p95_latency_ms),
      p99_latency_ms: num(m.p99_latency_ms),
      memory_usage_percent: num(m.memory_usage_percent),
      cpu_usage_percent: num(m.cpu_usage_percent),
      request_rate: num(m.request_rate),
    },
  };
}

export class BaselineStore {
  constructor(private readonly state: BaselineStateDir) {}

  async load(release: string): Promise<Baseline | null> {
    return parseBaseline(await this.state.read(baselineFile(release)), release);
  }

  async save(baseline: Baseline): Promise<void> {
    await this.state.writeAtomic(baselineFile(baseline.release), `${JSON.stringify(baseline, null, 2)}\n`);
  }
}
