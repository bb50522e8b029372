#!/usr/bin/env node
/**
 * `npm run bench`: what operators feel, measured against the built CLI (run `npm run build` first; the npm
 * script does). Each figure is the median of N runs with min and max.
 *
 *   node bench/run.mjs [--quick] [--iterations N] [--out DIR|FILE.json] [--only a,b] [--soak]
 *
 *   --quick          one iteration each and short observation windows (CI: keeps the harness from rotting)
 *   --iterations N   runs per figure (default 7)
 *   --out            where the JSON goes: a directory (gets latest.json) or a .json file
 *                    (default bench/results/latest.json)
 *   --only           a subset of: recovery, startup, rollback, detection, console, console_idle, monitor,
 *                    scale, demo, fleet
 *   --soak           also the 10-minute RSS soak of the demo console (bench/soak.mjs; never by default)
 *
 * The issue table (printed first): time to recovery and the whole standard rollback against the same
 * operations by hand and the original script's flow with its sleeps (bench/recovery.mjs), locally and over
 * a warm loopback SSH connection; `--version` against `node -e 0`; console first frame; the idle console's
 * CPU (children included) and RSS; `stats` and `list` at scale; the demo to its automatic rollback
 * (bench/table.mjs).
 *
 * Sections:
 *   rollback   console overhead of a rollback: standard and emergency rollbacks of an instant-start service
 *              (its start/stop/health are file operations), locally and through a loopback sshd, against
 *              the same operations done by hand in one shell (`ln -s` + `mv -T`, the service commands);
 *              the ratio is the overhead.
 *   detection  fault injected (memory jumps above the threshold) -> automatic rollback started, against
 *              the theoretical minimum (trigger window + one check interval).
 *   console    launch to the first full frame of the console in a tmux pseudo-terminal (120x40).
 *   monitor    CPU percent of an idle `monitor` process; RSS after 100,000 simulated samples vs 1,000
 *              (20,000 in quick mode).
 *   scale      `list` with 1,000 backups locally and over SSH; `stats` over 100,000 history lines.
 *   fleet      fixture hosts (a loopback sshd each, bench/fleet.mjs): rollback of 1 and of 10 hosts against
 *              the same operations by hand on every host side by side; the pre-check of 10 and 50 hosts;
 *              a rollback of 50 hosts.
 *
 * Timings are never asserted (the test only checks the JSON has every section).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  ROOT,
  SERVICE,
  BIN,
  Tmux,
  cli,
  cpuSeconds,
  expectCode,
  freePort,
  machine,
  makeStore,
  mvNoFollowFlag,
  pointCurrent,
  q,
  rssMiB,
  run,
  startSshd,
  summary,
  tmpDir,
  tmuxAvailable,
  waitFor,
  writeConfig,
} from './lib.mjs';
import { benchFleet } from './fleet.mjs';
import { benchRecovery } from './recovery.mjs';
import { benchConsoleIdle, benchDemo, benchStartup, issueTable } from './table.mjs';
import { soak } from './soak.mjs';

// ------------------------------------------------------------------------------------------------
// arguments

function parseArgs(argv) {
  const o = { quick: false, iterations: 7, out: path.join(ROOT, 'bench', 'results', 'latest.json'), only: null, soak: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--iterations') o.iterations = Number(value());
    else if (a === '--out') o.out = value();
    else if (a === '--only') o.only = value().split(',');
    else if (a === '--soak') o.soak = true;
    else if (a === '-h' || a === '--help') usage(null);
    else usage(`unknown option ${a}`);
  }
  if (o.quick) o.iterations = 1;
  if (!Number.isInteger(o.iterations) || o.iterations < 1) usage('--iterations must be a positive integer');
  if (!o.out.endsWith('.json')) o.out = path.join(o.out, 'latest.json');
  return o;
}

function usage(problem) {
  const text = `usage: node bench/run.mjs [--quick] [--iterations N] [--out DIR|FILE.json] [--only ${SECTION_NAMES.join(',')}] [--soak]\n`;
  if (problem) {
    process.stderr.write(`bench: ${problem}\n${text}`);
    process.exit(64);
  }
  process.stdout.write(text);
  process.exit(0);
}

const SECTION_NAMES = ['recovery', 'startup', 'rollback', 'detection', 'console', 'console_idle', 'monitor', 'scale', 'demo', 'fleet'];
const opts = parseArgs(process.argv.slice(2));
const N = opts.iterations;
const log = (s) => process.stderr.write(`${s}\n`);
const cleanups = [];

async function times(n, fn, reset) {
  const values = [];
  for (let i = 0; i < n; i++) {
    if (reset) await reset(i);
    values.push(await fn(i));
  }
  return values;
}

// ------------------------------------------------------------------------------------------------
// 1. rollback overhead

/** An instant-start "service": start/stop/health are file operations, so the figures are the tool's. */
function instantEnv(dir, store, executor, name) {
  const up = path.join(dir, 'run', 'up');
  return {
    [name]: {
      executor,
      target: { strategy: 'symlink', backups_dir: store.releasesDir, current: store.current },
      service: { start: `touch ${q(up)}`, stop: `rm -f ${q(up)}`, timeout_seconds: 10 },
      health: [{ command: { run: `test -f ${q(up)}`, via: 'target', timeout_seconds: 5 } }],
      state_dir: path.join(dir, `state-${name}`),
    },
  };
}

