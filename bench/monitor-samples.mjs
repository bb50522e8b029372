#!/usr/bin/env node
/**
 * RSS of the monitor after 1,000 and after N samples on a simulated clock (bench/run.mjs runs it in a
 * fresh process with --expose-gc): the real Monitor's full tick path (command source, ring buffer,
 * trigger evaluation, events) with an in-process executor answering the metrics command, so the clock
 * and not the machine sets the pace. Prints one JSON line: {"rss_mib": {"1000": x, "N": y}, ...}.
 *
 *   node --expose-gc bench/monitor-samples.mjs [N=100000]
 *
 * bench/monitor.mjs (the monitor engineer's script, also detection and idle) runs it the same way.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from './lib.mjs';

const total = Number(process.argv[2] ?? 100_000);
const dist = (p) => import(path.join(ROOT, 'dist', p));
const { Monitor } = await dist('core/monitor/index.js');
const { PolicySchema, EnvironmentSchema } = await dist('core/config/schema.js');

const policy = PolicySchema.parse({
  enabled: false,
  monitoring: { check_interval_seconds: 60, baseline_window_minutes: 5 },
  triggers: { error_rate: { window_minutes: 5 }, latency: { window_minutes: 5 }, memory: { window_minutes: 10 }, database: { window_minutes: 2 } },
});
const env = {
  ...EnvironmentSchema.parse({
    target: { strategy: 'symlink', backups_dir: '/nonexistent', current: '/nonexistent/current' },
    metrics: { source: 'command', command: 'metrics' },
  }),
  name: 'sim',
  policy,
  state_dir: '/nonexistent/state',
};
let n = 0;
const result = (stdout) => ({ exitCode: 0, stdout, stderr: '', durationMs: 0, timedOut: false, truncated: false });
const executor = {
  kind: 'local',
  description: 'in-process',
  script: async () => result(''),
  shell: async () => {
    n++;
    return result(JSON.stringify({ error_rate: n % 7, p95_latency_ms: 20 + (n % 9), memory_usage_percent: 40 + (n % 10), db_connection_errors: n }));
  },
  close: async () => {},
};
const files = new Map();
const handle = {
  env,
  executor,
  state: { read: async (k) => files.get(k) ?? null, writeAtomic: async (k, v) => void files.set(k, v), appendLine: async () => {}, path: (k) => k },
  marks: { markKnownGood: async () => ({ knownGood: [], bad: [] }) },
  store: { live: async () => 'backup_sim', list: async () => [] },
};
let t = Date.UTC(2024, 0, 1);
const engine = { run: async () => { throw new Error('the simulated monitor never rolls back'); }, lockOwner: async () => null };
const m = new Monitor(handle, { engine, clock: { now: () => t, sleep: async (ms) => void (t += ms) } });
const rss = {};
let samples = 0;
m.on((e) => {
  if (e.type !== 'sample') return;
  samples++;
  if (samples === 1000 || samples === total) {
    globalThis.gc?.();
    rss[samples] = Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10;
    if (samples === total) m.stop();
  }
});
const t0 = performance.now();
await m.start();
process.stdout.write(`${JSON.stringify({ samples: total, rss_mib: rss, ring_capacity: m.capacity, simulated_days: Math.round((total * 60) / 8640) / 10, wall_s: Math.round((performance.now() - t0) / 100) / 10, via: 'Monitor on a simulated clock, 60 s interval' })}\n`);
