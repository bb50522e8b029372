import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { Monitor, type MonitorEngine } from '../../src/core/monitor/monitor.js';
import type { RollbackRequest } from '../../src/core/engine/types.js';
import { RingBuffer } from '../../src/core/monitor/ring.js';
import { EventLog, makeFixture, startHealthy, testPolicy, waitFor, type Fixture } from './harness.js';

const fixtures: Fixture[] = [];
const GRACE_ROLLBACK = { health_check_timeout_seconds: 5, stability_seconds: 0.2, poll_interval_seconds: 0.05 };
const monitors: Monitor[] = [];
afterEach(async () => {
  for (const m of monitors.splice(0)) {
    m.stop();
    await m.start();
  }
  for (const f of fixtures.splice(0)) f.cleanup();
});

async function setup(opts: Parameters<typeof makeFixture>[0]): Promise<Fixture> {
  const f = await makeFixture(opts);
  fixtures.push(f);
  await startHealthy(f);
  return f;
}

function monitorFor(f: Fixture, log: EventLog, engine: MonitorEngine = f.engine): Monitor {
  const m = new Monitor(f.handle, { engine });
  m.on(log.listener);
  monitors.push(m);
  return m;
}

/** A monitor at its grace countdown: baseline established, errors injected, the first grace event seen. */
async function atGraceCountdown(releases: number, graceSeconds: number) {
  const f = await setup({ releases: Array.from({ length: releases }, () => ({})), policy: testPolicy({ rollback: { ...GRACE_ROLLBACK, grace_seconds: graceSeconds } }) });
  const live = f.live();
  const log = new EventLog();
  const m = monitorFor(f, log);
  void m.start();
  await waitFor(() => log.of('baseline')[0], 'a baseline');
  await f.control('mode=errors&error_ratio=1');
  const grace = await waitFor(() => log.of('grace')[0], 'the grace countdown');
  return { f, live, log, m, grace };
}

describe('ring buffer', () => {
  it('keeps at most its capacity, oldest first', () => {
    const r = new RingBuffer<number>(4);
    for (let i = 0; i < 100_000; i++) r.push(i);
    expect(r.size).toBe(4);
    expect(r.toArray()).toEqual([99_996, 99_997, 99_998, 99_999]);
    expect(r.last()).toBe(99_999);
    expect(r.filter((n) => n % 2 === 0)).toEqual([99_996, 99_998]);
    r.clear();
    expect(r.toArray()).toEqual([]);
  });
});

