/**
 * The fleet monitor's automatic rollback in the console, on a real local fleet (three directories, each
 * with its own symlink store, state directory and demo service on its own port) watched by the
 * console's own fleet monitor: when most hosts get sick, the console shows the same host x step grid as
 * a rollback started by hand, marked [auto] with the trigger, then one result line per host until Esc;
 * quitting while it runs asks first, and a confirmed quit waits until the rollback has stopped safely
 * (every lock released) before the console exits.
 */
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, resolveEnvironment } from '../../src/core/config/load.js';
import type { LocalFleet } from '../../src/demo/local-fleet.js';
import { ConsoleController } from '../../src/ui/controller.js';
import { autoRunAction, feed, openFleetConsole, type OpenedFleetConsole } from '../../src/ui/fleet-console.js';
import type { AppState } from '../../src/ui/state/types.js';
import { reducer } from '../../src/ui/state/reducer.js';
import { idleHost, rolloutSettings, type FleetHostResult, type FleetPlan } from '../../src/core/fleet/index.js';
import type { FleetMonitorEvent, FleetMonitorState } from '../../src/core/monitor/fleet-monitor.js';
import { dashboardState, monitorState, NOW } from './fixtures.js';
import { twoReleaseFleet } from '../monitor/fleet-harness.js';
import { testPolicy, waitFor } from '../monitor/harness.js';
import { historyUnder } from '../demo/e2e-helpers.js';
import { monochromeFrame } from './render.js';

const HOSTS = ['app-1', 'app-2', 'app-3'];