const FAST_POLICY = {
  enabled: false,
  rollback: { stability_seconds: 0, poll_interval_seconds: 0.02, health_check_timeout_seconds: 10 },
};

async function benchRollback(sshd) {
  const dir = tmpDir('rollback');
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'run'));
  const store = makeStore(dir, 3);
  const envs = { ...instantEnv(dir, store, { type: 'local' }, 'local') };
  if (sshd) Object.assign(envs, instantEnv(dir, store, sshd.executor, 'ssh'));
  const config = writeConfig(dir, envs, FAST_POLICY);
  const newest = path.join(store.releasesDir, store.names[2]);
  const target = path.join(store.releasesDir, store.names[1]);
  const up = path.join(dir, 'run', 'up');
  const mv = mvNoFollowFlag();
  const reset = (env) => () => {
    pointCurrent(store.current, newest);
    fs.rmSync(path.join(dir, `state-${env}`, 'marks.json'), { force: true });
    fs.writeFileSync(up, '');
  };
  // What an operator would type, in one shell: the same operations, no checks, no records.
  const byHand = (kind) =>
    [
      'set -e',
      ...(kind === 'standard' ? [`rm -f ${q(up)}`] : []),
      `ln -s ${q(target)} ${q(`${store.current}.new`)}`,
      `mv ${mv} ${q(`${store.current}.new`)} ${q(store.current)}`,
      `touch ${q(up)}`,
      ...(kind === 'standard' ? [`test -f ${q(up)}`] : []),
    ].join('\n') + '\n';

  const cases = [];
  const where = sshd ? ['local', 'ssh'] : ['local'];
  for (const env of where) {
    for (const kind of ['standard', 'emergency']) {
      const args = ['rollback', '--config', config, '--env', env, '--reason', 'bench', '--yes', '--json', ...(kind === 'emergency' ? ['--emergency'] : [])];
      if (!opts.quick) {
        reset(env)();
        expectCode(await cli(args), `warm-up ${kind} rollback (${env})`);
      }
      const tool = await times(
        N,
        async () => {
          const r = expectCode(await cli(args), `${kind} rollback (${env})`);
          const doc = JSON.parse(r.stdout);
          if (!doc.ok || doc.kind !== kind) throw new Error(`unexpected rollback result: ${r.stdout}`);
          if (path.basename(fs.realpathSync(store.current)) !== store.names[1]) throw new Error('current did not move');
          return r.ms;
        },
        reset(env),
      );
      const bare = await times(
        N,
        async () => {
          const r = env === 'ssh' ? await run('ssh', sshd.sshArgs, { input: byHand(kind) }) : await run('sh', ['-s'], { input: byHand(kind) });
          expectCode(r, `${kind} by hand (${env})`);
          return r.ms;
        },
        reset(env),
      );
      const t = summary(tool);
      const b = summary(bare);
      cases.push({ name: `${kind} ${env}`, kind, where: env, tool: t, by_hand: b, ratio: Math.round((t.median / b.median) * 10) / 10 });
      log(`  rollback ${kind} ${env}: ${t.median} ms (by hand ${b.median} ms)`);
    }
  }
  return {
    service: 'instant-start (start/stop/health are file operations)',
    by_hand: `one shell: ${mv === '-T' ? 'ln -s + mv -T' : 'ln -s + mv -h (BSD mv)'}, service commands, one health test${sshd ? '; over SSH one fresh ssh connection' : ''}`,
    cases,
    notes: sshd ? [] : [`${'/usr/sbin/sshd'} is not installed: the SSH cases were skipped (apt-get install openssh-server)`],
  };
}

