import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Monitor } from '../../src/core/monitor/monitor.js';
import { RingBuffer } from '../../src/core/monitor/ring.js';
import { EventLog, makeFixture, startHealthy, testPolicy, waitFor, type Fixture } from './harness.js';

const fixtures: Fixture[] = [];
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

function monitorFor(f: Fixture, log: EventLog): Monitor {
  const m = new Monitor(f.handle, { engine: f.engine });
  m.on(log.listener);
  monitors.push(m);
  return m;
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

  it('rolls back automatically on an error spike: current is the previous release, history says error_rate', async () => {
    const f = await setup({ releases: [{}, {}, {}] });
    const [, previous, bad] = f.layout.names as [string, string, string];
    const log = new EventLog();
    const m = monitorFor(f, log);
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
    // Afterwards the restored release gets its own baseline.
    const restored = await waitFor(() => log.of('baseline').find((b) => b.baseline.release === previous), 'baseline of the restored release');
    expect(restored.baseline.healthy).toBe(true);
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
    // Escalated: it acts no more.
    const count = log.of('rollback').length;
    const ticks = log.of('sample').length;
    await waitFor(() => log.of('sample').length >= ticks + 5, 'more samples');
    expect(log.of('rollback').length).toBe(count);
  });

  it('enabled: false monitors and alerts but never rolls back', async () => {
    const f = await setup({ releases: [{}, {}], policy: testPolicy({ enabled: false }) });
    const live = f.live();
    const log = new EventLog();
    const m = monitorFor(f, log);
    void m.start();
    await waitFor(() => log.of('baseline')[0], 'a baseline');
    expect(m.getState().automation).toBe('disabled');
    await f.control('mode=errors&error_ratio=1');
    const breach = await waitFor(() => log.of('trigger').find((t) => t.trigger.status === 'breached'), 'a breach');
    expect(breach.trigger.name).toBe('error_rate');
    const ticks = log.of('sample').length;
    await waitFor(() => log.of('sample').length >= ticks + 5, 'more samples');
    expect(log.of('rollback')).toEqual([]);
    expect(f.live()).toBe(live);
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
    const f = await setup({ releases: [{}, {}], policy: testPolicy({ rollback: { grace_seconds: 3, health_check_timeout_seconds: 1.5, stability_seconds: 0.2, poll_interval_seconds: 0.05 } }) });
    const live = f.live();
    const log = new EventLog();
    const m = monitorFor(f, log);
    void m.start();
    await waitFor(() => log.of('baseline')[0], 'a baseline');
    await f.control('mode=errors&error_ratio=1');
    const grace = await waitFor(() => log.of('grace')[0], 'the grace countdown');
    expect(grace.remainingSeconds).toBe(3);
    expect(m.getState().graceRemainingSeconds).toBe(3);
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
