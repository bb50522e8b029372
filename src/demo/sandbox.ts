/**
 * The built-in demo environment (`rollback-tui demo`, `npm start`): a throwaway directory holding a real
 * symlink release store, a real HTTP service (demo/service.mjs, shipped in the package), a generated
 * `rollback-config.yml` for the environment `demo`, and a state directory with some past rollbacks, so a
 * newcomer sees every panel of the console with content and watches an automatic rollback happen.
 *
 * The story, about 20 s from launch to the rollback on screen at speed 1: v1..v3 are healthy, v4 (the
 * newest, live) leaks memory. The console comes up and establishes v4's baseline (3 s) while memory
 * holds at 45%; then the leak begins (3 s after the monitor's first sample, so a console that comes up
 * late on a loaded machine still sees every stage) and memory crosses the policy's 90% threshold 5 s
 * later; the memory trigger needs it above the threshold for a whole window (3 s), then a 5 s grace
 * countdown ("press c to cancel") lets the operator cancel, then the monitor rolls back to v3 (verified
 * stable for 1 s). `redeploySick()` puts v4 back live to replay it.
 *
 * Everything is scaled by `speed` (1 = the seconds-scale demo above; tests use a fraction). Nothing here
 * needs the network beyond 127.0.0.1, root, or GNU tools: files are written with node, the service
 * commands are node scripts, and the config's maintenance commands are plain POSIX `touch`/`rm -f`.
 * No ink here: the console is opened by the `demo` command.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { loadConfig, resolveEnvironment } from '../core/config/load.js';
import { openEnvironment } from '../core/environment.js';
import { formatBackupName } from '../core/stores/names.js';
import { shQuote } from '../core/exec/quote.js';
import { freePort } from '../core/net.js';
import { DAY, seedHistory, seedMarks } from './seed.js';

export interface DemoSandboxOptions {
  /** Parent directory for the sandbox (default: the OS temp directory). */
  dir?: string;
  /** Leave the sandbox on disk after stop() (the service is still stopped). */
  keep?: boolean;
  /** Time scale: 1 = the demo's normal seconds-scale policy; smaller is faster (tests). */
  speed?: number;
}

export interface DemoSandbox {
  /** The sandbox directory (absolute, symlinks resolved). */
  dir: string;
  /** The generated rollback-config.yml. */
  configPath: string;
  env: 'demo';
  /** The demo service's port on 127.0.0.1. */
  port: number;
  /** Backup names, oldest first: v1, v2, v3 (healthy), v4 (the leaking one, live at start). */
  releases: DemoRelease[];
  /** The release that gets sick (v4). */
  sickRelease: string;
  /** The time scale the policy was written with. */
  speed: number;
  /** stop() leaves the directory in place. */
  keep: boolean;
  /** The shell command that stops the demo service (for a sandbox left running with --keep). */
  stopCommand: string;
  /** Make the sick release live again (the store's own atomic switch) and restart the service. */
  redeploySick(): Promise<void>;
  /** Stop the service and remove the sandbox (unless keep). Idempotent. */
  stop(): Promise<void>;
}

export interface DemoRelease {
  name: string;
  version: string;
  sick: boolean;
}

/** The demo's policy at speed 1 (seconds). Exported so the docs, the CLI and the tests agree on it. */
export const DEMO_TIMINGS = {
  checkIntervalSeconds: 1,
  baselineSeconds: 3,
  memoryThresholdPercent: 90,
  memoryWindowSeconds: 3,
  errorRateWindowSeconds: 15,
  latencyWindowSeconds: 20,
  /**
   * The latency threshold never goes below this: on a loaded machine the health probe's p95 reaches a
   * few hundred ms against a baseline of tens, which is load, not the release (the demo's story is memory).
   */
  latencyFloorMs: 1000,
  healthWindowSeconds: 15,
  /** The countdown with "press c to cancel": long enough to read and press c. */
  graceSeconds: 5,
  stabilitySeconds: 1,
  /** The sick release: memory holds here ... */
  leakBasePercent: 45,
  /** ... until this long after the monitor's first sample (the baseline is established meanwhile) ... */
  leakAfterFirstSampleSeconds: 3,
  /** ... then grows this much per second, so it crosses the threshold 5 s later. */
  leakPercentPerSecond: 9,
} as const;