// ------------------------------------------------------------------------------------------------
// 2. detection latency, 4. monitor cost: a real demo service watched by the real `monitor`

const MEMORY_SCRIPT = `const r = await fetch('http://127.0.0.1:' + process.argv[2] + '/metrics', { signal: AbortSignal.timeout(2000) });
process.stdout.write(String((await r.json()).memory_usage_percent) + '\\n');
`;

async function serviceFixture(name, { memory = true } = {}) {
  const dir = tmpDir(name);
  const port = await freePort();
  const store = makeStore(dir, 2, () => ({ mode: 'healthy', memory_base_percent: 40 }));
  fs.mkdirSync(path.join(dir, 'run'));
  fs.writeFileSync(path.join(dir, 'mem.mjs'), MEMORY_SCRIPT);
  const pid = path.join(dir, 'run', 'service.pid');
  const node = q(process.execPath);
  const service = {
    start: `${node} ${q(SERVICE)} --port ${port} --release-dir ${q(store.current)} --pid-file ${q(pid)} --log-file ${q(path.join(dir, 'service.log'))} --daemon`,
    stop: `${node} ${q(SERVICE)} --stop --pid-file ${q(pid)}`,
    timeout_seconds: 20,
  };
  const env = {
    target: { strategy: 'symlink', backups_dir: store.releasesDir, current: store.current },
    service,
    health: [{ http: { url: `http://127.0.0.1:${port}/health`, timeout_seconds: 2 } }],
    metrics: { source: 'probe', ...(memory ? { memory: `${node} ${q(path.join(dir, 'mem.mjs'))} ${port}` } : {}) },
    state_dir: path.join(dir, 'state'),
  };
  const startService = async () => {
    expectCode(await run('sh', ['-c', service.start]), 'service start');
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status, () => 0)) === 200, 'the service');
  };
  const stopService = async () => run('sh', ['-c', service.stop]);
  cleanups.push(async () => {
    await stopService();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { dir, port, store, env, startService, stopService };
}

/** Start `monitor --json` and collect its events; resolves helpers to wait for events. */
function startMonitor(config, env) {
  const child = runDetached(process.execPath, [BIN, 'monitor', '--config', config, '--env', env, '--json']);
  const events = [];
  let buf = '';
  child.stdout.on('data', (b) => {
    buf += b;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        events.push({ at: performance.now(), ev: JSON.parse(line) });
      } catch {
        // not an event line
      }
    }
  });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  let exited = null;
  child.on('exit', (code) => (exited = code));
  return {
    child,
    events,
    async waitEvent(pred, what, timeoutMs = 30_000) {
      return waitFor(() => {
        if (exited !== null) throw new Error(`monitor exited ${exited} while waiting for ${what}:\n${stderr.slice(-2000)}`);
        return events.find((e) => pred(e.ev));
      }, what, timeoutMs);
    },
    async stop() {
      if (exited !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    },
  };
}

