/**
 * The console end to end in a real pseudo-terminal (tmux on a private socket): the built bin against a
 * real local environment (the demo service as the application, a temp symlink store). No fixed sleeps:
 * every wait polls the screen or the disk until a deadline.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { makeReleaseLayout, type ReleaseLayout } from '../helpers/releases.js';
import { killTmux } from '../helpers/tmux.js';
import { freePort } from '../../src/core/net.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SERVICE = path.join(ROOT, 'demo', 'service.mjs');
// The built bin; ROLLBACK_TUI_E2E_BIN may name another launcher of dist/ (e.g. while the registry is being wired).
const BIN = process.env.ROLLBACK_TUI_E2E_BIN ?? path.join(ROOT, 'bin', 'rollback-tui.js');
const SOCKET = `rtui-e2e-${process.pid}`;
const hasTmux = spawnSync('tmux', ['-V']).status === 0;

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const capture = (s: string): string => tmux('capture-pane', '-p', '-t', s);

async function poll<T>(what: string, f: () => T | null | undefined | false, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function waitScreen(s: string, pred: (screen: string) => boolean, what: string, timeoutMs = 30_000): Promise<string> {
  let last = '';
  try {
    return await poll(
      what,
      () => {
        last = capture(s);
        return pred(last) ? last : null;
      },
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; screen:\n${last}`);
  }
}

interface TestEnv {
  layout: ReleaseLayout;
  config: string;
  port: number;
  pidFile: string;
  stop(): void;
}

const envs: TestEnv[] = [];

async function makeEnv(graceSeconds: number): Promise<TestEnv> {
  const layout = makeReleaseLayout({
    count: 3,
    content: (name, dir, i) => fs.writeFileSync(path.join(dir, 'release.json'), JSON.stringify({ version: `v${i + 1}`, mode: 'healthy' })),
  });
  const port = await freePort();
  const pidFile = path.join(layout.root, 'service.pid');
  const logFile = path.join(layout.root, 'service.log');
  const start = `node ${SERVICE} --port ${port} --release-dir ${layout.current} --pid-file ${pidFile} --log-file ${logFile} --daemon`;
  const stopCmd = `node ${SERVICE} --stop --pid-file ${pidFile}`;
  const config = path.join(layout.root, 'rollback-config.yml');
  fs.writeFileSync(
    config,
    // Only the injected fault may fire: latency and failed health checks are what a loaded CI machine
    // produces by itself (a 2 s health timeout, 1.2 s windows), and an automatic rollback in the middle of
    // a test of the manual path would make it about something else.
    `rollback_policy:
  monitoring: { check_interval_seconds: 0.25, baseline_window_minutes: 0.02 }
  triggers:
    error_rate: { enabled: true, multiplier: 2, window_minutes: 0.02 }
    latency: { enabled: false, metric: p95, multiplier: 20, window_minutes: 0.02 }
    memory: { enabled: true, threshold_percent: 99.9, window_minutes: 0.02 }
    health_check: { enabled: false, failure_count: 2, window_minutes: 0.02 }
  rollback: { health_check_timeout_seconds: 15, stability_seconds: 0.3, grace_seconds: ${graceSeconds} }
environments:
  test:
    target: { strategy: symlink, backups_dir: ${layout.backupsDir}, current: ${layout.current} }
    service: { stop: "${stopCmd}", start: "${start}" }
    health:
      - http: { url: "http://127.0.0.1:${port}/health", timeout_seconds: 2 }
    metrics: { source: probe, memory: meminfo }
    state_dir: ${layout.stateDir}
`,
  );
  const r = spawnSync('sh', ['-c', start], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`service did not start: ${r.stderr}`);
  const e: TestEnv = {
    layout,
    config,
    port,
    pidFile,
    stop: () => {
      spawnSync('sh', ['-c', stopCmd]);
      layout.cleanup();
    },
  };
  envs.push(e);
  return e;
}

/** Start the console in a new tmux session; returns when the first full frame is on screen. */
async function launch(e: TestEnv, name: string, size = { x: 100, y: 30 }): Promise<{ session: string; firstFrameMs: number }> {
  const cmd = `env -u CI -u CONTINUOUS_INTEGRATION node ${BIN} --config ${e.config} --env test; echo "EXITED $?"; exec sleep 600`;
  const t0 = Date.now();
  tmux('new-session', '-d', '-x', String(size.x), '-y', String(size.y), '-s', name, cmd);
  await waitScreen(name, (s) => s.includes('TEST') && s.includes('quit') && s.includes('Backups'), 'the first full frame');
  return { session: name, firstFrameMs: Date.now() - t0 };
}