interface Console {
  dir: string;
  local: LocalFleet;
  opened: OpenedFleetConsole;
  controller: ConsoleController;
  /** Every state the controller had, in order. */
  states: AppState[];
  live(name: string): string;
  key(input: string, k?: Record<string, boolean>): void;
  /** The screen so far, for a failed wait: the last frame and the events pane. */
  context(): string;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A real local fleet, its config, and the console on it (the console's fleet monitor started, fed into the controller). */
async function openConsole(rollout: Record<string, unknown>): Promise<Console> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-fleet-auto-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const local = await twoReleaseFleet(dir);
  const config = path.join(dir, 'rollback-config.yml');
  writeFileSync(config, JSON.stringify({ rollback_policy: testPolicy(), environments: { web: { ...local.environment, rollout } } }));
  await local.startAll();
  cleanups.push(() => local.stopAll().catch(() => undefined));
  const env = resolveEnvironment(await loadConfig({ configPath: config }), 'web');
  const opened = await openFleetConsole(env, { version: 'test' }, 'alice@ops-1');
  cleanups.push(() => opened.close());
  const controller = new ConsoleController({ env: opened.handle.env, handle: opened.handle, engine: opened.engine, monitor: opened.monitor, actor: 'alice@ops-1', fleet: opened.runner, lockPollMs: 60_000 });
  const states: AppState[] = [];
  controller.subscribe(() => states.push(controller.getState()));
  const unfeed = feed(opened, controller);
  cleanups.push(async () => {
    controller.stop();
    unfeed();
    await opened.monitor.start();
  });
  controller.start();
  const context = (): string => {
    const s = controller.getState();
    return `frame:\n${monochromeFrame(s, 100, 30)}\nevents:\n${s.events.map((e) => `  ${e.level} ${e.text}`).join('\n')}`;
  };
  await waitFor(() => opened.fleet.getState().hosts.every((h) => h.state.baseline !== null && h.state.phase === 'watching'), () => `a baseline on every host\n${context()}`, 120_000);
  return {
    dir,
    local,
    opened,
    controller,
    states,
    live: (name) => path.basename(readlinkSync(path.join(dir, 'hosts', name, 'current'))),
    key: (input, k = {}) => controller.handleKey({ input, key: k }),
    context,
  };
}

describe("the fleet monitor's automatic rollback in the console", () => {
  it('most hosts sick: the grid follows every host, marked [auto], then one result line per host until Esc', async () => {
    const c = await openConsole({ order: 'parallel', batch: 2 });
    const [r1, r2] = c.local.releases as [string, string];
    for (const h of ['app-1', 'app-3']) await c.local.control(h, 'mode=errors&error_ratio=1');

    const done = await waitFor(
      () => {
        const r = c.controller.getState().fleetRun;
        return r?.finishedAt ? r : null;
      },
      () => `the automatic fleet rollback's result\n${c.context()}`,
      180_000,
    );
    expect(done.auto).toMatchObject({ trigger: 'error_rate', leftOut: [] });
    expect(done.error).toBeNull();
    expect(done.outcome).toMatchObject({ ok: true, exitCode: 0, to: r1, stopped: null, advice: [] });
    expect(done.hosts.map((h) => [h.name, h.status, h.batch])).toEqual([
      ['app-1', 'verified', 0],
      ['app-2', 'verified', 0],
      ['app-3', 'verified', 1],
    ]);
    for (const h of done.hosts) expect(h.cells).toEqual({ stop: 'ok', switch: 'ok', start: 'ok', verify: 'ok' });
    expect(HOSTS.map(c.live)).toEqual([r1, r1, r1]);
    for (const h of HOSTS) expect(historyUnder(path.join(c.dir, 'hosts', h)).at(-1)).toMatchObject({ trigger: 'error_rate', from: r2, to: r1, success: true });

    // While it ran, the grid was on screen: the plan's target and batches, a host at work.
    const running = c.states.filter((s) => s.fleetRun?.auto && s.fleetRun.finishedAt === null);
    const atWork = running.find((s) => s.fleetRun?.to === r1 && s.fleetRun.hosts.some((h) => h.running));
    expect(atWork, c.context()).toBeDefined();
    const grid = monochromeFrame(atWork!, 100, 30);
    expect(grid).toContain(`FLEET [auto] error_rate: standard rollback of 3 hosts -> ${r1}`);
    expect(grid).toMatch(/HOST +stop +switch +start +verify +STATUS/);
    expect(grid).toMatch(/app-1 .*running/);
    // The same run from its start to its end (one rollback, not several).
    expect(new Set(running.map((s) => s.fleetRun?.startedAt)).size).toBe(1);

    // The result: the headline and one line per host, as for a rollback started here.
    const result = monochromeFrame(c.controller.getState(), 100, 30);
    expect(result).toContain(`✓ [auto] Fleet rolled back to ${r1}: 3 verified of 3.`);
    for (const h of HOSTS) expect(result).toContain(`${h} verified on ${r1}`);
    expect(result).toContain('Esc dismisses');
    // Each host's end is in the events pane; the monitor's own finished line is there once.
    const events = c.controller.getState().events.map((e) => e.text);
    for (const h of HOSTS) expect(events).toContain(`${h} verified on ${r1}`);
    expect(events.filter((t) => t.startsWith('fleet rollback finished'))).toEqual([]);
    await waitFor(() => c.controller.getState().events.some((e) => e.text.startsWith('FLEET ROLLBACK finished (exit 0)')), () => c.context());

    c.key('', { escape: true });
    expect(c.controller.getState().fleetRun).toBeNull();
  }, 300_000);

  it('quitting during the automatic rollback asks first; confirmed, the console exits once the rollback has stopped and every lock is free', async () => {
    // Serial: the rollback is still going on the later hosts when q is pressed.
    const c = await openConsole({ order: 'serial' });
    let asked = false;
    let exited = false;
    let phaseAtExit: string | null = null;
    // Asked as soon as the grid shows: q opens the question (nothing quits yet), y confirms.
    const off = c.controller.subscribe(() => {
      const s = c.controller.getState();
      if (asked || !s.fleetRun?.auto || s.fleetRun.finishedAt !== null || !s.fleetRun.hosts.some((h) => h.running)) return;
      asked = true;
      c.key('q');
      expect(c.controller.getState().dialog).toEqual({ type: 'quit' });
      expect(c.controller.getState().quitting).toBe(false);
      c.key('y');
    });
    void c.controller.waitForExit().then(() => {
      exited = true;
      phaseAtExit = c.opened.fleet.getState().phase;
    });
    for (const h of ['app-1', 'app-2']) await c.local.control(h, 'mode=errors&error_ratio=1');
    await waitFor(() => exited, () => `the console to exit after q, y during the automatic rollback (asked: ${asked})\n${c.context()}`, 180_000);
    off();
    expect(asked).toBe(true);
    // The fleet monitor had stopped (its rollback with it) when the console exited.
    expect(phaseAtExit).toBe('stopped');
    const run = c.controller.getState().fleetRun;
    expect(run?.finishedAt, c.context()).not.toBeNull();
    expect(run?.outcome?.stopped ?? run?.error, c.context()).toBeTruthy();
    expect(await c.opened.lockOwners()).toEqual({ 'app-1': null, 'app-2': null, 'app-3': null });
    expect(c.controller.getState().events.map((e) => e.text)).toContain('quitting: waiting for the automatic fleet rollback to stop safely…');
  }, 300_000);
});

describe('an automatic fleet rollback as the grid sees it', () => {
  const LIVE = 'backup_20261124_110000';
  const OLD = 'backup_20261123_090000';
  const fleetState = (): FleetMonitorState => ({
    env: 'prod',
    breach: 'majority',
    phase: 'rolling_back',
    automation: 'armed',
    hosts: ['app-1', 'app-2', 'app-3'].map((name) => ({ name, unreachable: name === 'app-3' ? 'Connection refused' : null, state: monitorState({ live: LIVE }) })),
    triggers: [],
    converging: [],
    graceRemainingSeconds: null,
  });
  /** Each monitor event through the feed's mapping and the reducer, as the console applies them. */
  const applyAll = (s: AppState, events: FleetMonitorEvent[]): AppState =>
    events.reduce((x, e) => {
      const a = autoRunAction(e, x, NOW);
      return a ? reducer(x, a) : x;
    }, s);
  const started: FleetMonitorEvent = { type: 'fleet_rollback', env: 'prod', phase: 'started', trigger: 'memory', hosts: ['app-1', 'app-2'], left_out: ['app-3'], to: null, explanation: 'memory: 2 of 3 hosts breached' };

  it('an unreachable host left out is a row of its own and said in the result; a refused rollback says why, marked [auto]', () => {
    const base = reducer(dashboardState(), { type: 'fleet/state', state: fleetState() });
    const settings = rolloutSettings({ order: 'parallel', max_failures: 0, pause_seconds: 0 }, 2);
    const plan: FleetPlan = { env: 'prod', to: OLD, hosts: ['app-1', 'app-2'].map((n) => idleHost(n, LIVE, OLD, 'planned')), batches: [['app-1', 'app-2']], settings, warnings: [] };
    const verified = (name: string): FleetHostResult => ({ ...idleHost(name, LIVE, OLD, 'verified'), verification: 'passed' });
    const s = applyAll(base, [
      started,
      { type: 'fleet_rollback_plan', env: 'prod', plan },
      { type: 'fleet_rollback_host', env: 'prod', host: 'app-1', phase: 'start', batch: 0 },
      { type: 'fleet_rollback_host', env: 'prod', host: 'app-1', phase: 'end', result: verified('app-1') },
      { type: 'fleet_rollback_host', env: 'prod', host: 'app-2', phase: 'start', batch: 0 },
      { type: 'fleet_rollback_host', env: 'prod', host: 'app-2', phase: 'end', result: verified('app-2') },
      { type: 'fleet_rollback', env: 'prod', phase: 'finished', trigger: 'memory', outcome: { ok: true, exit_code: 0, to: OLD, hosts: [verified('app-1'), verified('app-2')], stopped: null, advice: [] } },
    ]);
    expect(s.fleetRun?.hosts.map((h) => [h.name, h.status])).toEqual([
      ['app-1', 'verified'],
      ['app-2', 'verified'],
      ['app-3', 'excluded'],
    ]);
    const frame = monochromeFrame(s, 100, 30);
    expect(frame).toContain(`✓ [auto] Fleet rolled back to ${OLD}: 2 verified of 2.`);
    expect(frame).toContain(`app-3 left out on ${LIVE}`);
    expect(frame).toContain('app-3 was unreachable and left out: the monitor rolls it back once reachable again');

    // Refused before any change (a lock held on a host): the headline says why, nothing else is claimed.
    const refused = applyAll(base, [
      started,
      { type: 'fleet_rollback', env: 'prod', phase: 'finished', trigger: 'memory', outcome: { ok: false, exit_code: 3, to: OLD, hosts: [], error: 'prod: the lock is held on app-2 by bob@ops-2' } },
    ]);
    expect(monochromeFrame(refused, 100, 30)).toContain('✗ [auto] Fleet rollback not done: prod: the lock is held on app-2 by bob@ops-2');
  });

  it("a rollback the operator started here keeps the screen: the monitor's, refused by its locks, does not replace it", () => {
    const settings = rolloutSettings({ order: 'parallel', max_failures: 0, pause_seconds: 0 }, 3);
    const plan: FleetPlan = { env: 'prod', to: OLD, hosts: ['app-1', 'app-2', 'app-3'].map((n) => idleHost(n, LIVE, OLD, 'planned')), batches: [['app-1', 'app-2', 'app-3']], settings, warnings: [] };
    const manual = reducer(reducer(dashboardState(), { type: 'fleet/state', state: fleetState() }), { type: 'fleetRun/started', kind: 'standard', dryRun: false, plan, at: NOW });
    const after = applyAll(manual, [started, { type: 'fleet_rollback', env: 'prod', phase: 'finished', trigger: 'memory', outcome: { ok: false, exit_code: 3, to: null, hosts: [], error: 'locked' } }]);
    expect(after.fleetRun).toBe(manual.fleetRun);
    expect(after.fleetRun?.auto).toBeNull();
  });
});
