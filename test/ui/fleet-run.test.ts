/**
 * The console's fleet rollback on a real local fleet (three directories, each with its own symlink
 * store, state directory and demo service on its own port): the preview is the fleet's plan (per host
 * from -> to, the rollout's batches), a held lock on one host is exit 3 naming it and changes nothing, a
 * live release that moved after the confirmation refuses the run, and the controller driven by keys
 * (r, a reason, the environment's name) rolls every host back, each with its own history entry under one
 * operation id, with the grid's steps and each host's result in the console's state.
 */
import { mkdtempSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, resolveEnvironment } from '../../src/core/config/load.js';
import { EnvLock } from '../../src/core/engine/lock.js';
import { openFleet, resolveFleet } from '../../src/core/fleet/index.js';
import type { LocalFleet } from '../../src/demo/local-fleet.js';
import { ConsoleController } from '../../src/ui/controller.js';
import { openFleetConsole, type OpenedFleetConsole } from '../../src/ui/fleet-console.js';
import { FleetRunRefused, type FleetRunListener } from '../../src/ui/fleet-run.js';
import { twoReleaseFleet } from '../monitor/fleet-harness.js';
import { testPolicy, waitFor } from '../monitor/harness.js';
import { staticMonitor } from './fixtures.js';
import { historyUnder } from '../demo/e2e-helpers.js';
import type { HistoryEntry } from '../../src/core/engine/types.js';
import { fleetAsMonitorState } from '../../src/ui/fleet-console.js';

