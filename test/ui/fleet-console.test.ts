/**
 * The console's fleet wiring on a real local fleet: each host's lock as the Hosts panel shows it (a
 * lock held on one host by another operator), and the fleet monitor's state as the header's monitor
 * state (the release most hosts run, the fleet's phase).
 */
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, resolveEnvironment } from '../../src/core/config/load.js';
import { EnvLock } from '../../src/core/engine/lock.js';
import { openFleet, resolveFleet } from '../../src/core/fleet/index.js';
import { twoReleaseFleet } from '../monitor/fleet-harness.js';
import { fleetAsMonitorState, openFleetConsole } from '../../src/ui/fleet-console.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('the console on a fleet', () => {
  it("reads every host's lock (one held by another operator) and sums the fleet up as one monitor state", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-fleet-console-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const local = await twoReleaseFleet(dir);
    const config = path.join(dir, 'rollback-config.yml');
    writeFileSync(config, JSON.stringify({ environments: { web: local.environment } }));
    const env = resolveEnvironment(await loadConfig({ configPath: config }), 'web');
    const opened = await openFleetConsole(env, { version: 'test' }, 'alice@ops-1');
    cleanups.push(() => opened.close());
    expect(await opened.lockOwners()).toEqual({ 'app-1': null, 'app-2': null, 'app-3': null });

    const other = openFleet(await resolveFleet(env, { hosts: ['app-2'] }));
    cleanups.push(() => other.close());
    const lock = await EnvLock.acquire(other.members[0]!.handle.state, { env: 'web', operationId: 'rb-test', operation: 'rollback', user: 'bob', initiatedBy: 'bob@ops-2', version: 'test', staleMinutes: 10 });
    cleanups.push(() => lock.release());
    expect(await opened.lockOwners()).toEqual({ 'app-1': null, 'app-2': 'bob@ops-2 rollback', 'app-3': null });

    await opened.fleet.tick();
    const state = fleetAsMonitorState(opened.fleet.getState());
    expect(state).toMatchObject({ env: 'web', live: local.releases[1], automation: 'armed' });
    expect(opened.handle.env.state_dir).toBe(path.join(realpathSync(dir), 'hosts', 'app-1', 'state'));
  });
});