describe('monitor against the real demo service', { timeout: 180_000 }, () => {
  it('establishes a baseline, persists it, marks the release known-good, and a new monitor reuses it', async () => {
    const f = await setup({ releases: [{}, {}, {}] });
    const live = f.live();
    const log = new EventLog();
    const m = monitorFor(f, log);
    void m.start();
    const baseline = await waitFor(() => log.of('baseline')[0], 'a baseline');
    expect(baseline.baseline.release).toBe(live);
    expect(baseline.baseline.healthy).toBe(true);
    expect(baseline.baseline.metrics.error_rate).toBe(0);
    expect(baseline.baseline.metrics.p95_latency_ms).toBeGreaterThanOrEqual(0);
    const file = path.join(f.layout.stateDir, 'baselines', `${live}.json`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ release: live, healthy: true });
    expect(f.marks().known_good).toContain(live);
    m.stop();
    await m.start();

    // A restarted monitor loads it instead of observing again.
    const log2 = new EventLog();
    const m2 = monitorFor(f, log2);
    await m2.tick();
    expect(log2.of('baseline')[0]?.baseline).toEqual(baseline.baseline);
    expect(m2.getState().phase).toBe('watching');
    expect(m2.getState().baselineProgress).toBeNull();
  });

  it('rolls back automatically on an error spike: current is the previous release, history says error_rate; ceo_alert makes its notifications critical', async () => {
    const sent = path.join(os.tmpdir(), `rtui-notify-${process.pid}-${Date.now()}.jsonl`);
    onTestFinished(() => rmSync(sent, { force: true }));
    const f = await setup({ releases: [{}, {}, {}], policy: testPolicy({ notifications: { ceo_alert: true, command: `cat >> ${JSON.stringify(sent)}` } }) });
    const [, previous, bad] = f.layout.names as [string, string, string];
    // The previous release was watched before: it has a (healthy) baseline from back then.
    const old = { release: previous, timestamp: '2020-01-01T00:00:00.000Z', samples: 5, healthy: true, metrics: { error_rate: 0, p50_latency_ms: 1, p95_latency_ms: 1, p99_latency_ms: 1, memory_usage_percent: null, cpu_usage_percent: null, request_rate: null } };
    mkdirSync(path.join(f.layout.stateDir, 'baselines'), { recursive: true });
    writeFileSync(path.join(f.layout.stateDir, 'baselines', `${previous}.json`), JSON.stringify(old));
    const log = new EventLog();
    // The real engine, with the requests it gets written down.
    const requests: RollbackRequest[] = [];
    const m = monitorFor(f, log, {
      lockOwner: () => f.engine.lockOwner(),
      run: (req, on) => {
        requests.push(req);
        return f.engine.run(req, on);
      },
    });
    void m.start();
    await waitFor(() => log.of('baseline')[0], 'a baseline');
    await f.control('mode=errors&error_ratio=1');
    const started = await waitFor(() => log.of('rollback').find((e) => e.phase === 'started'), 'rollback started');
    expect(started.phase === 'started' && started.trigger.name).toBe('error_rate');
    expect(started.phase === 'started' && started.target).toBe(previous);
    const finished = await waitFor(() => log.of('rollback').find((e) => e.phase === 'finished'), 'rollback finished');
    expect(finished.phase === 'finished' && finished.result.ok).toBe(true);
    expect(f.live()).toBe(previous);
    expect(log.alerts().some((a) => a.startsWith('critical: auto-rollback initiated') && a.includes('error_rate'))).toBe(true);
    const entry = f.history().find((h) => h.kind === 'standard');
    expect(entry).toMatchObject({ trigger: 'error_rate', from: bad, to: previous, success: true });
    expect(String(entry?.explanation)).toMatch(/^error rate \d+(\.\d+)?\/min > 60\/min/);
    expect(f.marks().bad).toContain(bad);
    // The engine is told which live release the decision was made on (it refuses if that changed).
    expect(requests).toEqual([expect.objectContaining({ kind: 'standard', trigger: 'error_rate', expectFrom: bad })]);
    // Afterwards the restored release gets a new baseline, not the one from back then (which is the
    // reference meanwhile).
    const restored = await waitFor(() => log.of('baseline').find((b) => b.baseline.release === previous), 'baseline of the restored release');
    expect(log.alerts()).toContain(`info: establishing a new baseline for ${previous}; comparing against its previous one (2020-01-01T00:00:00.000Z) meanwhile`);
    expect(restored.baseline.healthy).toBe(true);
    expect(restored.baseline.timestamp).not.toBe(old.timestamp);
    expect(JSON.parse(readFileSync(path.join(f.layout.stateDir, 'baselines', `${previous}.json`), 'utf8'))).toEqual(restored.baseline);
    // The automatic rollback is remembered in the state dir.
    expect(JSON.parse(readFileSync(path.join(f.layout.stateDir, 'auto-rollbacks.json'), 'utf8'))).toMatchObject({
      rollbacks: [{ env: 'test', trigger: 'error_rate', from: bad, to: previous, verification: 'passed' }],
    });
    // ceo_alert: the automatic rollback's notifications go out as critical (a manual one keeps its levels).
    const notified = (): Array<{ event: string; severity: string }> =>
      existsSync(sent) ? readFileSync(sent, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
    await waitFor(() => notified().some((n) => n.event === 'rollback_succeeded'), 'the rollback_succeeded notification');
    expect(notified().filter((n) => n.event.startsWith('rollback_'))).toEqual([
      expect.objectContaining({ event: 'rollback_started', severity: 'critical' }),
      expect.objectContaining({ event: 'rollback_succeeded', severity: 'critical' }),
    ]);
  });

  it('escalates when every older release is also sick, and keeps the last one live', async () => {
    const f = await setup({ releases: [{ mode: 'errors', error_ratio: 1 }, { mode: 'errors', error_ratio: 1 }, {}] });
    const [r1, r2, r3] = f.layout.names as [string, string, string];
    // Both older releases were good once (a shared dependency broke since).
    await f.handle.marks.markKnownGood(r1);
    await f.handle.marks.markKnownGood(r2);
    const log = new EventLog();
    const m = monitorFor(f, log);
    void m.start();
    await waitFor(() => log.of('baseline')[0], 'a baseline');
    await f.control('mode=errors&error_ratio=1');
    const escalation = await waitFor(() => log.of('escalation')[0], 'an escalation', 90_000);
    expect(escalation.message).toContain('systemic issue');
    expect(escalation.message).toContain(`${r2}, ${r1} also unhealthy`);
    const attempts = log.of('rollback').filter((e) => e.phase === 'started');
    expect(attempts.map((e) => (e.phase === 'started' ? e.target : null))).toEqual([r2, r1]);
    expect(f.live()).toBe(r1);
    expect(m.getState().phase).toBe('escalated');
    const kinds = f.history().map((h) => h.kind);
    expect(kinds).toContain('escalation');
    expect(f.marks().bad).toEqual(expect.arrayContaining([r3, r2]));
    expect(escalation.message).toContain('maintenance stays on');
    // Escalated: automation is paused (recorded), and it acts no more.
    expect(m.getState().automation).toBe('paused');
    expect(kinds).toContain('automation_paused');
    const count = log.of('rollback').length;
    const ticks = log.of('sample').length;
    await waitFor(() => log.of('sample').length >= ticks + 5, 'more samples');
    expect(log.of('rollback').length).toBe(count);
  });

  it('enabled: false monitors and notifies once per breach, but never rolls back', async () => {
    const sent = path.join(os.tmpdir(), `rtui-notify-${process.pid}-${Date.now()}.jsonl`);
    onTestFinished(() => rmSync(sent, { force: true }));
    const f = await setup({ releases: [{}, {}], policy: testPolicy({ enabled: false, notifications: { command: `cat >> ${JSON.stringify(sent)}` } }) });
    const live = f.live();
    const log = new EventLog();
    const m = monitorFor(f, log);
    void m.start();
    await waitFor(() => log.of('baseline')[0], 'a baseline');
    expect(m.getState().automation).toBe('disabled');
    const notified = (): Array<{ event: string; title: string; severity: string; data: Record<string, unknown> }> =>
      existsSync(sent) ? readFileSync(sent, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
    await f.control('mode=errors&error_ratio=1');
    const breach = await waitFor(() => log.of('trigger').find((t) => t.trigger.status === 'breached'), 'a breach');
    expect(breach.trigger.name).toBe('error_rate');
    await waitFor(() => notified().length >= 1, 'the notification');
    const ticks = log.of('sample').length;
    await waitFor(() => log.of('sample').length >= ticks + 8, 'more samples');
    // Once for the episode, not once per tick.
    expect(notified()).toEqual([
      expect.objectContaining({
        event: 'breach_not_acted',
        severity: 'warning',
        title: 'error_rate breached on test; automation disabled: not rolling back',
        data: expect.objectContaining({ trigger: 'error_rate', release: live, automation: 'disabled' }),
      }),
    ]);
    expect(log.of('rollback')).toEqual([]);
    expect(f.live()).toBe(live);
    // Cleared, then breached again: a new episode, a new notification.
    await f.control('mode=healthy');
    await waitFor(() => m.getState().triggers.find((t) => t.name === 'error_rate' && t.status !== 'breached'), 'error_rate clear');
    await f.control('mode=errors&error_ratio=1');
    await waitFor(() => notified().length >= 2, 'the second notification');
    expect(notified().map((n) => n.event)).toEqual(['breach_not_acted', 'breach_not_acted']);
    expect(log.of('rollback')).toEqual([]);
  });

  it('never rolls back onto a release marked bad', async () => {
    const f = await setup({ releases: [{}, {}, {}] });
    const [r1, r2] = f.layout.names as [string, string, string];
    await f.handle.marks.markBad(r2);
    const log = new EventLog();
    const m = monitorFor(f, log);
    void m.start();
    await waitFor(() => log.of('baseline')[0], 'a baseline');
    await f.control('mode=errors&error_ratio=1');
    const finished = await waitFor(() => log.of('rollback').find((e) => e.phase === 'finished'), 'rollback finished');
    expect(finished.phase === 'finished' && finished.result.to).toBe(r1);
    expect(f.live()).toBe(r1);
  });

  it('does not start while an operator holds the lock', async () => {
    const f = await setup({ releases: [{}, {}] });
    const live = f.live();
    const log = new EventLog();
    const m = monitorFor(f, log);
    void m.start();
    await waitFor(() => log.of('baseline')[0], 'a baseline');
    // An operator's lock, taken the way the engine takes it.
    const { EnvLock } = await import('../../src/core/engine/lock.js');
    const lock = await EnvLock.acquire(f.handle.state, { env: 'test', operationId: 'op-1', operation: 'deploy', user: 'alice', version: 'test', staleMinutes: 30 });
    try {
      await f.control('mode=errors&error_ratio=1');
      await waitFor(() => log.alerts().find((a) => a.includes('holds the lock')), 'the lock alert');
      expect(log.of('rollback')).toEqual([]);
      expect(f.live()).toBe(live);
    } finally {
      await lock.release();
    }
    await waitFor(() => log.of('rollback').find((e) => e.phase === 'finished'), 'the rollback once the lock is free');
  });

  it('gives a grace countdown that an operator can cancel', async () => {
    // Long enough that the cancel lands in the countdown however late this test sees it start (it is
    // cancelled at once, so the length costs nothing); the state counts down meanwhile.
    const { f, live, log, m, grace } = await atGraceCountdown(2, 30);
    expect(grace.remainingSeconds).toBe(30);
    expect(m.getState().graceRemainingSeconds).toBeGreaterThan(0);
    expect(m.getState().graceRemainingSeconds).toBeLessThanOrEqual(30);
    expect(m.cancelPendingRollback('alice@console')).toBe(true);
    await waitFor(() => log.alerts().find((a) => a.includes('cancelled by alice@console')), 'the cancel alert');
    const ticks = log.of('sample').length;
    await waitFor(() => log.of('sample').length >= ticks + 5, 'more samples');
    expect(log.of('rollback')).toEqual([]);
    expect(f.live()).toBe(live);
    expect(f.history().some((h) => h.initiated_by === 'alice@console')).toBe(true);
  });

  it('pause and resume are recorded in history', async () => {
    const f = await setup({ releases: [{}, {}] });
    const log = new EventLog();
    const m = monitorFor(f, log);
    await m.pauseAutomation('bob@host');
    expect(m.getState().automation).toBe('paused');
    await m.resumeAutomation('bob@host');
    expect(m.getState().automation).toBe('armed');
    expect(f.history().map((h) => [h.kind, h.initiated_by])).toEqual([
      ['automation_paused', 'bob@host'],
      ['automation_resumed', 'bob@host'],
    ]);
  });

  it('reports inconclusive samples and raises "monitor blind" when the metrics source is unreachable', async () => {
    const f = await setup({
      releases: [{}, {}],
      env: { metrics: { source: 'command', command: 'curl -fsS --max-time 1 http://127.0.0.1:1/metrics' } },
      policy: testPolicy({ triggers: { memory: { threshold_percent: 90, window_minutes: 0.02 } } }),
    });
    const log = new EventLog();
    const m = monitorFor(f, log);
    void m.start();
    const blind = await waitFor(() => log.alerts().find((a) => a.includes('monitor blind')), 'the blind alert');
    expect(blind).toMatch(/inconclusive for 5 samples in a row \(metrics.command exit 7/);
    await waitFor(() => m.getState().triggers.find((t) => t.name === 'memory' && t.status === 'inconclusive'), 'memory inconclusive');
    await waitFor(() => m.getState().phase === 'blind', 'the blind phase');
    expect(log.of('rollback')).toEqual([]);
  });

  it('re-checks after the grace countdown: an operator rolled back meanwhile, so it does not roll back again', async () => {
    // A countdown longer than a manual rollback takes on a loaded machine.
    const { f, log } = await atGraceCountdown(3, 20);
    const [, r2, r3] = f.layout.names as [string, string, string];
    // The operator does not wait: a standard rollback by hand, r3 -> r2, verified.
    const manual = await f.engine.run({ env: 'test', kind: 'standard', reason: 'INC-1 by hand', trigger: 'manual' });
    expect(manual).toMatchObject({ ok: true, from: r3, to: r2, verification: 'passed' });
    const off = await waitFor(() => log.alerts().find((a) => a.includes('called off')), 'the automatic rollback called off', 60_000);
    expect(off).toBe(`warning: automatic rollback of test called off: the live release changed from ${r3} to ${r2} during the countdown`);
    // It watches r2 now; nothing rolled back r2 -> r1, nothing marked r2 bad.
    await waitFor(() => log.of('sample').filter((e) => e.sample.release === r2).length >= 5, 'samples of r2');
    expect(log.of('rollback')).toEqual([]);
    expect(f.live()).toBe(r2);
    expect(f.marks().bad).toEqual([r3]);
    expect(f.history().filter((h) => h.kind === 'standard').map((h) => [h.trigger, h.from, h.to])).toEqual([['manual', r3, r2]]);
  });

  it('re-checks after the grace countdown: a trigger that cleared meanwhile calls it off', async () => {
    // Called off as soon as the window clears: a long countdown only leaves room on a loaded machine.
    const { f, live, log, grace } = await atGraceCountdown(2, 20);
    await f.control('mode=healthy');
    // Sampling goes on during the countdown: the window clears and the rollback is called off early.
    const off = await waitFor(() => log.alerts().find((a) => a.includes('called off')), 'the automatic rollback called off', 60_000);
    expect(off).toMatch(/^warning: automatic rollback of test called off: error_rate no longer breached \(error rate [\d.]+\/min <= 60\/min/);
    const during = log.events.slice(log.events.indexOf(grace), log.events.findIndex((e) => e.type === 'alert' && e.message.includes('called off')));
    expect(during.filter((e) => e.type === 'sample').length).toBeGreaterThan(0);
    expect(log.of('rollback')).toEqual([]);
    expect(f.live()).toBe(live);
    expect(f.marks().bad).toEqual([]);
  });

  it('systemic issue: the same trigger breaching again after a verified automatic rollback escalates and pauses, also after a restart', async () => {
    const f = await makeFixture({
      releases: [{}, {}, {}],
      policy: testPolicy({
        triggers: {
          error_rate: { enabled: true, multiplier: 2, window_minutes: 0.04, min_errors_per_minute: 60 },
          database: { enabled: true, threshold: 10, window_minutes: 0.1 },
        },
      }),
      env: { metrics: { source: 'command', command: 'cat db-metrics.json' } },
    });
    fixtures.push(f);
    // The database is shared by every release: its error counter is outside any of them.
    const metrics = path.join(f.layout.root, 'db-metrics.json');
    f.env.metrics = { ...f.env.metrics, command: `cat ${JSON.stringify(metrics)}` };
    let errors = 0;
    const writeMetrics = () => {
      writeFileSync(`${metrics}.tmp`, JSON.stringify({ db_connection_errors: errors }));
      renameSync(`${metrics}.tmp`, metrics);
    };
    writeMetrics();
    await startHealthy(f);
    const [, r2, r3] = f.layout.names as [string, string, string];
    const log = new EventLog();
    const m = monitorFor(f, log);
    void m.start();
    await waitFor(() => log.of('baseline')[0], 'a baseline');
    const rising = setInterval(() => {
      errors += 5;
      writeMetrics();
    }, 100);
    onTestFinished(() => clearInterval(rising));

    const escalation = await waitFor(() => log.of('escalation')[0], 'the escalation', 90_000);
    expect(escalation.message).toMatch(
      new RegExp(`^systemic issue on test: database breached again on ${r2} [\\d.]+s after the automatic rollback from ${r3} \\(within 13\\.2s\\): the older release is unhealthy too\\. Automatic rollback stopped; live is ${r2}\\.`),
    );
    // One rollback (r3 -> r2, verified), not r2 -> r1 as well.
    expect(log.of('rollback').filter((e) => e.phase === 'started').map((e) => (e.phase === 'started' ? e.target : null))).toEqual([r2]);
    expect(f.live()).toBe(r2);
    expect(f.marks().bad).toEqual([r3]);
    expect(m.getState().automation).toBe('paused');
    expect(m.getState().phase).toBe('escalated');
    expect(f.history().map((h) => h.kind)).toEqual(['standard', 'escalation', 'automation_paused']);
    expect(log.alerts().some((a) => a.startsWith('critical: systemic issue on test'))).toBe(true);
    const ticks = log.of('sample').length;
    await waitFor(() => log.of('sample').length >= ticks + 5, 'more samples');
    expect(log.of('rollback').filter((e) => e.phase === 'started')).toHaveLength(1);

    // A restarted monitor (automation armed again) reads the automatic rollback from the state dir.
    m.stop();
    await m.start();
    const log2 = new EventLog();
    const m2 = monitorFor(f, log2);
    void m2.start();
    const again = await waitFor(() => log2.of('escalation')[0], 'the escalation after the restart', 60_000);
    expect(again.message).toContain(`database breached again on ${r2}`);
    expect(log2.of('rollback')).toEqual([]);
    expect(f.live()).toBe(r2);
    expect(m2.getState().automation).toBe('paused');
  });

  it('an unhealthy baseline window is neither stored nor marked known-good, and a stored unhealthy baseline is not reused', async () => {
    const f = await setup({ releases: [{}, { mode: 'errors', error_ratio: 1 }] });
    const live = f.live();
    const file = path.join(f.layout.stateDir, 'baselines', `${live}.json`);
    const stale = JSON.stringify({ release: live, timestamp: '2020-01-01T00:00:00.000Z', samples: 3, healthy: false, metrics: { error_rate: 300 } });
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, stale);
    const log = new EventLog();
    const m = monitorFor(f, log);
    void m.start();
    const again = await waitFor(() => log.alerts().find((a) => a.includes('baseline window of')), 'the unhealthy window');
    expect(log.alerts()).toContain(`info: the stored baseline of ${live} is from an unhealthy window: not used; establishing a new one`);
    expect(again).toMatch(new RegExp(`^warning: baseline window of ${live} was unhealthy \\(\\d+ down of \\d+ samples\\): not recorded, not marked known-good; observing again$`));
    expect(log.of('baseline')).toEqual([]);
    expect(m.getState().baseline).toBeNull();
    expect(m.getState().phase).toBe('baseline');
    expect(readFileSync(file, 'utf8')).toBe(stale);
    expect(f.marks().known_good).not.toContain(live);
    expect(log.of('rollback')).toEqual([]);
  });

  it('keeps memory bounded: the ring never holds more than its capacity on simulated time', async () => {
    const f = await setup({ releases: [{}, {}], policy: testPolicy({ enabled: false }) });
    let t = Date.now();
    const m = new Monitor(f.handle, {
      engine: f.engine,
      clock: { now: () => t, sleep: async (ms) => void (t += ms) },
    });
    monitors.push(m);
    let samples = 0;
    m.on((e) => {
      if (e.type === 'sample' && ++samples >= m.capacity * 3) m.stop();
    });
    await m.start();
    expect(samples).toBe(m.capacity * 3);
    expect(m.sampleCount).toBe(m.capacity);
  });
});
