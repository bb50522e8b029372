/**
 * The fleet monitor on a real local fleet of three hosts (each its own demo service, symlink store and
 * state directory): one sick host is an alert naming it and nothing is rolled back; most hosts sick
 * rolls the fleet back through the runner (really: each host ends on the older release, with a
 * history entry of the trigger); an unreachable host is inconclusive, left out of the automatic
 * rollback loudly, and rolled back once it can be reached again on the fled release.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TransportError } from '../../src/core/exec/errors.js';
import { LocalExecutor } from '../../src/core/exec/local.js';
import type { Executor } from '../../src/core/exec/types.js';
import { allWatching, makeFleetFixture, waitFor, type FleetFixture } from './fleet-harness.js';
import { testPolicy } from './harness.js';

const fixtures: FleetFixture[] = [];
afterEach(async () => {
  for (const f of fixtures.splice(0)) {
    await f.cleanup();
    await f.monitor.start();
  }
});

async function setup(opts: Parameters<typeof makeFleetFixture>[0] = {}): Promise<FleetFixture> {
  const f = await makeFleetFixture(opts);
  fixtures.push(f);
  void f.monitor.start();
  await waitFor(() => allWatching(f), 'a baseline on every host');
  return f;
}

describe('fleet monitor', () => {
  it('one sick host of three is an alert naming it, with its value, threshold and baseline; nothing is rolled back', async () => {
    const f = await setup();
    const [r1, r2] = f.local.releases;
    await f.local.control('app-2', 'mode=errors&error_ratio=1');
    const alert = await waitFor(() => f.alerts().find((a) => a.includes('breached on app-2 only')), () => f.alerts().join('\n'));
    expect(alert).toMatch(/^warning: error_rate breached on app-2 only: an alert, not a fleet rollback/);
    expect(alert).toContain('1 of 3 hosts breached (app-2); majority needs 2');
    expect(alert).toMatch(/app-2 on \S+: breached, .*baseline/);
    // More rounds with app-2 still sick: still no fleet rollback.
    const rounds = f.events.filter((e) => e.type === 'fleet_state').length;
    await waitFor(() => f.events.filter((e) => e.type === 'fleet_state').length >= rounds + 10, 'ten more rounds');
    expect(f.requests).toEqual([]);
    expect(f.events.some((e) => e.type === 'fleet_rollback')).toBe(false);
    for (const h of ['app-1', 'app-2', 'app-3']) expect(f.live(h)).toBe(r2);
    expect(r1).not.toBe(r2);
  });

  it('most hosts sick is the release: the fleet rolls back through the runner, every host to the older release', async () => {
    const f = await setup();
    const [r1, r2] = f.local.releases as [string, string];
    for (const h of ['app-1', 'app-3']) await f.local.control(h, 'mode=errors&error_ratio=1');
    const finished = await waitFor(
      () => f.events.find((e) => e.type === 'fleet_rollback' && e.phase === 'finished'),
      () => f.alerts().join('\n'),
    );
    expect(f.requests).toHaveLength(1);
    const req = f.requests[0]!;
    expect(req.hosts).toEqual(['app-1', 'app-2', 'app-3']);
    expect(req.trigger).toBe('error_rate');
    expect(req.expectFrom).toEqual({ 'app-1': r2, 'app-2': r2, 'app-3': r2 });
    expect(req.explanation).toContain('2 of 3 hosts breached (app-1, app-3); majority needs 2');
    expect(req.explanation).toMatch(/app-1 on \S+: breached, .*baseline/);
    expect(req.explanation).toMatch(/app-2 on \S+: ok/);
    if (finished.type !== 'fleet_rollback' || finished.phase !== 'finished') throw new Error('not a finished rollback');
    expect(finished.outcome).toMatchObject({ ok: true, exit_code: 0, to: r1 });
    expect(finished.outcome.hosts.map((h) => [h.name, h.status])).toEqual([
      ['app-1', 'verified'],
      ['app-2', 'verified'],
      ['app-3', 'verified'],
    ]);
    for (const h of ['app-1', 'app-2', 'app-3']) {
      expect(f.live(h)).toBe(r1);
      expect(f.history(h).find((e) => e.kind === 'automatic' || e.trigger === 'error_rate')).toMatchObject({ trigger: 'error_rate', from: r2, to: r1 });
    }
    expect(f.alerts().some((a) => a.startsWith('info: fleet rollback done: app-1 verified on'))).toBe(true);
    // Between started and finished, the progress a console draws its grid from: the plan, then every
    // host's start, grid steps (no output lines) and end, in that order.
    const started = f.events.findIndex((e) => e.type === 'fleet_rollback' && e.phase === 'started');
    const progress = f.events.slice(started, f.events.indexOf(finished));
    expect(progress.find((e) => e.type === 'fleet_rollback_plan')).toMatchObject({ plan: { to: r1, hosts: [{ name: 'app-1', from: r2, status: 'planned' }, { name: 'app-2' }, { name: 'app-3' }] } });
    for (const h of ['app-1', 'app-2', 'app-3']) {
      const own = progress.flatMap((e) => (e.type === 'fleet_rollback_host' && e.host === h ? [e] : []));
      expect(own[0]).toMatchObject({ phase: 'start' });
      expect(own.at(-1)).toMatchObject({ phase: 'end', result: { name: h, status: 'verified', to: r1 } });
      const steps = own.flatMap((e) => (e.phase === 'step' && e.event.type === 'step-end' ? [[e.event.step, e.event.status]] : []));
      expect(steps).toEqual(expect.arrayContaining([['stop', 'ok'], ['switch', 'ok'], ['start', 'ok'], ['verify', 'ok']]));
      expect(own.some((e) => e.phase === 'step' && e.event.type === 'step-output')).toBe(false);
    }
    expect(finished.outcome).toMatchObject({ stopped: null, advice: [] });
    // The state says so at once, not at the next round: rolling back (no countdown) while it runs, watching after.
    expect(f.events.slice(0, started).findLast((e) => e.type === 'fleet_state')).toMatchObject({ state: { phase: 'rolling_back', graceRemainingSeconds: null } });
    expect(f.events.slice(f.events.indexOf(finished)).find((e) => e.type === 'fleet_state')).toMatchObject({ state: { phase: 'watching' } });
    expect(finished.outcome.operation_id).toBe(f.history('app-1').at(-1)?.id);
  });

  it('an unreachable host is inconclusive, left out loudly, and rolled back when it can be reached again on the fled release', async () => {
    let app3Down = false;
    const local = new LocalExecutor();
    const flaky: Executor = {
      kind: 'ssh',
      description: 'deploy@app-3',
      script: (s, a, o) => (app3Down ? Promise.reject(new TransportError('deploy@app-3', 'Connection refused', 'ssh app-3 true')) : local.script(s, a, o)),
      shell: (c, o) => (app3Down ? Promise.reject(new TransportError('deploy@app-3', 'Connection refused', 'ssh app-3 true')) : local.shell(c, o)),
      close: () => local.close(),
    };
    const f = await setup({ executorFor: (h) => (h.name === 'app-3' ? flaky : undefined) });
    const [r1, r2] = f.local.releases as [string, string];
    app3Down = true;
    await waitFor(() => f.monitor.getState().hosts.find((h) => h.name === 'app-3')?.unreachable, 'app-3 seen unreachable');
    // app-3's own service is sick too, but cannot be seen: it is never counted as a breach.
    await f.local.control('app-3', 'mode=errors&error_ratio=1');
    await f.local.control('app-1', 'mode=errors&error_ratio=1');
    const minority = await waitFor(() => f.alerts().find((a) => a.includes('breached on app-1 only')), () => f.alerts().join('\n'));
    expect(minority).toContain('inconclusive (not counted as breached): app-3');
    expect(f.requests).toEqual([]);
    await f.local.control('app-2', 'mode=errors&error_ratio=1');
    await waitFor(() => f.events.find((e) => e.type === 'fleet_rollback' && e.phase === 'finished'), () => f.alerts().join('\n'));
    expect(f.requests[0]?.hosts).toEqual(['app-1', 'app-2']);
    expect(f.alerts().find((a) => a.includes('LEAVES OUT UNREACHABLE HOST app-3'))).toMatch(/^critical: .*as --hosts app-1,app-2 would/);
    expect(f.monitor.getState().converging).toEqual(['app-3']);
    expect(f.live('app-3')).toBe(r2);
    app3Down = false;
    await waitFor(() => f.alerts().find((a) => a.startsWith('info: converging app-3 done')), () => f.alerts().join('\n'));
    expect(f.requests[1]).toMatchObject({ hosts: ['app-3'], to: r1, expectFrom: { 'app-3': r2 } });
    for (const h of ['app-1', 'app-2', 'app-3']) expect(f.live(h)).toBe(r1);
    expect(f.monitor.getState().converging).toEqual([]);
  });

  it('rollback_policy.fleet.breach: any makes one sick host enough to roll the fleet back', async () => {
    const f = await setup({ policy: { ...testPolicy(), fleet: { breach: 'any' } } });
    const [r1] = f.local.releases as [string, string];
    await f.local.control('app-3', 'mode=errors&error_ratio=1');
    await waitFor(() => f.events.find((e) => e.type === 'fleet_rollback' && e.phase === 'finished'), () => f.alerts().join('\n'));
    expect(f.requests[0]?.explanation).toContain('1 of 3 hosts breached (app-3); any needs 1');
    expect(f.alerts().some((a) => a.includes('breached on app-3 only'))).toBe(false);
    for (const h of ['app-1', 'app-2', 'app-3']) expect(f.live(h)).toBe(r1);
  });

  it('two monitors of one fleet: the holder of the monitor lease rolls back once, the other alerts and never acts', async () => {
    const f = await setup({ coordinate: { kind: 'monitor', version: 'test' } });
    const second = f.another({ kind: 'console', version: 'test' });
    const seen: string[] = [];
    second.on((e) => {
      if (e.type === 'alert') seen.push(e.message);
    });
    void second.start();
    await waitFor(() => seen.find((m) => m.startsWith('automation of fleet test is owned by monitor pid')), () => seen.join('\n'));
    const [r1] = f.local.releases as [string, string];
    for (const h of ['app-1', 'app-2']) await f.local.control(h, 'mode=errors&error_ratio=1');
    await waitFor(() => f.events.find((e) => e.type === 'fleet_rollback' && e.phase === 'finished'), () => f.alerts().join('\n'));
    // The second monitor sees the same trigger hold (it samples too) but leaves the rollback to the owner.
    await waitFor(() => second.getState().hosts.every((h) => h.state.live === r1), 'the second monitor to see the rolled-back fleet');
    expect(f.requests).toHaveLength(1);
    expect(seen.some((m) => m.startsWith('automatic fleet rollback'))).toBe(false);
  });
});

