#!/usr/bin/env node
/**
 * A small real HTTP service that can get sick: the demo's application and the tests' fixture.
 *
 * Its behaviour comes from `<release dir>/release.json` (so a bad release is bad by content, as in real
 * life) and can be changed while it runs through GET /control?mode=... (fault injection in tests).
 *
 *   node demo/service.mjs --port 18080 [--host 127.0.0.1] --release-dir /path/current [--pid-file F] [--log-file F] [--daemon]
 *   node demo/service.mjs --stop --pid-file F [--timeout-ms 5000]
 *
 * release.json: { "version": "v3", "mode": "healthy" | "errors" | "slow" | "leak" | "crash" | "down",
 *                 "error_ratio": 0.5, "latency_ms": 400, "start_delay_ms": 0, "crash_after_ms": 2000,
 *                 "crash_after_requests": 3 (healthy for that many requests, then exits: a crash
 *                 shortly after start that does not depend on how fast the machine is),
 *                 "memory_base_percent": 40, "leak_percent_per_second": 2,
 *                 "leak_after_first_metrics_seconds": 2 (optional: memory stays at its base until that
 *                 long after the first /metrics request, then grows: the leak begins once someone watches),
 *                 "db_errors_per_request": 0 }
 *
 * Endpoints: /health (200 ok, 500 when sick), /metrics (JSON), /metrics/prometheus (text exposition),
 * /control?mode=errors&error_ratio=0.8 (change behaviour live), /work (a normal request).
 */
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const key = a.slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[key] = true;
    else {
      out[key] = next;
      i++;
    }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));

function fail(msg) {
  process.stderr.write(`service: ${msg}\n`);
  process.exit(2);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return e.code === 'EPERM';
  }
  // An exited process waiting to be reaped (a zombie) still answers kill(0); in a container whose
  // PID 1 reaps slowly that would make every stop wait. On Linux, /proc says it is dead already.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

async function stop() {
  const pidFile = args['pid-file'] || fail('--stop needs --pid-file');
  let pid;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    process.stdout.write('service: not running (no pid file)\n');
    return;
  }
  if (!pid || !isAlive(pid)) {
    fs.rmSync(pidFile, { force: true });
    process.stdout.write('service: not running\n');
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + Number(args['timeout-ms'] || 5000);
  // Poll until the process is gone; escalate to SIGKILL at the deadline.
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  fs.rmSync(pidFile, { force: true });
  process.stdout.write(`service: stopped pid ${pid}\n`);
}

function daemonize() {
  const self = fileURLToPath(import.meta.url);
  const rest = process.argv.slice(2).filter((a) => a !== '--daemon');
  const logFile = args['log-file'];
  const out = logFile ? fs.openSync(logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, [self, ...rest], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  child.unref();
  if (args['pid-file']) fs.writeFileSync(args['pid-file'], `${child.pid}\n`);
  process.stdout.write(`service: started pid ${child.pid}\n`);
}

function readRelease(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'release.json'), 'utf8'));
  } catch {
    return {};
  }
}

