/**
 * One owner of automation per environment: real `monitor` processes (the built bin) on one environment.
 * The first takes the monitor lease and samples; the others observe (the owner's samples and alerts,
 * never acting). Pause and resume from an observer (an in-process Monitor) reach the owner through the
 * state_dir and are recorded in history under the observer's name. After kill -9 of the owner exactly
 * one observer takes over and says so; the other keeps observing the new owner. A console in a real
 * terminal (tmux) beside a `monitor` names the owner in its header, pauses through it, and takes over
 * when it is killed. A monitor that takes the lease starts its charts from the shared sample file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Monitor } from '../../src/core/monitor/monitor.js';
import { sampleFile } from '../../src/core/monitor/shared-state.js';
import { emptySample } from '../../src/core/monitor/sources/sample.js';
import type { MonitorEvent } from '../../src/core/monitor/types.js';
import { killTmux } from '../helpers/tmux.js';
import { EventLog, makeFixture, ROOT, startHealthy, waitFor, writeCliConfig, type Fixture } from './harness.js';

const BIN = path.join(ROOT, 'bin', 'rollback-tui.js');

interface Proc {
  child: ChildProcess;
  events: () => MonitorEvent[];
  stderr: () => string;
  exited: Promise<number | null>;
}

const procs: Proc[] = [];
const fixtures: Fixture[] = [];
const monitors: Monitor[] = [];
const TMUX_SOCKET = `rtui-lease-${process.pid}`;
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const tmux = (...args: string[]): string => {
  const r = spawnSync('tmux', ['-L', TMUX_SOCKET, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

afterEach(async () => {
  if (hasTmux) await killTmux(TMUX_SOCKET);
  for (const m of monitors.splice(0)) {
    m.stop();
    await m.start();
  }
  for (const p of procs.splice(0)) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
  // A killed console's last state-dir write may land while the directory is removed: try again.
  for (const f of fixtures.splice(0)) {
    await waitFor(() => {
      f.cleanup();
      return true;
    }, 'the test directory to be removed', 10_000);
  }
});

function startMonitor(config: string): Proc {
  const child = spawn(process.execPath, [BIN, 'monitor', '--env', 'test', '--json'], {
    env: { PATH: process.env.PATH ?? '', HOME: path.dirname(config), ROLLBACK_CONFIG: config, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const proc: Proc = {
    child,
    events: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as MonitorEvent),
    stderr: () => err,
    exited,
  };
  procs.push(proc);
  return proc;
}

const alerts = (p: Proc): string[] => p.events().flatMap((e) => (e.type === 'alert' ? [e.message] : []));
const leaseFile = (f: Fixture): string | null => {
  try {
    return readFileSync(path.join(f.layout.stateDir, 'locks', 'test.monitor.owner.json'), 'utf8');
  } catch {
    return null;
  }
};
const leaseOwnerPid = (f: Fixture): number | null => {
  try {
    return (JSON.parse(readFileSync(path.join(f.layout.stateDir, 'locks', 'test.monitor.owner.json'), 'utf8')) as { pid: number }).pid;
  } catch {
    return null;
  }
};

/** A healthy environment and a first `monitor` that has taken the lease. */
async function withOwner(): Promise<{ f: Fixture; config: string; owner: Proc }> {
  const f = await makeFixture({ releases: [{}, {}] });
  fixtures.push(f);
  await startHealthy(f);
  const config = writeCliConfig(f, 3);
  const owner = startMonitor(config);
  await waitFor(() => leaseOwnerPid(f) === owner.child.pid, 'the first monitor to take the lease', 30_000);
  return { f, config, owner };
}

