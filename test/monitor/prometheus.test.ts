/**
 * The prometheus source against Debian's real `prometheus` binary on 127.0.0.1 (random port, throwaway
 * config and TSDB), scraping the demo service's /metrics/prometheus, with real PromQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsSchema } from '../../src/core/config/schema.js';
import { prometheusSample, queryPrometheus } from '../../src/core/monitor/sources/prometheus.js';
import { freePort, makeFixture, startHealthy, waitFor, type Fixture } from './harness.js';

const PROMETHEUS = '/usr/bin/prometheus';

describe.skipIf(!existsSync(PROMETHEUS))('prometheus source (real prometheus)', () => {
  let f: Fixture;
  let prom: ChildProcess;
  let dir: string;
  let url: string;
  let stderr = '';

  beforeAll(async () => {
    f = await makeFixture({ releases: [{ db_errors_per_request: 2 }] });
    await startHealthy(f);
    dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-prom-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 500ms, evaluation_interval: 500ms }',
        'scrape_configs:',
        '  - job_name: app',
        '    metrics_path: /metrics/prometheus',
        `    static_configs: [{ targets: ["127.0.0.1:${f.port}"] }]`,
        '',
      ].join('\n'),
    );
    prom = spawn(
      PROMETHEUS,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prom.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
    await waitFor(async () => (await fetch(`${url}/-/ready`)).ok, `prometheus to be ready (${stderr})`, 30_000, 100);
    // Some traffic so the counters move, then the first scraped data.
    for (let i = 0; i < 5; i++) await fetch(`${f.base}/work`);
    await waitFor(async () => {
      const r = await queryPrometheus(url, 'app_db_connection_errors_total', 2000);
      return r.ok && r.value >= 10;
    }, 'the first scraped data', 30_000, 100);
  }, 120_000);

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom.once('exit', r));
      prom.kill('SIGTERM');
      await exited;
    }
    f?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads each metric with its PromQL query into the sample', async () => {
    await f.control('mode=leak&memory_base_percent=55&leak_percent_per_second=0');
    await waitFor(async () => {
      const r = await queryPrometheus(url, 'app_memory_usage_percent', 2000);
      return r.ok && r.value === 55;
    }, 'the new memory value to be scraped', 30_000, 100);
    const metrics = MetricsSchema.parse({
      source: 'prometheus',
      url,
      queries: {
        memory_usage_percent: 'app_memory_usage_percent',
        db_connection_errors: 'sum(app_db_connection_errors_total)',
        error_rate: 'sum(rate(app_requests_total{status="error"}[5s])) * 60',
        p95_latency_ms: 'max(app_request_latency_ms{quantile="0.95"})',
        requests: 'sum(app_requests_total)',
      },
    });
    const s = await prometheusSample(metrics, { at: Date.now(), release: 'r' });
    expect(s.errors).toEqual({});
    expect(s.memory_usage_percent).toBe(55);
    expect(s.db_connection_errors).toBeGreaterThanOrEqual(10);
    expect(s.error_rate).toBe(0);
    expect(s.p95_latency_ms).toBeGreaterThanOrEqual(0);
    expect(s.custom.requests).toBeGreaterThanOrEqual(5);
  });

  it('reports bad_data, empty results, several series and a dead server as errors, never zero', async () => {
    const metrics = MetricsSchema.parse({
      source: 'prometheus',
      url,
      timeout_seconds: 2,
      queries: {
        error_rate: 'sum(rate(app_requests_total[',
        memory_usage_percent: 'app_metric_that_does_not_exist',
        db_connection_errors: 'app_requests_total',
      },
    });
    const s = await prometheusSample(metrics, { at: Date.now(), release: 'r' });
    expect(s.error_rate).toBeNull();
    expect(s.errors.error_rate).toMatch(/^prometheus: bad_data: /);
    expect(s.memory_usage_percent).toBeNull();
    expect(s.errors.memory_usage_percent).toBe('prometheus: empty result (no such series yet)');
    expect(s.db_connection_errors).toBeNull();
    expect(s.errors.db_connection_errors).toMatch(/2 series, expected 1/);

    const deadPort = await freePort();
    const dead = await prometheusSample(MetricsSchema.parse({ source: 'prometheus', url: `http://127.0.0.1:${deadPort}`, queries: { error_rate: 'up' } }), {
      at: Date.now(),
      release: 'r',
    });
    expect(dead.error_rate).toBeNull();
    expect(dead.errors.error_rate).toMatch(/ECONNREFUSED/);
  });
});