interface Opened {
  dir: string;
  local: LocalFleet;
  opened: OpenedFleetConsole;
  live(name: string): string;
  history(name: string): HistoryEntry[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openLocalFleet(rollout: Record<string, unknown>): Promise<Opened> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-fleet-run-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const local = await twoReleaseFleet(dir);
  const config = path.join(dir, 'rollback-config.yml');
  writeFileSync(config, JSON.stringify({ rollback_policy: testPolicy(), environments: { web: { ...local.environment, rollout, confirm: 'type-name' } } }));
  await local.startAll();
  cleanups.push(() => local.stopAll().catch(() => undefined));
  const env = resolveEnvironment(await loadConfig({ configPath: config }), 'web');
  const opened = await openFleetConsole(env, { version: 'test' }, 'alice@ops-1');
  cleanups.push(() => opened.close());
  const hostDir = (name: string): string => path.join(dir, 'hosts', name);
  return {
    dir,
    local,
    opened,
    live: (name) => path.basename(readlinkSync(path.join(hostDir(name), 'current'))),
    history: (name) => historyUnder(hostDir(name)),
  };
}

const HOSTS = ['app-1', 'app-2', 'app-3'];

describe("the console's fleet rollback on a real local fleet", () => {
  it('previews the plan, refuses when a host is locked (exit 3, naming it) or when live moved after the confirmation, and changes nothing then', async () => {
    const f = await openLocalFleet({ order: 'serial', max_failures: 0 });
    const [r1, r2] = f.local.releases as [string, string];
    const preview = await f.opened.runner.plan({ kind: 'standard' });
    expect(preview.exitCode).toBe(0);
    expect(preview.plan).toMatchObject({ to: r1, batches: [['app-1'], ['app-2'], ['app-3']], settings: { order: 'serial', batch: 1, maxFailures: 0 } });
    expect(preview.plan?.hosts.map((h) => [h.name, h.from, h.to, h.status])).toEqual(HOSTS.map((n) => [n, r2, r1, 'planned']));

    // The dry run is the plan again: every host planned, nothing changed.
    const none: FleetRunListener = { hostStart: () => undefined, event: () => undefined, hostEnd: () => undefined, note: () => undefined };
    const dry = await f.opened.runner.run({ kind: 'standard', reason: 'dry run from the console', dryRun: true, confirmed: preview.plan! }, none);
    expect(dry).toMatchObject({ ok: true, exitCode: 0, dryRun: true, to: r1, operationId: null });
    expect(dry.hosts.map((h) => h.status)).toEqual(['planned', 'planned', 'planned']);
    expect(HOSTS.map(f.live)).toEqual([r2, r2, r2]);

    // Another operator holds app-2's lock: the preview names the host and the owner, exit 3.
    const other = openFleet(await resolveFleet(await loadEnv(f), { hosts: ['app-2'] }));
    cleanups.push(() => other.close());
    const lock = await EnvLock.acquire(other.members[0]!.handle.state, { env: 'web', operationId: 'rb-other', operation: 'rollback', user: 'bob', initiatedBy: 'bob@ops-2', version: 'test', staleMinutes: 10 });
    const locked = await f.opened.runner.plan({ kind: 'standard' });
    expect(locked).toMatchObject({ plan: null, exitCode: 3, code: 'LOCK_HELD' });
    expect(locked.hosts.find((h) => h.name === 'app-2')?.problems.join(' ')).toContain('bob@ops-2');
    expect(locked.hosts.filter((h) => h.problems.length > 0).map((h) => h.name)).toEqual(['app-2']);
    // Confirmed while free, locked before it runs: refused with exit 3, nothing changed.
    const events: string[] = [];
    const listener: FleetRunListener = {
      hostStart: (n) => events.push(`start ${n}`),
      event: () => undefined,
      hostEnd: (r) => events.push(`end ${r.name}`),
      note: (_l, t) => events.push(t),
    };
    const confirmed = preview.plan!;
    const refused = await f.opened.runner.run({ kind: 'standard', reason: 'bad deploy', dryRun: false, confirmed }, listener).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FleetRunRefused);
    expect(refused).toMatchObject({ exitCode: 3 });
    await lock.release();

    // app-3 moved (to r1) after the confirmation: what was confirmed is not what would run. Standard:
    // the hosts now drift, and the fleet has no default target; targeted to r1: app-3 moved.
    const targeted = (await f.opened.runner.plan({ kind: 'targeted', to: r1 })).plan!;
    const current = path.join(f.dir, 'hosts', 'app-3', 'current');
    unlinkSync(current);
    symlinkSync(path.join(f.dir, 'hosts', 'app-3', 'releases', r1), current);
    const drift = await f.opened.runner.run({ kind: 'standard', reason: 'bad deploy', dryRun: false, confirmed }, listener).catch((e: unknown) => e);
    expect(drift).toBeInstanceOf(FleetRunRefused);
    expect((drift as Error).message).toContain('different releases');
    expect((await f.opened.runner.plan({ kind: 'standard' })).code).toBe('DRIFT');
    const moved = await f.opened.runner.run({ kind: 'targeted', to: r1, reason: 'bad deploy', dryRun: false, confirmed: targeted }, listener).catch((e: unknown) => e);
    expect(moved).toBeInstanceOf(FleetRunRefused);
    expect((moved as Error).message).toContain(`the plan changed since you confirmed: live moved on app-3 (now ${r1})`);
    expect(events).toEqual([]);
    expect(HOSTS.map(f.live)).toEqual([r2, r2, r1]);
    for (const h of HOSTS) expect(f.history(h)).toEqual([]);
  }, 120_000);

  it('r, a reason and the environment name roll every host back: the grid follows each host, each host has its history entry under one operation id', async () => {
    const f = await openLocalFleet({ order: 'parallel', batch: 2 });
    const [r1, r2] = f.local.releases as [string, string];
    const o = f.opened;
    await o.fleet.tick();
    const controller = new ConsoleController({
      env: o.handle.env,
      handle: o.handle,
      engine: o.engine,
      monitor: staticMonitor(fleetAsMonitorState(o.fleet.getState())),
      actor: 'alice@ops-1',
      fleet: o.runner,
      lockPollMs: 60_000,
    });
    cleanups.push(async () => controller.stop());
    controller.dispatch({ type: 'fleet/state', state: o.fleet.getState() });
    controller.start();
    const key = (input: string, k: Record<string, boolean> = {}): void => controller.handleKey({ input, key: k });
    key('r');
    const dialog = await waitFor(() => {
      const d = controller.getState().dialog;
      return d?.type === 'rollback' && d.stage === 'reason' ? d : null;
    }, 'the fleet preview', 60_000);
    expect(dialog.fleet?.plan?.batches).toEqual([['app-1', 'app-2'], ['app-3']]);
    key('bad deploy');
    key('', { return: true });
    key('web');
    key('', { return: true });
    const run = await waitFor(() => {
      const r = controller.getState().fleetRun;
      return r?.finishedAt ? r : null;
    }, 'the fleet rollback to finish', 120_000);
    expect(run.error).toBeNull();
    expect(run.outcome).toMatchObject({ ok: true, exitCode: 0, to: r1, stopped: null });
    expect(run.hosts.map((h) => [h.name, h.status, h.batch])).toEqual([
      ['app-1', 'verified', 0],
      ['app-2', 'verified', 0],
      ['app-3', 'verified', 1],
    ]);
    for (const h of run.hosts) expect(h.cells).toEqual({ stop: 'ok', switch: 'ok', start: 'ok', verify: 'ok' });
    expect(HOSTS.map(f.live)).toEqual([r1, r1, r1]);
    const entries = HOSTS.map((h) => f.history(h).at(-1));
    entries.forEach((e, i) => expect(e).toMatchObject({ host: HOSTS[i], from: r2, to: r1, success: true, reason: 'bad deploy', trigger: 'manual' }));
    expect(new Set(entries.map((e) => e?.id)).size).toBe(1);
    expect(controller.getState().events.map((e) => e.text)).toContain(`fleet rollback finished (exit 0): app-1 verified on ${r1} · app-2 verified on ${r1} · app-3 verified on ${r1}`);
  }, 180_000);
});

async function loadEnv(f: Opened) {
  return resolveEnvironment(await loadConfig({ configPath: path.join(f.dir, 'rollback-config.yml') }), 'web');
}
