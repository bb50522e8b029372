/**
 * Test harness for the monitor: a real symlink release store in a temp dir, the real demo service
 * (demo/service.mjs, daemonised by the environment's own service.start/stop commands, so the engine
 * restarts it on a rollback), and a policy scaled to sub-second intervals.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PolicySchema, type ResolvedEnvironment } from '../../src/core/config/schema.js';
import { RollbackEngine, type EngineHandle } from '../../src/core/engine/engine.js';
import { LocalExecutor } from '../../src/core/exec/local.js';
import { MarkStore } from '../../src/core/state/marks.js';
import { StateDir } from '../../src/core/state/state-dir.js';
import { SymlinkReleaseStore } from '../../src/core/stores/symlink.js';
import type { MonitorEvent } from '../../src/core/monitor/types.js';
import { makeReleaseLayout, resolvedEnv, type ReleaseLayout } from '../helpers/releases.js';
import { freePort } from '../../src/core/net.js';
export { freePort };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVICE = path.join(ROOT, 'demo', 'service.mjs');

/** Poll `fn` until it returns a truthy value (no fixed sleeps). */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string | (() => string), timeoutMs = 60_000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface ReleaseSpec {
  mode?: 'healthy' | 'errors' | 'slow' | 'leak' | 'crash' | 'down';
  [key: string]: unknown;
}

export interface Fixture {
  layout: ReleaseLayout;
  port: number;
  base: string;
  env: ResolvedEnvironment;
  handle: EngineHandle;
  engine: RollbackEngine;
  logFile: string;
  pidFile: string;
  startService(): void;
  stopService(): void;
  control(query: string): Promise<unknown>;
  live(): string;
  history(): Array<Record<string, unknown>>;
  marks(): { known_good: string[]; bad: string[] };
  cleanup(): void;
}

/**
 * The scaled policy: 0.2 s interval, 2.4 s windows, 1.2 s baseline window. Override per test. A
 * rollback's verification may take 5 s: a restarted service can be that slow to listen on a loaded
 * machine (verification ends as soon as it is healthy).
 */
export function testPolicy(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const w = 0.04; // 2.4 s
  const base: Record<string, unknown> = {
    enabled: true,
    monitoring: { check_interval_seconds: 0.2, baseline_window_minutes: 0.02, consecutive_error_limit: 5 },
    triggers: {
      error_rate: { enabled: true, multiplier: 2, window_minutes: w, min_errors_per_minute: 60 },
      health_check: { enabled: false, failure_count: 3, window_minutes: w },
    },
    rollback: { max_rollback_attempts: 3, health_check_timeout_seconds: 5, stability_seconds: 0.2, poll_interval_seconds: 0.05 },
  };
  return { ...base, ...overrides };
}

export async function makeFixture(opts: { releases: ReleaseSpec[]; policy?: Record<string, unknown>; env?: Record<string, unknown> }): Promise<Fixture> {
  const layout = makeReleaseLayout({
    count: opts.releases.length,
    content: (name, dir, i) => writeFileSync(path.join(dir, 'release.json'), JSON.stringify({ version: name, mode: 'healthy', ...opts.releases[i] })),
  });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const pidFile = path.join(layout.root, 'service.pid');
  const logFile = path.join(layout.root, 'service.log');
  const start = `${JSON.stringify(process.execPath)} ${JSON.stringify(SERVICE)} --port ${port} --release-dir ${JSON.stringify(layout.current)} --pid-file ${JSON.stringify(pidFile)} --log-file ${JSON.stringify(logFile)} --daemon`;
  const stop = `${JSON.stringify(process.execPath)} ${JSON.stringify(SERVICE)} --stop --pid-file ${JSON.stringify(pidFile)}`;
  const raw = {
    target: layout.symlinkTarget(),
    service: { start, stop },
    health: [{ http: { url: `${base}/health`, timeout_seconds: 1 } }],
    state_dir: layout.stateDir,
    ...opts.env,
  };
  const env: ResolvedEnvironment = { ...resolvedEnv('test', raw), policy: PolicySchema.parse(opts.policy ?? testPolicy()) };
  const executor = new LocalExecutor();
  const state = new StateDir(executor, env.state_dir);
  await state.ensure();
  const marks = new MarkStore(state);
  const store = new SymlinkReleaseStore(layout.symlinkTarget(), executor, marks, 'test');
  const handle: EngineHandle = { env, executor, state, marks, store };
  const engine = new RollbackEngine(handle, { version: 'test' });
  const fixture: Fixture = {
    layout,
    port,
    base,
    env,
    handle,
    engine,
    logFile,
    pidFile,
    startService: () => execFileSync('sh', ['-c', start], { stdio: 'ignore' }),
    stopService: () => execFileSync('sh', ['-c', stop], { stdio: 'ignore' }),
    control: async (query) => (await fetch(`${base}/control?${query}`)).json(),
    live: () => path.basename(execFileSync('readlink', [layout.current], { encoding: 'utf8' }).trim()),
    history: () => {
      try {
        return readFileSync(path.join(layout.stateDir, 'history.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      } catch {
        return [];
      }
    },
    marks: () => {
      try {
        return JSON.parse(readFileSync(path.join(layout.stateDir, 'marks.json'), 'utf8')) as { known_good: string[]; bad: string[] };
      } catch {
        return { known_good: [], bad: [] };
      }
    },
    cleanup: () => {
      try {
        fixture.stopService();
      } catch {
        // already stopped
      }
      layout.cleanup();
    },
  };
  return fixture;
}

/** Start the service for the live release and wait until it answers. */
export async function startHealthy(f: Fixture): Promise<void> {
  f.startService();
  await waitFor(async () => (await fetch(`${f.base}/metrics`)).ok, 'the demo service to listen');
}

/**
 * A config file for the fixture's environment, for the CLI: sub-second sampling and the health_check
 * trigger firing after `failures` failed checks in 2.4 s.
 */
export function writeCliConfig(f: Fixture, failures: number): string {
  const file = path.join(f.layout.root, 'rollback-config.yml');
  writeFileSync(
    file,
    JSON.stringify({
      rollback_policy: {
        monitoring: { check_interval_seconds: 0.2, baseline_window_minutes: 0.02 },
        triggers: { health_check: { enabled: true, failure_count: failures, window_minutes: 0.04 } },
      },
      environments: { test: { target: f.layout.symlinkTarget(), health: [{ http: { url: `${f.base}/health`, timeout_seconds: 1 } }], state_dir: f.layout.stateDir } },
    }),
  );
  return file;
}

export class EventLog {
  readonly events: MonitorEvent[] = [];
  readonly listener = (e: MonitorEvent): void => {
    this.events.push(e);
  };
  of<T extends MonitorEvent['type']>(type: T): Extract<MonitorEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<MonitorEvent, { type: T }> => e.type === type);
  }
  alerts(): string[] {
    return this.of('alert').map((a) => `${a.severity}: ${a.message}`);
  }
}