function serve() {
  const port = Number(args.port || 0);
  // --host: the loopback address of one fixture "host" of a fleet (127.0.0.11, ...); default 127.0.0.1.
  const listenHost = typeof args.host === 'string' ? args.host : '127.0.0.1';
  // Resolve the release directory once at start, as a real process would (its code is loaded then).
  const releaseDir = fs.realpathSync(args['release-dir'] || process.cwd());
  const release = readRelease(releaseDir);
  const state = {
    version: release.version || path.basename(releaseDir),
    mode: release.mode || 'healthy',
    errorRatio: release.error_ratio ?? 0.5,
    latencyMs: release.latency_ms ?? 300,
    baseLatencyMs: release.base_latency_ms ?? 2,
    memoryBase: release.memory_base_percent ?? 40,
    leakPerSecond: release.leak_percent_per_second ?? 2,
    dbErrorsPerRequest: release.db_errors_per_request ?? 0,
    startedAt: Date.now(),
    leakStartedAt: Date.now(),
    requests: 0,
    errors: 0,
    dbErrors: 0,
    errorTimes: [],
    durations: [],
  };
  const startDelay = Number(release.start_delay_ms || 0);
  let ready = startDelay === 0;
  if (!ready) setTimeout(() => (ready = true), startDelay);
  if (state.mode === 'crash') {
    setTimeout(() => {
      process.stdout.write(`FATAL ${state.version}: crashed after start\n`);
      process.exit(3);
    }, Number(release.crash_after_ms ?? 1000));
  }
  if (args['pid-file'] && !args['no-pid-write']) fs.writeFileSync(args['pid-file'], `${process.pid}\n`);

  // A leak that waits for its first observer: a console that comes up late (a loaded machine) still
  // sees the release healthy first, then the climb, whatever its start-up took.
  const leakAfterFirstMetricsMs = release.leak_after_first_metrics_seconds === undefined ? null : Math.max(0, Number(release.leak_after_first_metrics_seconds)) * 1000;
  let watched = false;

  function memoryPercent() {
    if (!watched && leakAfterFirstMetricsMs !== null) state.leakStartedAt = Date.now() + leakAfterFirstMetricsMs;
    watched = true;
    if (state.mode !== 'leak') return state.memoryBase;
    const grown = state.memoryBase + (Math.max(0, Date.now() - state.leakStartedAt) / 1000) * state.leakPerSecond;
    return Math.min(99.5, grown);
  }

  function errorRatePerMinute() {
    const cutoff = Date.now() - 60_000;
    while (state.errorTimes.length && state.errorTimes[0] < cutoff) state.errorTimes.shift();
    const windowSec = Math.min(60, Math.max(1, (Date.now() - state.startedAt) / 1000));
    return (state.errorTimes.length / windowSec) * 60;
  }

  function sick() {
    return state.mode === 'errors' && Math.random() < state.errorRatio;
  }

  function delay() {
    const ms = state.mode === 'slow' ? state.latencyMs : state.baseLatencyMs;
    return new Promise((r) => setTimeout(r, ms));
  }

  const crashAfterRequests = Number(release.crash_after_requests || 0);

  function record(status, started) {
    state.requests++;
    if (crashAfterRequests && state.requests >= crashAfterRequests) {
      setImmediate(() => {
        process.stdout.write(`FATAL ${state.version}: crashed after ${state.requests} requests\n`);
        process.exit(3);
      });
    }
    state.durations.push(Date.now() - started);
    if (state.durations.length > 1000) state.durations.shift();
    if (status >= 500) {
      state.errors++;
      state.errorTimes.push(Date.now());
      process.stdout.write(`ERROR ${state.version}: request failed with ${status}\n`);
    }
    state.dbErrors += state.dbErrorsPerRequest;
  }

  function json(res, status, body) {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url || '/', 'http://localhost');
    const started = Date.now();
    if (state.mode === 'down') {
      req.socket.destroy();
      return;
    }
    if (url.pathname === '/control') {
      const q = url.searchParams;
      if (q.has('mode')) {
        state.mode = q.get('mode');
        if (state.mode === 'leak') state.leakStartedAt = Date.now();
        if (state.mode === 'crash') setTimeout(() => process.exit(3), Number(q.get('after_ms') || 0));
      }
      if (q.has('error_ratio')) state.errorRatio = Number(q.get('error_ratio'));
      if (q.has('latency_ms')) state.latencyMs = Number(q.get('latency_ms'));
      if (q.has('leak_percent_per_second')) state.leakPerSecond = Number(q.get('leak_percent_per_second'));
      if (q.has('memory_base_percent')) state.memoryBase = Number(q.get('memory_base_percent'));
      if (q.has('db_errors_per_request')) state.dbErrorsPerRequest = Number(q.get('db_errors_per_request'));
      process.stdout.write(`control ${state.version}: ${url.search}\n`);
      return json(res, 200, { ok: true, version: state.version, mode: state.mode });
    }
    if (url.pathname === '/metrics') {
      return json(res, 200, {
        version: state.version,
        mode: state.mode,
        memory_usage_percent: memoryPercent(),
        error_rate: errorRatePerMinute(),
        requests_total: state.requests,
        errors_total: state.errors,
        db_connection_errors: state.dbErrors,
        uptime_seconds: (Date.now() - state.startedAt) / 1000,
        rss_bytes: process.memoryUsage().rss,
      });
    }
    if (url.pathname === '/metrics/prometheus') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(
        [
          '# TYPE app_requests_total counter',
          `app_requests_total{status="ok"} ${state.requests - state.errors}`,
          `app_requests_total{status="error"} ${state.errors}`,
          '# TYPE app_memory_usage_percent gauge',
          `app_memory_usage_percent ${memoryPercent()}`,
          '# TYPE app_db_connection_errors_total counter',
          `app_db_connection_errors_total ${state.dbErrors}`,
          '# TYPE app_request_latency_ms gauge',
          `app_request_latency_ms{quantile="0.95"} ${state.mode === 'slow' ? state.latencyMs : state.baseLatencyMs}`,
          `app_info{version="${state.version}"} 1`,
          '',
        ].join('\n'),
      );
      return;
    }
    if (!ready) return json(res, 503, { status: 'starting', version: state.version });
    await delay();
    const status = sick() ? 500 : 200;
    record(status, started);
    if (url.pathname === '/health' || url.pathname === '/work' || url.pathname === '/') {
      return json(res, status, { status: status === 200 ? 'ok' : 'error', version: state.version });
    }
    return json(res, 404, { error: 'not found' });
  });

  server.listen(port, listenHost, () => {
    const addr = server.address();
    process.stdout.write(`service ${state.version} (${state.mode}) listening on ${listenHost}:${addr.port}\n`);
    if (args['port-file']) fs.writeFileSync(args['port-file'], `${addr.port}\n`);
  });
  // Close keep-alive connections too, or close() waits for clients to hang up (seconds per restart).
  const shutdown = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

if (args.stop) await stop();
else if (args.daemon) daemonize();
else serve();
