#!/usr/bin/env node
/**
 * Monitor measurements (never asserted in tests): run `npm run build` first; imports from dist/.
 *
 *   node --expose-gc bench/monitor.mjs [--idle-seconds 120] [--skip-idle] [--skip-detection]
 *
 * 1. Detection latency: a fault injected into the live release of the real demo service (/control)
 *    -> the monitor's "rollback started" event, against window + one interval.
 * 2. Idle cost: a child process running the monitor (1 s interval) on a healthy service: CPU time and RSS.
 * 3. Memory: RSS after 1,000 and after 100,000 samples on simulated time (the full tick path: command
 *    source, ring, trigger evaluation, events; an in-process executor answers the metrics command).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(path.join(ROOT, 'dist', p));
const { Monitor } = await dist('core/monitor/index.js');
const { PolicySchema, EnvironmentSchema } = await dist('core/config/schema.js');
const { openEnvironment } = await dist('core/environment.js');
const { RollbackEngine } = await dist('core/engine/engine.js');
const { freePort } = await dist('core/net.js');

const args = process.argv.slice(2);
const idleSeconds = Number(args[args.indexOf('--idle-seconds') + 1] || 120);
const SERVICE = path.join(ROOT, 'demo', 'service.mjs');

async function waitFor(fn, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      // retry
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A temp symlink store with `n` healthy releases and the demo service running on the newest. */
async function fixture(n, policy) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rtui-bench-'));
  const backups = path.join(root, 'backups');
  mkdirSync(backups);
  const names = [];
  for (let i = 0; i < n; i++) {
    const name = `backup_20240101_0${i}0000`;
    const dir = path.join(backups, name);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'release.json'), JSON.stringify({ version: name, mode: 'healthy' }));
    const t = new Date(Date.UTC(2024, 0, 1, i));
    utimesSync(dir, t, t);
    names.push(name);
  }
  const current = path.join(root, 'current');
  symlinkSync(path.join(backups, names[n - 1]), current);
  const port = await freePort();
  const pid = path.join(root, 'svc.pid');
  const start = `${process.execPath} ${SERVICE} --port ${port} --release-dir ${current} --pid-file ${pid} --log-file ${root}/svc.log --daemon`;
  const stop = `${process.execPath} ${SERVICE} --stop --pid-file ${pid}`;
  const raw = {
    target: { strategy: 'symlink', backups_dir: backups, current },
    service: { start, stop },
    health: [{ http: { url: `http://127.0.0.1:${port}/health`, timeout_seconds: 1 } }],
  };
  const { policy: _p, ...envCfg } = EnvironmentSchema.parse(raw);
  const env = { ...envCfg, name: 'bench', policy: PolicySchema.parse(policy), state_dir: path.join(root, 'state') };
  execFileSync('sh', ['-c', start], { stdio: 'ignore' });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).ok, 'the service');
  return {
    env,
    port,
    names,
    cleanup() {
      try {
        execFileSync('sh', ['-c', stop], { stdio: 'ignore' });
      } catch {
        // stopped
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

async function detection(intervalS, windowMin) {
  const policy = {
    monitoring: { check_interval_seconds: intervalS, baseline_window_minutes: windowMin / 2 },
    triggers: { error_rate: { multiplier: 2, window_minutes: windowMin, min_errors_per_minute: 1 } },
    rollback: { health_check_timeout_seconds: 5, stability_seconds: 0.2, poll_interval_seconds: 0.05 },
  };
  const f = await fixture(2, policy);
  const handle = openEnvironment(f.env);
  await handle.state.ensure();
  const m = new Monitor(handle, { engine: new RollbackEngine(handle, { version: 'bench' }) });
  let baseline = false;
  let injected = 0;
  let detected = 0;
  let finished = 0;
  const done = new Promise((resolve) => {
    m.on((e) => {
      if (e.type === 'baseline' && !baseline) {
        baseline = true;
        injected = performance.now();
        void fetch(`http://127.0.0.1:${f.port}/control?mode=errors&error_ratio=1`);
      }
      if (e.type === 'rollback' && e.phase === 'started') detected = performance.now();
      if (e.type === 'rollback' && e.phase === 'finished') {
        finished = performance.now();
        resolve();
      }
    });
  });
  void m.start();
  await done;
  m.stop();
  await m.start();
  await handle.close();
  f.cleanup();
  const windowMs = windowMin * 60_000;
  return { interval_ms: intervalS * 1000, window_ms: windowMs, bound_ms: windowMs + intervalS * 1000, detection_ms: Math.round(detected - injected), rollback_ms: Math.round(finished - detected) };
}

async function idle(seconds) {
  const f = await fixture(2, { monitoring: { check_interval_seconds: 1, baseline_window_minutes: 0.5 }, triggers: { error_rate: { window_minutes: 1 }, health_check: { window_minutes: 1 } } });
  const envFile = path.join(os.tmpdir(), `rtui-bench-env-${process.pid}.json`);
  writeFileSync(envFile, JSON.stringify(f.env));
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `
      import { readFileSync } from 'node:fs';
      const { Monitor } = await import(${JSON.stringify(path.join(ROOT, 'dist/core/monitor/index.js'))});
      const { openEnvironment } = await import(${JSON.stringify(path.join(ROOT, 'dist/core/environment.js'))});
      const { RollbackEngine } = await import(${JSON.stringify(path.join(ROOT, 'dist/core/engine/engine.js'))});
      const env = JSON.parse(readFileSync(${JSON.stringify(envFile)}, 'utf8'));
      const h = openEnvironment(env); await h.state.ensure();
      const m = new Monitor(h, { engine: new RollbackEngine(h, { version: 'bench' }) });
      let samples = 0; m.on((e) => { if (e.type === 'sample') samples++; });
      const warm = setTimeout(() => { globalThis.cpu0 = process.cpuUsage(); globalThis.t0 = performance.now(); }, 10_000);
      setTimeout(() => m.stop(), ${seconds * 1000 + 10_000});
      await m.start(); clearTimeout(warm);
      const cpu = process.cpuUsage(globalThis.cpu0); const wall = performance.now() - globalThis.t0;
      process.stdout.write(JSON.stringify({ samples, cpu_percent: ((cpu.user + cpu.system) / 1000 / wall) * 100, rss_mb: process.memoryUsage().rss / 1048576 }));
      `,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  await new Promise((r) => child.on('exit', r));
  rmSync(envFile, { force: true });
  f.cleanup();
  return { seconds, ...JSON.parse(out) };
}

/** RSS after 1,000 and `total` samples on a simulated clock: bench/monitor-samples.mjs in a fresh process. */
function simulated(total) {
  const script = path.join(ROOT, 'bench', 'monitor-samples.mjs');
  return JSON.parse(execFileSync(process.execPath, ['--expose-gc', script, String(total)], { encoding: 'utf8', timeout: 600_000 }));
}

const report = {};
if (!args.includes('--skip-detection')) {
  report.detection_fast = await detection(0.2, 0.04);
  report.detection_slower = await detection(0.5, 0.1);
}
report.simulated = await simulated(100_000);
if (!args.includes('--skip-idle')) report.idle = await idle(idleSeconds);
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