/** Seconds from the monitor's first sample until the sick release's memory crosses the threshold, at `speed`. */
export function demoCrossingSeconds(speed: number, leakFactor = 1): number {
  const t = DEMO_TIMINGS;
  return (t.leakAfterFirstSampleSeconds + (t.memoryThresholdPercent - t.leakBasePercent) / (t.leakPercentPerSecond * leakFactor)) * speed;
}

/** The package root (where demo/service.mjs lives), from src/demo or dist/demo. */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

function sh(command: string, timeoutMs = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** GET a URL on the loopback, resolving to the status code (0 when nothing answers). */
async function httpStatus(url: string, timeoutMs = 1000): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Poll until `check` is true; throws with `what` after the deadline. */
export async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`demo: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

interface ReleaseSpec {
  version: string;
  ageMs: number;
  sick: boolean;
  notes: string;
}

const RELEASES: ReleaseSpec[] = [
  { version: 'v1', ageMs: 10 * DAY, sick: false, notes: 'first release of the demo service' },
  { version: 'v2', ageMs: 6 * DAY, sick: false, notes: 'faster /work handler' },
  { version: 'v3', ageMs: 2 * DAY, sick: false, notes: 'request ids in logs' },
  { version: 'v4', ageMs: 15 * 60_000, sick: true, notes: 'response cache (never evicts: leaks memory)' },
];

/** A demo release's release.json (the demo service reads its behaviour from it). */
function releaseJson(spec: ReleaseSpec, speed: number): Record<string, unknown> {
  return spec.sick
    ? {
        version: spec.version,
        mode: 'leak',
        memory_base_percent: DEMO_TIMINGS.leakBasePercent,
        leak_after_first_metrics_seconds: seconds(DEMO_TIMINGS.leakAfterFirstSampleSeconds, speed),
        leak_percent_per_second: DEMO_TIMINGS.leakPercentPerSecond / speed,
        base_latency_ms: 5,
      }
    : { version: spec.version, mode: 'healthy', memory_base_percent: 38 + RELEASES.indexOf(spec) * 2, base_latency_ms: 5 };
}

/** The demo's releases, oldest first: version, whether it is the sick one, when it was deployed, its release.json. */
export function demoReleases(now: number, speed: number): Array<{ version: string; sick: boolean; created: Date; release: Record<string, unknown> }> {
  return RELEASES.map((spec) => ({
    version: spec.version,
    sick: spec.sick,
    created: new Date(Math.floor((now - spec.ageMs) / 1000) * 1000),
    release: releaseJson(spec, speed),
  }));
}

function writeRelease(dir: string, spec: ReleaseSpec, speed: number, created: Date): void {
  fs.mkdirSync(dir, { recursive: true });
  const release = releaseJson(spec, speed);
  fs.writeFileSync(path.join(dir, 'release.json'), `${JSON.stringify(release, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'VERSION'), `${spec.version}\n`);
  fs.writeFileSync(
    path.join(dir, 'CHANGES.md'),
    RELEASES.slice(0, RELEASES.indexOf(spec) + 1)
      .map((r) => `- ${r.version}: ${r.notes}`)
      .reverse()
      .join('\n') + '\n',
  );
  for (const f of ['release.json', 'VERSION', 'CHANGES.md']) fs.utimesSync(path.join(dir, f), created, created);
  fs.utimesSync(dir, created, created);
}

/** metrics.memory: the demo service's own metrics URL, read in-process by the probe (no process a sample). */
export const memoryUrl = (address: string): string => `http://${address}/metrics`;

interface Layout {
  dir: string;
  releasesDir: string;
  current: string;
  stateDir: string;
  runDir: string;
  logsDir: string;
  pidFile: string;
  logFile: string;
  configPath: string;
}