function runDetached(file, args) {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
  return child;
}

async function benchDetection() {
  const fx = await serviceFixture('detect');
  const interval = 0.25;
  const windowS = 1;
  const policy = {
    enabled: true,
    monitoring: { check_interval_seconds: interval, baseline_window_minutes: 1 / 60, consecutive_error_limit: 20 },
    triggers: {
      error_rate: { enabled: false },
      latency: { enabled: false },
      health_check: { enabled: false },
      memory: { enabled: true, threshold_percent: 90, window_minutes: windowS / 60 },
    },
    rollback: { grace_seconds: 0, stability_seconds: 0, health_check_timeout_seconds: 15, poll_interval_seconds: 0.05 },
  };
  const config = writeConfig(fx.dir, { detect: fx.env }, policy);
  const newest = path.join(fx.store.releasesDir, fx.store.names[1]);
  const latencies = [];
  for (let i = 0; i < N; i++) {
    // Fresh state each run: the baseline is established, then the fault goes in.
    await fx.stopService();
    pointCurrent(fx.store.current, newest);
    fs.rmSync(fx.env.state_dir, { recursive: true, force: true });
    await fx.startService();
    const mon = startMonitor(config, 'detect');
    try {
      await mon.waitEvent((e) => e.type === 'baseline', 'the baseline');
      // One more sample after the baseline so the monitor is watching.
      const seen = mon.events.length;
      await waitFor(() => mon.events.slice(seen).some((e) => e.ev.type === 'sample'), 'a sample after the baseline');
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${fx.port}/control?memory_base_percent=95`);
      if (!res.ok) throw new Error(`fault injection failed: HTTP ${res.status}`);
      const started = await mon.waitEvent((e) => e.type === 'rollback' && e.phase === 'started', 'the automatic rollback');
      latencies.push(started.at - t0);
      await mon.waitEvent((e) => e.type === 'rollback' && e.phase === 'finished', 'the rollback to finish');
    } finally {
      await mon.stop();
    }
  }
  const measured = summary(latencies);
  const theoretical = (windowS + interval) * 1000;
  log(`  detection: ${measured.median} ms (theoretical ${theoretical} ms)`);
  return {
    trigger: 'memory (threshold 90%, sustained over the window)',
    fault: 'memory jumps from 40% to 95% (GET /control?memory_base_percent=95)',
    check_interval_seconds: interval,
    window_seconds: windowS,
    theoretical_min_ms: theoretical,
    measured,
    excess_ms: Math.round((measured.median - theoretical) * 10) / 10,
  };
}

async function benchMonitor() {
  const fx = await serviceFixture('idle', { memory: false });
  await fx.startService();
  const policy = { enabled: true, monitoring: { check_interval_seconds: 1, baseline_window_minutes: 0.05 } };
  const config = writeConfig(fx.dir, { idle: fx.env }, policy);
  const observeS = opts.quick ? 3 : 20;
  const samples = [];
  const rss = [];
  for (let i = 0; i < (opts.quick ? 1 : 3); i++) {
    const mon = startMonitor(config, 'idle');
    try {
      await mon.waitEvent((e) => e.type === 'sample', 'the first sample');
      const c0 = await cpuSeconds(mon.child.pid);
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, observeS * 1000));
      const c1 = await cpuSeconds(mon.child.pid);
      samples.push(((c1 - c0) / ((performance.now() - t0) / 1000)) * 100);
      rss.push(await rssMiB(mon.child.pid));
    } finally {
      await mon.stop();
    }
  }
  const simulated = await simulatedSamples();
  const idle = summary(samples, '% of one core');
  log(`  monitor idle: ${idle.median}% CPU, RSS ${summary(rss, 'MiB').median} MiB; simulated ${JSON.stringify(simulated)}`);
  return {
    idle_cpu_percent: idle,
    idle_rss_mib: summary(rss, 'MiB'),
    idle_observed_seconds: observeS,
    check_interval_seconds: 1,
    ...simulated,
  };
}

/** RSS after 1,000 and after N samples fed through the monitor's own code on a simulated clock. */
async function simulatedSamples() {
  const total = opts.quick ? 20_000 : 100_000;
  const script = path.join(ROOT, 'bench', 'monitor-samples.mjs');
  const r = expectCode(await run(process.execPath, ['--expose-gc', script, String(total)], { timeoutMs: 600_000 }), `monitor-samples ${total}`);
  const doc = JSON.parse(r.stdout.trim().split('\n').at(-1));
  return {
    simulated_samples: total,
    rss_after_1000_samples_mib: doc.rss_mib['1000'],
    rss_after_all_samples_mib: doc.rss_mib[String(total)],
    ring_capacity: doc.ring_capacity,
    simulated_days: doc.simulated_days,
    simulated_via: doc.via,
  };
}

// ------------------------------------------------------------------------------------------------
// 3. console start

async function benchConsole() {
  if (!tmuxAvailable()) return { skipped: 'tmux is not installed' };
  const dir = tmpDir('console');
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'run'));
  const store = makeStore(dir, 5);
  const config = writeConfig(dir, instantEnv(dir, store, { type: 'local' }, 'console'), FAST_POLICY);
  const full = (s) => /console/.test(s) && /quit/i.test(s) && /backups/i.test(s) && s.includes(store.names[4]);
  const values = await times(N, async () => {
    const tmux = new Tmux();
    try {
      const t0 = performance.now();
      await tmux.start(`${q(process.execPath)} ${q(BIN)} --config ${q(config)} --env console`, { env: { TERM: 'xterm-256color' } });
      await waitFor(async () => full(await tmux.screen()), 'the first full frame', 30_000);
      const ms = performance.now() - t0;
      await tmux.keys('q');
      return ms;
    } finally {
      await tmux.kill();
    }
  });
  const s = summary(values);
  log(`  console first frame: ${s.median} ms`);
  return { terminal: '120x40 (tmux)', first_full_frame: s, full_frame_means: 'header with the environment, the backups panel with the live release, and the footer keys' };
}

// ------------------------------------------------------------------------------------------------
// 5. scale

function historyLines(count, env) {
  const kinds = ['standard', 'emergency', 'targeted'];
  const triggers = ['manual', 'error_rate', 'latency', 'memory', 'health_check'];
  const t0 = Date.now() - count * 60_000;
  const lines = [];
  for (let i = 0; i < count; i++) {
    const ok = i % 17 !== 0;
    lines.push(
      JSON.stringify({
        id: `h${i}`,
        timestamp: new Date(t0 + i * 60_000).toISOString(),
        env,
        kind: kinds[i % 3],
        trigger: triggers[i % 5],
        from: `backup_${i + 1}`,
        to: `backup_${i}`,
        reason: 'bench',
        initiated_by: 'bench@host',
        success: ok,
        verification: ok ? 'passed' : 'failed',
        duration_ms: 1000 + (i % 500),
        steps: [{ name: 'switch', status: 'ok', ms: 3 }],
        error: ok ? null : 'verification failed',
      }),
    );
  }
  return lines.join('\n') + '\n';
}

async function benchScale(sshd) {
  const dir = tmpDir('scale');
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = makeStore(dir, 1000);
  const target = { strategy: 'symlink', backups_dir: store.releasesDir, current: store.current };
  const envs = {
    list_local: { target, state_dir: path.join(dir, 'state-local') },
    stats: { target, state_dir: path.join(dir, 'state-stats') },
  };
  if (sshd) envs.list_ssh = { executor: sshd.executor, target, state_dir: path.join(dir, 'state-ssh') };
  fs.mkdirSync(envs.stats.state_dir);
  fs.writeFileSync(path.join(envs.stats.state_dir, 'history.jsonl'), historyLines(100_000, 'stats'));
  const config = writeConfig(dir, envs, { enabled: false });
  const out = {};
  for (const env of sshd ? ['list_local', 'list_ssh'] : ['list_local']) {
    const values = await times(N, async () => {
      const r = expectCode(await cli(['list', '--config', config, '--env', env, '--json']), `list (${env})`);
      const n = JSON.parse(r.stdout).length;
      if (n !== 1000) throw new Error(`list returned ${n} backups, expected 1000`);
      return r.ms;
    });
    out[`${env}_1000_backups`] = summary(values);
    log(`  ${env}: ${out[`${env}_1000_backups`].median} ms`);
  }
  const stats = await times(N, async () => {
    const r = expectCode(await cli(['stats', '--config', config, '--env', 'stats', '--json']), 'stats');
    const doc = JSON.parse(r.stdout);
    if (doc.total !== 100_000) throw new Error(`stats counted ${doc.total}, expected 100000`);
    return r.ms;
  });
  out.stats_100000_lines = summary(stats);
  log(`  stats: ${out.stats_100000_lines.median} ms`);
  if (!sshd) out.notes = ['/usr/sbin/sshd is not installed: list over SSH was skipped'];
  return out;
}

// ------------------------------------------------------------------------------------------------
// main

function table(results) {
  const rows = [];
  const fmt = (s) => (s && s.median !== null ? [String(s.median), String(s.min), String(s.max)] : ['-', '-', '-']);
  const add = (what, s, note = '') => rows.push([what, ...fmt(s), s?.unit ?? '', note]);
  const r = results.sections;
  if (r.rollback?.cases) {
    for (const c of r.rollback.cases) {
      add(`rollback ${c.name}: tool`, c.tool, `x${c.ratio} of by hand`);
      add(`rollback ${c.name}: by hand`, c.by_hand);
    }
  }
  if (r.detection?.measured) add('detection: fault -> rollback started', r.detection.measured, `min possible ${r.detection.theoretical_min_ms} ms`);
  if (r.console?.first_full_frame) add('console: launch -> first full frame', r.console.first_full_frame);
  if (r.monitor?.idle_cpu_percent) {
    add('monitor: idle CPU', r.monitor.idle_cpu_percent, `interval ${r.monitor.check_interval_seconds} s`);
    add('monitor: idle RSS', r.monitor.idle_rss_mib);
    rows.push([`monitor: RSS after 1,000 / ${r.monitor.simulated_samples.toLocaleString('en')} samples`, `${r.monitor.rss_after_1000_samples_mib} / ${r.monitor.rss_after_all_samples_mib}`, '', '', 'MiB', `${r.monitor.simulated_days} simulated days`]);
  }
  if (r.scale) {
    add('list 1,000 backups (local)', r.scale.list_local_1000_backups);
    if (r.scale.list_ssh_1000_backups) add('list 1,000 backups (ssh)', r.scale.list_ssh_1000_backups);
    add('stats over 100,000 history lines', r.scale.stats_100000_lines);
  }
  if (r.fleet?.rollback_10_hosts) {
    const f = r.fleet;
    add('fleet: rollback, one-host environment', f.rollback_1_host, `CPU ${f.rollback_1_host.cpu_ms.median} ms`);
    add('fleet: rollback, 1 host (--hosts)', f.rollback_1_host_fleet, `CPU ${f.rollback_1_host_fleet.cpu_ms.median} ms`);
    add('fleet: rollback, 10 hosts in parallel', f.rollback_10_hosts, `x${f.ratio_10_over_1} of 1 host; CPU ${f.rollback_10_hosts.cpu_ms.median} ms`);
    add('fleet: by hand, 1 host', f.by_hand_1_host);
    add('fleet: by hand, 10 hosts side by side', f.by_hand_10_hosts, `x${f.by_hand_ratio_10_over_1} of 1 host`);
    add('fleet: pre-check, 10 hosts', f.precheck_10_hosts);
    if (f.warm) {
      add('fleet, warm connections: rollback, 1 host', f.warm.rollback_1_host, `CPU ${f.warm.rollback_1_host.cpu_ms.median} ms`);
      add('fleet, warm connections: rollback, 10 hosts', f.warm.rollback_10_hosts, `x${f.warm.ratio_10_over_1} of 1 host; CPU ${f.warm.rollback_10_hosts.cpu_ms.median} ms`);
      add('fleet, warm connections: by hand, 1 / 10 hosts', f.warm.by_hand_10_hosts, `1 host ${f.warm.by_hand_1_host.median} ms; x${f.warm.by_hand_ratio_10_over_1}`);
      add('fleet, warm connections: pre-check, 10 hosts', f.warm.precheck_10_hosts);
    }
    if (f.precheck_50_hosts) {
      add('fleet: pre-check, 50 hosts', f.precheck_50_hosts, 'instant-start service');
      add('fleet: rollback, 50 hosts', f.rollback_50_hosts, 'instant-start service');
    }
  }
  for (const [name, s] of Object.entries(r)) if (s?.skipped) rows.push([`${name}: skipped`, '', '', '', '', s.skipped]);
  for (const [name, s] of Object.entries(r)) if (s?.error) rows.push([`${name}: FAILED`, '', '', '', '', s.error.split('\n')[0]]);
  const head = ['figure', 'median', 'min', 'max', 'unit', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main() {
  const results = { machine: machine(), mode: opts.quick ? 'quick' : 'full', iterations: N, sections: {} };
  const want = (s) => !opts.only || opts.only.includes(s);
  let sshd = null;
  let failed = false;
  try {
    if (want('rollback') || want('scale') || want('recovery')) {
      sshd = await startSshd();
      if (!sshd) log('bench: /usr/sbin/sshd is missing: SSH figures are skipped');
    }
    const sections = [
      ['recovery', () => benchRecovery({ sshd, n: N, cleanups, log })],
      ['startup', () => benchStartup({ n: N })],
      ['rollback', () => benchRollback(sshd)],
      ['detection', benchDetection],
      ['console', benchConsole],
      ['monitor', benchMonitor],
      ['scale', () => benchScale(sshd)],
      ['console_idle', () => benchConsoleIdle({ quick: opts.quick, cleanups })],
      ['demo', () => benchDemo({ n: N, quick: opts.quick, cleanups })],
      ['fleet', () => benchFleet({ n: N, quick: opts.quick, cleanups, log })],
      ...(opts.soak ? [['soak', () => soak({ minutes: 10, everyS: 10, log })]] : []),
    ];
    for (const [name, fn] of sections) {
      if (!want(name) && !(name === 'soak' && opts.soak)) continue;
      log(`bench: ${name} ...`);
      const t0 = performance.now();
      try {
        results.sections[name] = await fn();
      } catch (err) {
        failed = true;
        results.sections[name] = { error: String(err?.stack ?? err) };
        log(`bench: ${name} failed: ${err?.stack ?? err}`);
      }
      results.sections[name].section_seconds = Math.round((performance.now() - t0) / 100) / 10;
    }
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        // best effort
      }
    }
    if (sshd) await sshd.stop();
  }
  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  fs.writeFileSync(opts.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\nthe speed table, side by side (medians):\n${issueTable(results)}\n\nall figures (median, min, max):\n${table(results)}\n\nmachine: ${results.machine.nproc} x ${results.machine.cpu}, node ${results.machine.node}, ${results.machine.platform}\nwritten: ${path.relative(process.cwd(), opts.out) || opts.out}\n`);
  return failed ? 1 : 0;
}

const stopOnSignal = () => {
  for (const c of cleanups.reverse()) {
    try {
      c();
    } catch {
      // best effort
    }
  }
  process.exit(130);
};
process.once('SIGINT', stopOnSignal);
process.once('SIGTERM', stopOnSignal);

process.exitCode = await main();
