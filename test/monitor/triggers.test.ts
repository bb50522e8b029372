import { describe, expect, it } from 'vitest';
import { PolicySchema, type Policy } from '../../src/core/config/schema.js';
import { evaluateTriggers, samplesNeeded } from '../../src/core/monitor/triggers.js';
import { computeBaseline, judgeBaselineWindow, parseBaseline } from '../../src/core/monitor/baseline.js';
import { assessBreach, budgetWindowMs, recurrenceWindowMs, type AutoRollbackRecord } from '../../src/core/monitor/recurrence.js';
import { emptySample } from '../../src/core/monitor/sources/sample.js';
import type { Baseline, Sample, TriggerState } from '../../src/core/monitor/types.js';

// 1 s interval, 10 s windows: a full window is 10 samples, 8 needed.
const policy: Policy = PolicySchema.parse({
  monitoring: { check_interval_seconds: 1, baseline_window_minutes: 10 / 60 },
  triggers: {
    error_rate: { multiplier: 2, window_minutes: 10 / 60, min_errors_per_minute: 1 },
    latency: { metric: 'p95', multiplier: 1.5, window_minutes: 10 / 60 },
    memory: { threshold_percent: 90, window_minutes: 10 / 60 },
    health_check: { failure_count: 3, window_minutes: 10 / 60 },
    database: { threshold: 10, window_minutes: 10 / 60 },
    log_errors: { patterns: ['FATAL'], threshold: 2, window_minutes: 10 / 60 },
  },
});
const NOW = 1_000_000;

function series(n: number, fill: (s: Sample, i: number) => void): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const s = emptySample(NOW - (n - 1 - i) * 1000, 'r1');
    s.up = true;
    fill(s, i);
    out.push(s);
  }
  return out;
}

function base(metrics: Partial<Baseline['metrics']>): Baseline {
  return {
    release: 'r1',
    timestamp: new Date(NOW).toISOString(),
    samples: 10,
    healthy: true,
    metrics: { error_rate: 0, p50_latency_ms: null, p95_latency_ms: null, p99_latency_ms: null, memory_usage_percent: null, cpu_usage_percent: null, request_rate: null, ...metrics },
  };
}

function get(states: TriggerState[], name: string): TriggerState {
  const t = states.find((s) => s.name === name);
  if (!t) throw new Error(`no trigger ${name}`);
  return t;
}