describe('the monitor lease', () => {
  it('one owner samples and acts, observers show its samples; pause from an observer is carried out by the owner; after kill -9 exactly one observer takes over', async () => {
    const { f, config, owner } = await withOwner();
    const b = startMonitor(config);
    const c = startMonitor(config);
    for (const o of [b, c]) {
      await waitFor(() => alerts(o).find((m) => m.includes(`is owned by monitor pid ${owner.child.pid} on `)), `an observer to name the owner (${o.stderr()})`, 30_000);
      // The owner's samples, seen through the state_dir (observers take none themselves).
      await waitFor(() => o.events().filter((e) => e.type === 'sample').length >= 3, 'the owner samples at an observer', 30_000);
    }
    // The owner's alerts reach observers, marked with who said them.
    await waitFor(() => alerts(b).find((m) => m.startsWith(`[monitor pid ${owner.child.pid}] baseline for `)), "the owner's baseline alert at an observer", 30_000);
    expect(alerts(b).filter((m) => m.startsWith('baseline for '))).toEqual([]);

    // An observer in this process: the owner's state and who owns automation; pause reaches the owner.
    const m = new Monitor(f.handle, { engine: f.engine, actor: 'alice@desk', coordinate: { kind: 'console', version: 'test' } });
    monitors.push(m);
    const log = new EventLog();
    m.on(log.listener);
    const loop = m.start();
    const ownerInfo = await waitFor(() => m.getState().automationOwner, 'the observer to know the owner');
    expect(ownerInfo).toMatchObject({ kind: 'monitor', pid: owner.child.pid, self: false });
    await waitFor(() => m.getState().phase === 'watching' || m.getState().phase === 'baseline', "the owner's phase at the observer");
    await m.pauseAutomation('alice@desk');
    await waitFor(() => m.getState().automation === 'paused', 'the owner to pause automation');
    await waitFor(() => f.history().find((h) => h.kind === 'automation_paused' && h.initiated_by === 'alice@desk'), 'the pause in history');
    await waitFor(() => alerts(owner).includes('automatic rollback paused by alice@desk'), 'the owner to say it paused');
    expect(log.alerts().some((a) => a.includes('pause sent to the automation owner (monitor pid'))).toBe(true);
    await m.resumeAutomation('alice@desk');
    await waitFor(() => m.getState().automation === 'armed', 'the owner to resume automation');
    await waitFor(() => f.history().find((h) => h.kind === 'automation_resumed' && h.initiated_by === 'alice@desk'), 'the resume in history');
    // Stopped and closed before the owner dies: an observer still looking must not be the one to win.
    m.stop();
    await loop;

    // kill -9: the owner cannot release its lease; its process is gone, so one observer breaks it.
    owner.child.kill('SIGKILL');
    await owner.exited;
    const tookOver = (p: Proc) => alerts(p).filter((a) => a.startsWith('took over automation of test from monitor pid'));
    // On this host the dead process frees the lease at once; failing that, it goes stale after 30 s.
    const winner = await waitFor(() => [b, c].find((p) => tookOver(p).length > 0), () => `an observer to take over: ${JSON.stringify({ lease: leaseFile(f), b: [b.child.exitCode, alerts(b).slice(-3), b.stderr().slice(-300)], c: [c.child.exitCode, alerts(c).slice(-3), c.stderr().slice(-300)] })}`, 60_000);
    const loser = winner === b ? c : b;
    expect(tookOver(winner)[0]).toMatch(new RegExp(`^took over automation of test from monitor pid ${owner.child.pid} on \\S+, since \\d\\d:\\d\\d: (its process is gone|its lease was not refreshed for 30 s)$`));
    await waitFor(() => leaseOwnerPid(f) === winner.child.pid, 'the lease to name the new owner');
    // The other one sees the new owner's announcement through the state_dir and keeps observing.
    await waitFor(() => alerts(loser).some((a) => a.startsWith(`[monitor pid ${winner.child.pid}] took over automation of test`)), 'the other observer to see the takeover');
    const samplesBefore = loser.events().filter((e) => e.type === 'sample').length;
    await waitFor(() => loser.events().filter((e) => e.type === 'sample').length > samplesBefore + 3, "the new owner's samples at the other observer");
    expect(tookOver(loser)).toEqual([]);
    expect(leaseOwnerPid(f)).toBe(winner.child.pid);
  }, 180_000);

  it('a stopped owner releases the lease: an observer takes over at once, and automation stays paused if it was', async () => {
    const { f, config, owner } = await withOwner();
    const b = startMonitor(config);
    await waitFor(() => alerts(b).find((m) => m.includes(`is owned by monitor pid ${owner.child.pid}`)), 'the observer to name the owner', 30_000);

    const m = new Monitor(f.handle, { engine: f.engine, actor: 'bob@desk', coordinate: { kind: 'console', version: 'test' } });
    monitors.push(m);
    const loop = m.start();
    await waitFor(() => m.getState().automationOwner?.pid === owner.child.pid, 'the in-process observer to know the owner');
    await m.pauseAutomation('bob@desk');
    await waitFor(() => m.getState().automation === 'paused', 'the owner to pause automation');
    // Stopped and closed before the owner dies: an observer still looking must not be the one to win.
    m.stop();
    await loop;

    owner.child.kill('SIGTERM');
    expect(await owner.exited).toBe(0);
    // At once when the released lease is seen; on a loaded machine at the latest once it is stale (its
    // last status still says it stopped).
    const line = await waitFor(() => alerts(b).find((a) => a.startsWith('took over automation of test from monitor pid')), 'the observer to take over', 75_000);
    expect(line).toMatch(/: it stopped; automation stays paused \(by bob@desk\)$/);
    expect(leaseOwnerPid(f)).toBe(b.child.pid);
  }, 150_000);

  it.skipIf(!hasTmux)('a console in a terminal beside a monitor observes it, pauses through it, and takes over after kill -9', async () => {
    const { f, config, owner } = await withOwner();
    const cmd = `env -u CI -u CONTINUOUS_INTEGRATION ROLLBACK_CONFIG=${config} NO_COLOR=1 ${process.execPath} ${BIN} --env test; exec sleep 600`;
    tmux('new-session', '-d', '-x', '140', '-y', '32', '-s', 'obs', cmd);
    let screen = '';
    const waitScreen = (pred: (s: string) => boolean, what: string) =>
      waitFor(() => pred((screen = tmux('capture-pane', '-p', '-t', 'obs'))), `${what}; screen:\n${screen}`, 30_000);
    await waitScreen((s) => new RegExp(`automation: monitor pid ${owner.child.pid} on \\S+, since \\d\\d:\\d\\d · ARMED`).test(s), 'the header to name the owner');

    tmux('send-keys', '-t', 'obs', 'p');
    await waitScreen((s) => s.includes(`automation: monitor pid ${owner.child.pid}`) && s.includes('· PAUSED'), 'the owner to pause');
    const paused = await waitFor(() => f.history().find((h) => h.kind === 'automation_paused'), 'the pause in history');
    expect(alerts(owner)).toContain(`automatic rollback paused by ${String(paused.initiated_by)}`);

    owner.child.kill('SIGKILL');
    await owner.exited;
    await waitScreen((s) => s.includes('auto PAUSED') && !s.includes('automation: monitor pid'), 'the console to own automation, still paused');
    await waitFor(() => leaseOwnerPid(f) !== null && leaseOwnerPid(f) !== owner.child.pid, 'the lease to name the console');
  }, 120_000);

  it('a monitor that takes the lease starts its charts with the last hour of the sample file (marked as history)', async () => {
    const f = await makeFixture({ releases: [{}, {}] });
    fixtures.push(f);
    await startHealthy(f);
    const now = Date.now();
    const old = [now - 3 * 3600_000, now - 3000, now - 2000, now - 1000].map((at) => emptySample(at, f.live()));
    writeFileSync(path.join(f.layout.stateDir, sampleFile('test')), old.map((x) => `${JSON.stringify(x)}\n`).join(''));
    const m = new Monitor(f.handle, { engine: f.engine, coordinate: { kind: 'console', version: 'test' } });
    monitors.push(m);
    const log = new EventLog();
    m.on(log.listener);
    const loop = m.start();
    await waitFor(() => m.getState().automationOwner?.self, 'the monitor to own automation');
    await waitFor(() => log.of('sample').some((e) => !e.history), 'a sample of its own');
    m.stop();
    await loop;
    const replayed = log.of('sample').filter((e) => e.history);
    expect(replayed.map((e) => e.sample.at)).toEqual([now - 3000, now - 2000, now - 1000]);
    const firstOwn = log.events.findIndex((e) => e.type === 'sample' && !e.history);
    expect(log.events.findLastIndex((e) => e.type === 'sample' && e.history === true)).toBeLessThan(firstOwn);
  });
});