function layoutOf(dir: string): Layout {
  return {
    dir,
    releasesDir: path.join(dir, 'releases'),
    current: path.join(dir, 'current'),
    stateDir: path.join(dir, 'state'),
    runDir: path.join(dir, 'run'),
    logsDir: path.join(dir, 'logs'),
    pidFile: path.join(dir, 'run', 'service.pid'),
    logFile: path.join(dir, 'logs', 'service.log'),
    configPath: path.join(dir, 'rollback-config.yml'),
  };
}

function seconds(s: number, speed: number): number {
  return Math.round(s * speed * 1000) / 1000;
}
function minutes(s: number, speed: number): number {
  return Math.round(((s * speed) / 60) * 1e6) / 1e6;
}

/** The demo policy scaled by `speed`; notifications go to `logsDir`/notifications.jsonl. */
export function demoPolicy(logsDir: string, speed: number): Record<string, unknown> {
  const t = DEMO_TIMINGS;
  return {
    enabled: true,
    monitoring: {
      check_interval_seconds: seconds(t.checkIntervalSeconds, speed),
      baseline_window_minutes: minutes(t.baselineSeconds, speed),
      consecutive_error_limit: 5,
    },
    triggers: {
      error_rate: { enabled: true, multiplier: 2, window_minutes: minutes(t.errorRateWindowSeconds, speed), min_errors_per_minute: 6 },
      latency: {
        enabled: true,
        metric: 'p95',
        multiplier: 5,
        window_minutes: minutes(t.latencyWindowSeconds, speed),
        min_latency_ms: t.latencyFloorMs,
      },
      memory: { enabled: true, threshold_percent: t.memoryThresholdPercent, window_minutes: minutes(t.memoryWindowSeconds, speed) },
      health_check: { enabled: true, failure_count: 3, window_minutes: minutes(t.healthWindowSeconds, speed) },
    },
    rollback: {
      max_rollback_attempts: 2,
      health_check_timeout_seconds: 20,
      stability_seconds: seconds(t.stabilitySeconds, speed),
      grace_seconds: seconds(t.graceSeconds, speed),
      poll_interval_seconds: 0.1,
    },
    notifications: {
      // An offline channel that shows what Slack would get: each event as one JSON line.
      command: `{ cat; echo; } >> ${shQuote(path.join(logsDir, 'notifications.jsonl'))}`,
      timeout_seconds: 3,
      retries: 0,
    },
  };
}

/** The generated config: the demo policy scaled by `speed`, one local environment `demo`. */
export function demoConfig(l: Layout, port: number, speed: number): Record<string, unknown> {
  return {
    rollback_policy: demoPolicy(l.logsDir, speed),
    environments: {
      demo: {
        description: 'The built-in demo: a local HTTP service whose newest release leaks memory.',
        confirm: 'yes-no',
        executor: { type: 'local' },
        target: { strategy: 'symlink', backups_dir: l.releasesDir, current: l.current },
        service: { ...serviceCommands(l, port), timeout_seconds: 20 },
        maintenance: {
          on: `touch ${shQuote(path.join(l.runDir, 'MAINTENANCE'))}`,
          off: `rm -f ${shQuote(path.join(l.runDir, 'MAINTENANCE'))}`,
        },
        health: [{ http: { url: `http://127.0.0.1:${port}/health`, timeout_seconds: 2 } }],
        metrics: {
          source: 'probe',
          memory: memoryUrl(`127.0.0.1:${port}`),
          timeout_seconds: 5,
        },
        logs: { file: l.logFile, lines: 30 },
        state_dir: l.stateDir,
      },
    },
  };
}

/**
 * Create the sandbox and start the service on the sick (newest) release. The caller must call stop().
 */