function consolePid(session: string): number | null {
  const panePid = tmux('display-message', '-p', '-t', session, '#{pane_pid}').trim();
  const r = spawnSync('pgrep', ['-P', panePid, 'node'], { encoding: 'utf8' });
  const pid = Number(r.stdout.trim().split('\n')[0]);
  return Number.isFinite(pid) && pid > 0 ? pid : null;
}

function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const history = (e: TestEnv): Record<string, unknown>[] => {
  const f = path.join(e.layout.stateDir, 'history.jsonl');
  if (!fs.existsSync(f)) return [];
  return fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
};

afterEach(async () => {
  await killTmux(SOCKET);
});
afterAll(() => {
  for (const e of envs) e.stop();
});

describe.skipIf(!hasTmux)('console in a real terminal', () => {
  it('standard rollback: r, reason, confirm; progress, result banner, current moved, history entry', async () => {
    const e = await makeEnv(0);
    const [oldest, previous, live] = e.layout.names as [string, string, string];
    expect(oldest).toBeDefined();
    const { session, firstFrameMs } = await launch(e, 'std');
    await waitScreen(session, (s) => s.includes('watching'), 'the baseline to be established');

    // Idle CPU with the monitor running (sampling 4x per second here).
    const pid = consolePid(session);
    let idleCpu: number | null = null;
    if (pid !== null) {
      const ticks0 = cpuTicks(pid);
      const t0 = Date.now();
      await poll('5 s of idle', () => Date.now() - t0 >= 5000, 10_000, 250);
      idleCpu = ((cpuTicks(pid) - ticks0) / 100 / ((Date.now() - t0) / 1000)) * 100;
    }

    let keystrokes = 0;
    const reason = 'e2e bad release';
    tmux('send-keys', '-t', session, 'r');
    keystrokes++;
    await waitScreen(session, (s) => s.includes('Reason:') && s.includes(`-> ${previous}`), 'the preview');
    tmux('send-keys', '-t', session, '-l', reason);
    keystrokes += reason.length;
    tmux('send-keys', '-t', session, 'Enter');
    keystrokes++;
    await waitScreen(session, (s) => s.includes('Roll back test now?'), 'the confirmation');
    tmux('send-keys', '-t', session, 'y');
    keystrokes++;
    await waitScreen(session, (s) => /running|waiting|✓ ok/.test(s) && s.includes('standard rollback'), 'the progress view');
    const done = await waitScreen(session, (s) => s.includes('Rolled back test'), 'the result banner', 60_000);
    expect(done).toContain(`${live} -> ${previous}`);
    expect(done).toContain('verification passed');

    expect(fs.realpathSync(e.layout.current)).toBe(path.join(e.layout.backupsDir, previous));
    const entries = history(e);
    expect(entries.at(-1)).toMatchObject({ kind: 'standard', trigger: 'manual', from: live, to: previous, reason, success: true });
    // The panels are updated: the old live release is now marked bad, the new one live.
    await waitScreen(session, (s) => s.includes('1') && /History\s+1/.test(s), 'the history panel to update');

    console.log(
      `[console e2e] first full frame ${firstFrameMs} ms; ${keystrokes} keystrokes to a confirmed standard rollback (reason of ${reason.length} chars); idle CPU ${idleCpu === null ? 'n/a' : idleCpu.toFixed(1)}%`,
    );
    tmux('send-keys', '-t', session, 'q');
    await waitScreen(session, (s) => s.includes('EXITED 0'), 'the console to exit');
  });

  it('a key that cannot act says why; emergency on a yes-no environment asks for the name: y is refused, the name rolls back', async () => {
    const e = await makeEnv(0);
    const [, previous, live] = e.layout.names as [string, string, string];
    const { session } = await launch(e, 'emergency');
    // A key that cannot act now says why on screen instead of doing nothing.
    tmux('send-keys', '-t', session, 'c');
    await waitScreen(session, (s) => s.includes('c: no automatic rollback is counting down'), 'the reason c cannot act');
    tmux('send-keys', '-t', session, 'e');
    await waitScreen(session, (s) => s.includes('Reason:') && s.includes(`-> ${previous}`), 'the emergency preview');
    tmux('send-keys', '-t', session, '-l', 'site down');
    tmux('send-keys', '-t', session, 'Enter');
    await waitScreen(session, (s) => s.includes('Type test to roll back'), 'the name prompt');
    tmux('send-keys', '-t', session, 'y');
    tmux('send-keys', '-t', session, 'Enter');
    await waitScreen(session, (s) => s.includes('You typed "y"'), 'the refusal of y');
    expect(fs.realpathSync(e.layout.current)).toBe(path.join(e.layout.backupsDir, live));
    expect(history(e)).toHaveLength(0);
    tmux('send-keys', '-t', session, '-l', 'test');
    tmux('send-keys', '-t', session, 'Enter');
    await poll('the switch to the previous release', () => fs.realpathSync(e.layout.current) === path.join(e.layout.backupsDir, previous), 60_000);
    await poll('the history entry', () => history(e).length === 1);
    expect(history(e)[0]).toMatchObject({ kind: 'emergency', from: live, to: previous, reason: 'site down' });
  });

  it('automatic rollback: a fault is injected, the banner explains and counts down, the rollback completes', async () => {
    const e = await makeEnv(2);
    const [, previous, live] = e.layout.names as [string, string, string];
    const { session } = await launch(e, 'auto');
    await waitScreen(session, (s) => s.includes('watching'), 'the baseline to be established');
    const res = await fetch(`http://127.0.0.1:${e.port}/control?mode=errors&error_ratio=1`);
    expect(res.ok).toBe(true);
    const banner = await waitScreen(session, (s) => s.includes('AUTOMATIC ROLLBACK in'), 'the grace countdown');
    expect(banner).toContain('press c to cancel');
    expect(banner).toMatch(/value .* vs threshold .* \(baseline/);
    const done = await waitScreen(session, (s) => s.includes('[auto] ✓ Rolled back test'), 'the automatic rollback to finish', 60_000);
    expect(done).toContain(`${live} -> ${previous}`);
    expect(fs.realpathSync(e.layout.current)).toBe(path.join(e.layout.backupsDir, previous));
    expect(history(e).at(-1)).toMatchObject({ kind: 'standard', from: live, to: previous, success: true });
    expect(String(history(e).at(-1)?.trigger)).not.toBe('manual');
  });

  it('q restores the terminal: the alternate screen is left and the process exits 0', async () => {
    const e = await makeEnv(0);
    const { session } = await launch(e, 'quit', { x: 80, y: 24 });
    expect(tmux('display-message', '-p', '-t', session, '#{alternate_on}').trim()).toBe('1');
    tmux('send-keys', '-t', session, 'q');
    const screen = await waitScreen(session, (s) => s.includes('EXITED 0'), 'the console to exit');
    expect(screen).not.toContain('Backups');
    expect(tmux('display-message', '-p', '-t', session, '#{alternate_on}').trim()).toBe('0');
    expect(tmux('display-message', '-p', '-t', session, '#{cursor_flag}').trim()).toBe('1');
  });
});