describe('evaluateTriggers', () => {
  it('needs 80% of window / interval samples', () => {
    expect(samplesNeeded(10_000, 1000)).toBe(8);
    expect(samplesNeeded(300_000, 60_000)).toBe(4);
    const t = get(evaluateTriggers(policy, series(7, (s) => (s.error_rate = 100)), base({ error_rate: 1 }), NOW), 'error_rate');
    expect(t.status).toBe('collecting');
    expect(t.samplesInWindow).toBe(7);
    expect(t.samplesNeeded).toBe(8);
    expect(t.explanation).toContain('collecting 7/8');
  });

  it('error_rate: mean above baseline x multiplier fires, exactly at the threshold does not', () => {
    const b = base({ error_rate: 2 }); // threshold 4/min
    const at = get(evaluateTriggers(policy, series(10, (s) => (s.error_rate = 4)), b, NOW), 'error_rate');
    expect(at.status).toBe('warning');
    expect(at.threshold).toBe(4);
    const above = get(evaluateTriggers(policy, series(10, (s, i) => (s.error_rate = i === 9 ? 4.1 : 4)), b, NOW), 'error_rate');
    expect(above.value).toBeCloseTo(4.01, 5);
    expect(above.status).toBe('breached');
    expect(above.explanation).toMatch(/error rate 4\.01\/min > 4\/min \(baseline 2\/min x 2\) over 10s/);
    const low = get(evaluateTriggers(policy, series(10, (s) => (s.error_rate = 3)), b, NOW), 'error_rate');
    expect(low.status).toBe('ok');
  });

  it('error_rate: a zero baseline uses min_errors_per_minute as the floor', () => {
    const b = base({ error_rate: 0 });
    expect(get(evaluateTriggers(policy, series(10, (s) => (s.error_rate = 1)), b, NOW), 'error_rate').status).toBe('warning');
    const t = get(evaluateTriggers(policy, series(10, (s) => (s.error_rate = 1.5)), b, NOW), 'error_rate');
    expect(t.status).toBe('breached');
    expect(t.threshold).toBe(1);
    expect(t.explanation).toContain('min_errors_per_minute');
  });

  it('error_rate and latency wait for a baseline', () => {
    const states = evaluateTriggers(policy, series(10, (s) => ((s.error_rate = 999), (s.p95_latency_ms = 999))), null, NOW);
    expect(get(states, 'error_rate').status).toBe('collecting');
    expect(get(states, 'latency').explanation).toContain('waiting for the baseline');
  });

  it('latency: min_latency_ms floors the threshold on a fast baseline', () => {
    const b = base({ p95_latency_ms: 2 }); // 2 ms x 1.5 = 3 ms, floored to 25 ms
    const jitter = get(evaluateTriggers(policy, series(10, (s) => (s.p95_latency_ms = 20)), b, NOW), 'latency');
    expect(jitter.threshold).toBe(25);
    expect(jitter.status).not.toBe('breached');
    const slow = get(evaluateTriggers(policy, series(10, (s) => (s.p95_latency_ms = 26)), b, NOW), 'latency');
    expect(slow.status).toBe('breached');
    expect(slow.explanation).toContain('floor min_latency_ms 25');
  });

  it('latency: the chosen percentile over the window against baseline x multiplier', () => {
    const b = base({ p95_latency_ms: 100 }); // threshold 150 ms
    // 10 samples: nearest-rank p95 is the largest one.
    const ok = get(evaluateTriggers(policy, series(10, (s, i) => (s.p95_latency_ms = i === 9 ? 150 : 20)), b, NOW), 'latency');
    expect(ok.value).toBe(150);
    expect(ok.status).toBe('warning');
    const hit = get(evaluateTriggers(policy, series(10, (s, i) => (s.p95_latency_ms = i === 9 ? 151 : 20)), b, NOW), 'latency');
    expect(hit.status).toBe('breached');
    expect(hit.explanation).toBe('p95 latency 151 ms > 150 ms (baseline 100 ms x 1.5) over 10s');
  });

  it('memory: fires only when above the threshold for the whole window', () => {
    const all = get(evaluateTriggers(policy, series(10, (s) => (s.memory_usage_percent = 90.5)), null, NOW), 'memory');
    expect(all.status).toBe('breached');
    expect(all.explanation).toContain('for the whole 10s window');
    const dip = get(evaluateTriggers(policy, series(10, (s, i) => (s.memory_usage_percent = i === 4 ? 90 : 99)), null, NOW), 'memory');
    expect(dip.status).toBe('warning');
    expect(dip.value).toBe(90);
    const spike = get(evaluateTriggers(policy, series(10, (s, i) => (s.memory_usage_percent = i === 9 ? 99 : 40)), null, NOW), 'memory');
    expect(spike.status).toBe('warning');
    const calm = get(evaluateTriggers(policy, series(10, (s) => (s.memory_usage_percent = 40)), null, NOW), 'memory');
    expect(calm.status).toBe('ok');
  });

  it('health_check: failures within the window reach failure_count, even before the window is full', () => {
    const two = get(evaluateTriggers(policy, series(10, (s, i) => ((s.up = i < 8), (s.health_failures = i < 8 ? 0 : 1))), null, NOW), 'health_check');
    expect(two.status).toBe('warning');
    expect(two.value).toBe(2);
    // Crash right after start: three failed probes out of three samples.
    const crash = get(evaluateTriggers(policy, series(3, (s) => ((s.up = false), (s.health_failures = 1))), null, NOW), 'health_check');
    expect(crash.status).toBe('breached');
    expect(crash.explanation).toBe('3 failed health checks in 10s >= 3');
    // Failures older than the window do not count.
    const old = series(3, (s) => ((s.up = false), (s.health_failures = 1))).map((s) => ({ ...s, at: s.at - 20_000 }));
    expect(get(evaluateTriggers(policy, old, null, NOW), 'health_check').value).toBe(0);
  });

  it('health_check: one failure per probe that found the service down, however many checks failed in it', () => {
    // Three health entries all failing in one tick is one failed probe, not three (failure_count: 3).
    const once = series(10, (s, i) => ((s.up = i !== 9), (s.health_failures = i === 9 ? 3 : 0)));
    const t = get(evaluateTriggers(policy, once, null, NOW), 'health_check');
    expect(t.value).toBe(1);
    expect(t.status).toBe('warning');
    const three = series(10, (s, i) => ((s.up = i < 7), (s.health_failures = i < 7 ? 0 : 3)));
    expect(get(evaluateTriggers(policy, three, null, NOW), 'health_check')).toMatchObject({ status: 'breached', value: 3 });
  });

  it('health_check: probes that could not run (SSH down) are inconclusive, never failures', () => {
    const blind = series(10, (s) => ((s.up = null), (s.errors.up = 'health check not run (ssh: Connection refused)')));
    const t = get(evaluateTriggers(policy, blind, null, NOW), 'health_check');
    expect(t.status).toBe('inconclusive');
    expect(t.value).toBe(0);
    expect(t.explanation).toContain('10 of 10 probes in 10s could not run (health check not run (ssh: Connection refused))');
    // Two that could not run among ten leave eight conclusive ones: enough to say ok.
    const some = series(10, (s, i) => {
      if (i < 2) {
        s.up = null;
        s.errors.up = 'not run';
      }
    });
    expect(get(evaluateTriggers(policy, some, null, NOW), 'health_check').status).toBe('ok');
  });

  it('database: the counter increase over the window above the threshold', () => {
    const at10 = get(evaluateTriggers(policy, series(11, (s, i) => (s.db_connection_errors = 100 + i)), null, NOW), 'database');
    expect(at10.value).toBe(10);
    expect(at10.status).toBe('warning');
    const at11 = get(evaluateTriggers(policy, series(12, (s, i) => (s.db_connection_errors = 100 + i + (i === 11 ? 1 : 0))), null, NOW), 'database');
    expect(at11.value).toBe(11);
    expect(at11.status).toBe('breached');
    // A counter reset (process restart) counts from zero, it is not a negative increase.
    const reset = get(evaluateTriggers(policy, series(10, (s, i) => (s.db_connection_errors = i < 5 ? 50 : i - 4)), null, NOW), 'database');
    expect(reset.value).toBe(5);
  });

  it('log_errors: matching lines within the window reach the threshold', () => {
    const one = get(evaluateTriggers(policy, series(10, (s, i) => (s.log_error_lines = i === 3 ? 1 : 0)), null, NOW), 'log_errors');
    expect(one.status).toBe('warning');
    const two = get(evaluateTriggers(policy, series(10, (s, i) => (s.log_error_lines = i === 3 || i === 7 ? 1 : 0)), null, NOW), 'log_errors');
    expect(two.status).toBe('breached');
    expect(two.explanation).toBe('2 log lines matching /FATAL/ in 10s >= 2');
  });

  it('source errors make a trigger inconclusive, never ok or breached', () => {
    const samples = series(10, (s, i) => {
      if (i >= 5) {
        s.error_rate = null;
        s.errors.error_rate = 'prometheus: execution: query timed out';
      } else s.error_rate = 0;
    });
    const t = get(evaluateTriggers(policy, samples, base({ error_rate: 0 }), NOW), 'error_rate');
    expect(t.status).toBe('inconclusive');
    expect(t.explanation).toContain('5 of 10 samples');
    expect(t.explanation).toContain('query timed out');
    // Two errors in ten leave 8 good samples: enough to decide.
    const few = series(10, (s, i) => {
      if (i < 2) s.errors.error_rate = 'timed out';
      else s.error_rate = 0;
    });
    expect(get(evaluateTriggers(policy, few, base({ error_rate: 0 }), NOW), 'error_rate').status).toBe('ok');
  });

  it('metrics the source does not measure and unconfigured triggers are disabled', () => {
    const p = PolicySchema.parse({ monitoring: { check_interval_seconds: 1 }, triggers: { memory: { window_minutes: 10 / 60 } } });
    const states = evaluateTriggers(p, series(10, () => {}), null, NOW);
    expect(states.map((s) => s.name)).toEqual(['error_rate', 'latency', 'memory', 'health_check', 'database', 'log_errors']);
    expect(get(states, 'memory').status).toBe('disabled');
    expect(get(states, 'memory').explanation).toContain('not measured');
    expect(get(states, 'database').status).toBe('disabled');
  });
});