export async function createDemoSandbox(opts: DemoSandboxOptions = {}): Promise<DemoSandbox> {
  const speed = opts.speed ?? 1;
  if (!(speed > 0 && speed <= 10)) throw new RangeError(`demo: speed must be > 0 and <= 10 (got ${speed})`);
  const parent = opts.dir ?? os.tmpdir();
  fs.mkdirSync(parent, { recursive: true });
  // Resolve symlinks (macOS: /var -> /private/var) so every path the tool compares is canonical.
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(parent, 'rollback-tui-demo-')));
  const l = layoutOf(dir);
  let started = false;
  const cleanup = async (): Promise<void> => {
    if (started) await sh(serviceCommands(l, 0).stop);
    if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const d of [l.releasesDir, l.stateDir, l.runDir, l.logsDir]) fs.mkdirSync(d, { recursive: true });
    const now = Date.now();
    const releases: DemoRelease[] = [];
    for (const spec of RELEASES) {
      const created = new Date(Math.floor((now - spec.ageMs) / 1000) * 1000);
      const name = formatBackupName(created);
      writeRelease(path.join(l.releasesDir, name), spec, speed, created);
      releases.push({ name, version: spec.version, sick: spec.sick });
    }
    const sick = releases[releases.length - 1] as DemoRelease;
    fs.symlinkSync(path.join(l.releasesDir, sick.name), l.current);
    seedHistory(l.stateDir, now, releases.map((r) => r.name));
    seedMarks(l.stateDir, releases.map((r) => r.name));

    const port = await freePort();
    const config = demoConfig(l, port, speed);
    fs.writeFileSync(
      l.configPath,
      '# Generated by `rollback-tui demo`: a throwaway environment, removed when the demo quits.\n' +
        YAML.stringify(config, { lineWidth: 0 }),
    );
    started = true;
    await startService(l, port);

    let stopped = false;
    const sandbox: DemoSandbox = {
      dir,
      configPath: l.configPath,
      env: 'demo',
      port,
      releases,
      sickRelease: sick.name,
      speed,
      keep: Boolean(opts.keep),
      stopCommand: serviceCommands(l, port).stop,
      redeploySick: async () => {
        if (stopped) throw new Error('demo: the sandbox is stopped');
        await redeploy(l, port, sick.name);
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await cleanup();
      },
    };
    return sandbox;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The service commands written into the config (and run by the sandbox itself). */
function serviceCommands(l: Layout, port: number): { start: string; stop: string } {
  const node = shQuote(process.execPath);
  const service = shQuote(path.join(packageRoot(), 'demo', 'service.mjs'));
  return {
    start:
      `${node} ${service} --port ${port} --release-dir ${shQuote(l.current)} ` +
      `--pid-file ${shQuote(l.pidFile)} --log-file ${shQuote(l.logFile)} --daemon`,
    stop: `${node} ${service} --stop --pid-file ${shQuote(l.pidFile)}`,
  };
}

async function startService(l: Layout, port: number): Promise<void> {
  const r = await sh(serviceCommands(l, port).start);
  if (r.code !== 0) throw new Error(`demo: the service would not start (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  await waitFor(async () => (await httpStatus(`http://127.0.0.1:${port}/health`)) === 200, `the demo service on port ${port}`, 15_000);
}

async function redeploy(l: Layout, port: number, sick: string): Promise<void> {
  // Already live: nothing to deploy, and stopping the service here would only fail its health checks.
  if ((await liveRelease(l)) === sick) {
    throw new Error(`${sick} is already live; nothing to redeploy (the monitor rolls it back when it trips; then R replays)`);
  }
  const stop = await sh(serviceCommands(l, port).stop);
  if (stop.code !== 0) throw new Error(`demo: could not stop the service: ${stop.stderr.trim()}`);
  try {
    await switchCurrent(l, sick);
  } finally {
    // Switched or not, the service runs again (on whatever is live).
    await startService(l, port);
  }
}

async function liveRelease(l: Layout): Promise<string | null> {
  const loaded = await loadConfig({ configPath: l.configPath });
  const handle = openEnvironment(resolveEnvironment(loaded, 'demo'));
  try {
    return await handle.store.live();
  } finally {
    await handle.close();
  }
}

/** Make `name` live through the project's own symlink store (its atomic rename over `current`). */
async function switchCurrent(l: Layout, name: string): Promise<void> {
  const loaded = await loadConfig({ configPath: l.configPath });
  const handle = openEnvironment(resolveEnvironment(loaded, 'demo'));
  try {
    await handle.store.switchTo(name);
  } finally {
    await handle.close();
  }
}
