/**
 * Each trigger fires live against the real demo service when its fault is injected through /control,
 * and clears when the service is healthy again (enabled: false: it only alerts, never acts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Monitor } from '../../src/core/monitor/monitor.js';
import type { TriggerState } from '../../src/core/monitor/types.js';
import { EventLog, makeFixture, startHealthy, testPolicy, waitFor, type Fixture } from './harness.js';

const W = 0.04; // 2.4 s windows (ticks spawn three processes: leave room on a loaded machine)
let f: Fixture;
let m: Monitor;
const log = new EventLog();

function status(name: string): TriggerState | undefined {
  return m.getState().triggers.find((t) => t.name === name);
}

beforeAll(async () => {
  f = await makeFixture({
    releases: [{}, {}],
    policy: testPolicy({
      enabled: false,
      monitoring: { check_interval_seconds: 0.2, baseline_window_minutes: 0.02, consecutive_error_limit: 5 },
      triggers: {
        error_rate: { multiplier: 2, window_minutes: W, min_errors_per_minute: 60 },
        latency: { metric: 'p95', multiplier: 1.5, window_minutes: W },
        memory: { threshold_percent: 90, window_minutes: W },
        health_check: { failure_count: 3, window_minutes: W },
        database: { threshold: 10, window_minutes: W },
        log_errors: { patterns: ['^ERROR ', '^FATAL '], threshold: 3, window_minutes: W },
      },
    }),
    // A generous check timeout: the latency test makes responses slow on purpose.
    env: {},
  });
  f.env.health = [{ http: { url: `${f.base}/health`, status: 200, timeout_seconds: 10 } }];
  // The command source reads the service's own JSON metrics; logs come from its log file.
  f.env.metrics = { ...f.env.metrics, source: 'command', command: `curl -fsS --max-time 1 ${f.base}/metrics` };
  f.env.logs = { file: f.logFile, lines: 50 };
  await startHealthy(f);
  m = new Monitor(f.handle, { engine: f.engine });
  m.on(log.listener);
  void m.start();
  await waitFor(() => log.of('baseline')[0], 'a baseline');
}, 120_000);

afterAll(async () => {
  m?.stop();
  await m?.start();
  f?.cleanup();
});

describe('live triggers', { timeout: 120_000 }, () => {
  it('database: db connection errors above the threshold within the window, then clear', async () => {
    expect(status('database')?.status).toMatch(/ok|collecting/);
    await f.control('db_errors_per_request=5');
    const t = await waitFor(() => (status('database')?.status === 'breached' ? status('database') : null), 'database breached');
    expect(t.explanation).toMatch(/db connection errors in 2\.4s > 10/);
    await f.control('db_errors_per_request=0');
    await waitFor(() => status('database')?.status === 'ok', 'database ok again');
  });

  it('memory: a leak sustained over the whole window, then clear', async () => {
    await f.control('mode=leak&leak_percent_per_second=400');
    const t = await waitFor(() => (status('memory')?.status === 'breached' ? status('memory') : null), 'memory breached');
    expect(t.explanation).toContain('memory above 90% for the whole 2.4s window');
    await f.control('mode=healthy');
    await waitFor(() => status('memory')?.status === 'ok', 'memory ok again');
  });

  it('latency: slow responses push the p95 above baseline x 1.5', async () => {
    // Well above baseline x 1.5 even when a loaded machine made the baseline window noisy.
    const slow = Math.max(800, Math.ceil((m.getState().baseline?.metrics.p95_latency_ms ?? 0) * 3));
    await f.control(`mode=slow&latency_ms=${slow}`);
    const t = await waitFor(() => (status('latency')?.status === 'breached' ? status('latency') : null), 'latency breached');
    // It fires as soon as the window's p95 crosses the threshold, before the window is all slow.
    expect(t.value).toBeGreaterThan(t.threshold ?? Infinity);
    expect(t.explanation).toMatch(/^p95 latency \d+ ms > [\d.]+ ms \((floor min_latency_ms 25; )?baseline [\d.]+ ms x 1\.5\)/);
    await f.control('mode=healthy');
    await waitFor(() => status('latency')?.status === 'ok' || status('latency')?.status === 'warning', 'latency back under the threshold');
  });

  it('log_errors: new ERROR lines in the log file', async () => {
    await f.control('mode=errors&error_ratio=1');
    const t = await waitFor(() => (status('log_errors')?.status === 'breached' ? status('log_errors') : null), 'log_errors breached');
    expect(t.explanation).toMatch(/log lines matching \/\^ERROR \|\^FATAL \/ in 2\.4s >= 3/);
    await f.control('mode=healthy');
    await waitFor(() => status('log_errors')?.status === 'ok', 'log_errors ok again');
  });

  it('health_check: a crash after start is failed checks within the window', async () => {
    await f.control('mode=crash');
    const t = await waitFor(() => (status('health_check')?.status === 'breached' ? status('health_check') : null), 'health_check breached');
    expect(t.explanation).toMatch(/^\d+ failed health checks in 2\.4s >= 3$/);
    expect(log.of('rollback')).toEqual([]);
    // The metrics command cannot reach the dead service either: inconclusive, not zero.
    expect(m.getState().lastSample?.errors.memory_usage_percent).toMatch(/metrics\.command exit/);
  });
});