describe('baseline', () => {
  it('computes the baseline fields and round-trips through JSON', () => {
    const samples = series(10, (s, i) => {
      s.error_rate = i % 2;
      s.p50_latency_ms = s.p95_latency_ms = s.p99_latency_ms = 10 + i;
      s.memory_usage_percent = 40;
    });
    const b = computeBaseline('r1', samples, true, NOW);
    expect(b.metrics.error_rate).toBe(0.5);
    expect(b.metrics.p50_latency_ms).toBe(14);
    expect(b.metrics.p95_latency_ms).toBe(19);
    expect(b.metrics.memory_usage_percent).toBe(40);
    expect(b.metrics.cpu_usage_percent).toBeNull();
    expect(parseBaseline(JSON.stringify(b), 'r1')).toEqual(b);
    expect(parseBaseline(JSON.stringify(b), 'other')).toBeNull();
    expect(parseBaseline('{not json', 'r1')).toBeNull();
  });

  it('a window is healthy only when most samples are conclusive and up, and no trigger fired', () => {
    const up = series(10, (s) => (s.error_rate = 0));
    expect(judgeBaselineWindow(up, false)).toEqual({ healthy: true, why: '10 of 10 samples up' });
    expect(judgeBaselineWindow(up, true)).toMatchObject({ healthy: false, why: 'a trigger fired during the window' });
    // One sample up is not enough (it used to be).
    const mostlyDown = series(10, (s, i) => ((s.up = i === 0), (s.error_rate = i === 0 ? 0 : 600)));
    expect(judgeBaselineWindow(mostlyDown, false)).toEqual({ healthy: false, why: '9 down of 10 samples' });
    // Nothing measured is not healthy (it used to be).
    const nothing = series(5, (s) => (s.up = null));
    expect(judgeBaselineWindow(nothing, false)).toEqual({ healthy: false, why: '5 inconclusive of 5 samples' });
    expect(judgeBaselineWindow([], false).healthy).toBe(false);
    // Measurement errors on baseline fields are inconclusive; two of ten still leave 80%.
    const blind = (n: number) =>
      series(10, (s, i) => {
        s.error_rate = 0;
        if (i < n) s.errors.memory_usage_percent = 'metrics.memory: exit 1';
      });
    expect(judgeBaselineWindow(blind(3), false)).toEqual({ healthy: false, why: '3 inconclusive of 10 samples' });
    expect(judgeBaselineWindow(blind(2), false)).toEqual({ healthy: true, why: '8 of 10 samples up' });
    // No health checks configured, but the metrics were read: measured and up.
    expect(judgeBaselineWindow(series(5, (s) => ((s.up = null), (s.error_rate = 1))), false).healthy).toBe(true);
  });
});

describe('automatic rollbacks in a row (recurrence)', () => {
  // baseline 10 s; database 10 s window; longest window 10 s: recurrence 10 + 2 x 10 = 30 s.
  const p: Policy = { ...policy, rollback: { ...policy.rollback, max_rollback_attempts: 2 } };
  const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();
  const rec = (o: Partial<AutoRollbackRecord>): AutoRollbackRecord => ({ env: 'prod', at: at(5_000), trigger: 'database', from: 'r3', to: 'r2', verification: 'passed', ...o });
  const assess = (records: AutoRollbackRecord[], trigger = 'database', live = 'r2') => assessBreach(records, { env: 'prod', live, trigger, now: NOW, policy: p });

  it('derives its windows from the policy', () => {
    expect(recurrenceWindowMs(p, 'database')).toBe(30_000);
    expect(recurrenceWindowMs(p, 'custom')).toBe(30_000);
    expect(budgetWindowMs(p)).toBe(30_000);
  });

  it('the same trigger again on the release an automatic rollback restored, within the window: the older release is unhealthy too', () => {
    const v = assess([rec({})]);
    expect(v.kind).toBe('recurred');
    expect(v.kind === 'recurred' && v.message).toBe('database breached again on r2 5s after the automatic rollback from r3 (within 30s): the older release is unhealthy too');
  });

  it('acts when it is another trigger, another release, another environment, or after the window', () => {
    expect(assess([rec({})], 'error_rate')).toEqual({ kind: 'act', attempts: 1 });
    expect(assess([rec({})], 'database', 'r5')).toEqual({ kind: 'act', attempts: 1 });
    expect(assess([rec({ env: 'staging' })])).toEqual({ kind: 'act', attempts: 2 });
    expect(assess([rec({ at: at(31_000) })])).toEqual({ kind: 'act', attempts: 2 });
    expect(assess([])).toEqual({ kind: 'act', attempts: 2 });
  });

  it('stops at max_rollback_attempts automatic rollbacks within the window, whatever the triggers', () => {
    const v = assess([rec({ at: at(20_000), trigger: 'memory', from: 'r4', to: 'r3' }), rec({ trigger: 'latency' })], 'error_rate');
    expect(v.kind).toBe('limit');
    expect(v.kind === 'limit' && v.message).toContain('2 automatic rollbacks within 30s (r4 -> r3, r3 -> r2) reach max_rollback_attempts 2');
  });
});
