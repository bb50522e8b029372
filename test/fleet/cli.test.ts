/**
 * `list` and `verify` on a fleet through the built CLI, over real fixture hosts: per-host answers with
 * a fleet summary (present_on, current_on), drift, a held lock (exit 3), an unreachable host, --hosts.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig, resolveEnvironment } from '../../src/core/config/load.js';
import { EnvLock } from '../../src/core/engine/lock.js';
import { openEnvironment } from '../../src/core/environment.js';
import { resolveFleet } from '../../src/core/fleet/index.js';
import type { FleetListJsonEntry, FleetVerifyJson } from '../../src/cli/actions/fleet-view.js';
import { describeFleet, startFleetHosts, type FleetHosts } from '../helpers/fleet-hosts.js';

describeFleet('list and verify on a fleet (the real CLI)', () => {
  let fx: FleetHosts;
  beforeAll(async () => {
    fx = await startFleetHosts({ count: 3, startServices: false });
    fx.writeConfig();
  });
  afterAll(async () => {
    await fx?.stop();
  });
  const r1 = () => fx.names[0] as string;
  const r2 = () => fx.names[1] as string;
  const r3 = () => fx.names[2] as string;

  it('list --json: every backup with the hosts it is on and live on; current when live everywhere', async () => {
    const run = await fx.cli(['list', '--env', 'fleet', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const all = ['app-1', 'app-2', 'app-3'];
    const entries = JSON.parse(run.stdout) as FleetListJsonEntry[];
    expect(entries.map((e) => [e.name, e.present_on, e.current_on, e.current, e.bad])).toEqual([
      [r3(), all, all, true, false],
      [r2(), all, [], false, false],
      [r1(), all, [], false, false],
    ]);
    expect(Object.keys(entries[0] ?? {})).toEqual(expect.arrayContaining(['name', 'created', 'size_bytes', 'current', 'known_good', 'bad']));
  });

  it('drift: list shows where each release is live; verify needs --to and shows each host\'s live release', async () => {
    fx.setLive(1, r2());
    try {
      const list = await fx.cli(['list', '--env', 'fleet', '--json']);
      const entries = JSON.parse(list.stdout) as FleetListJsonEntry[];
      expect(entries.map((e) => [e.name, e.current_on, e.current])).toEqual([
        [r3(), ['app-1', 'app-3'], false],
        [r2(), ['app-2'], false],
        [r1(), [], false],
      ]);
      const text = await fx.cli(['list', '--env', 'fleet']);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain(`app-1: live ${r3()} · app-2: live ${r2()} · app-3: live ${r3()}`);
      expect(text.stdout).toMatch(new RegExp(`◐ +${r3()} .* 3/3 +app-1,app-3`));

      const verify = await fx.cli(['verify', '--env', 'fleet', '--json']);
      expect(verify.code).toBe(1);
      const doc = JSON.parse(verify.stdout) as FleetVerifyJson;
      expect(doc).toMatchObject({ ok: false, target: null, live: null, exit_code: 1 });
      expect(doc.reason).toBe(
        `cannot roll back fleet: the hosts run different releases (app-1, app-3 on ${r3()}; app-2 on ${r2()}): there is no default target; name the release every host goes to with --to; nothing was changed`,
      );
      const plain = await fx.cli(['verify', '--env', 'fleet']);
      expect(plain.code).toBe(1);
      expect(plain.stderr).toContain('try: pass --to NAME (a release from `rollback-tui list --env fleet`)');
    } finally {
      fx.setLive(1, r3());
    }
  });

  it('verify: exit 0 naming the one target and each host', async () => {
    const run = await fx.cli(['verify', '--env', 'fleet']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`✓ fleet can be rolled back to ${r2()} on app-1 (from ${r3()}), app-2 (from ${r3()}), app-3 (from ${r3()})\n`);
    const json = JSON.parse((await fx.cli(['verify', '--env', 'fleet', '--json'])).stdout) as FleetVerifyJson;
    expect(json).toMatchObject({ ok: true, target: r2(), live: r3(), reason: null, excluded: [], exit_code: 0 });
    expect(json.hosts.map((h) => [h.name, h.ok, h.locked])).toEqual([
      ['app-1', true, false],
      ['app-2', true, false],
      ['app-3', true, false],
    ]);
  });

  it('verify: a lock held on one host by a one-host command is exit 3 naming the host', async () => {
    const loaded = await loadConfig({ configPath: fx.configFile });
    const fleet = await resolveFleet(resolveEnvironment(loaded, 'fleet'), { hosts: ['app-2'] });
    const handle = openEnvironment(fleet.hosts[0]!.env);
    const lock = await EnvLock.acquire(handle.state, { env: 'fleet', operationId: 'op-one-host', user: 'alice', version: 't', staleMinutes: 30 });
    try {
      const run = await fx.cli(['verify', '--env', 'fleet', '--json']);
      expect(run.code).toBe(3);
      const doc = JSON.parse(run.stdout) as FleetVerifyJson;
      expect(doc.hosts.map((h) => h.locked)).toEqual([false, true, false]);
      expect(doc.reason).toMatch(/^fleet is locked on app-2: app-2: fleet is locked by .*op-one-host/);
      const plain = await fx.cli(['verify', '--env', 'fleet']);
      expect(plain.code).toBe(3);
      // Left out with --hosts, the other two can be rolled back.
      const others = await fx.cli(['verify', '--env', 'fleet', '--hosts', 'app-1,app-3']);
      expect(others.code).toBe(0);
      expect(others.stdout).toContain('left out by --hosts: app-2');
    } finally {
      await lock.release();
      await handle.close();
    }
  });

  it('an unreachable host: list shows the others and exits 1; verify names it', async () => {
    const cfg = fx.envConfig();
    const executor = cfg.executor as { hosts: unknown[] };
    fx.writeConfig({ executor: { ...executor, hosts: [...executor.hosts, { host: '127.0.0.99', name: 'app-x', identity_file: fx.hosts[0]!.sshd.identityFile }] } });
    try {
      const list = await fx.cli(['list', '--env', 'fleet', '--json']);
      expect(list.code).toBe(1);
      expect((JSON.parse(list.stdout) as FleetListJsonEntry[])[0]?.present_on).toEqual(['app-1', 'app-2', 'app-3']);
      expect(list.stderr).toMatch(/app-x: unreachable: .*Connection refused/);
      const verify = await fx.cli(['verify', '--env', 'fleet']);
      expect(verify.code).toBe(1);
      expect(verify.stderr).toMatch(/✗ cannot roll back fleet: app-x: unreachable: .*; nothing was changed\n {2}try: bring app-x back, or leave it out with --hosts app-1,app-2,app-3\n/);
      const without = await fx.cli(['verify', '--env', 'fleet', '--hosts', 'app-1,app-2,app-3']);
      expect(without.code).toBe(0);
    } finally {
      fx.writeConfig();
    }
  });

  it('--hosts with an unknown name is a usage error listing the hosts; on a one-host environment too', async () => {
    const run = await fx.cli(['list', '--env', 'fleet', '--hosts', 'app-1,app-7']);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('unknown host "app-7" in --hosts; the hosts of fleet are: app-1, app-2, app-3');
    fx.writeConfig({}, { single: { executor: fx.hosts[0]!.executorConfig(), target: { strategy: 'symlink', backups_dir: `${fx.sharedPath}/backups`, current: `${fx.sharedPath}/current` } } });
    try {
      const single = await fx.cli(['verify', '--env', 'single', '--hosts', 'app-1']);
      expect(single.code).toBe(64);
      expect(single.stderr).toContain('--hosts works on a fleet, and environment single has one host');
      const plain = await fx.cli(['list', '--env', 'single', '--json']);
      expect(plain.code).toBe(0);
      expect((JSON.parse(plain.stdout) as Array<Record<string, unknown>>)[0]).not.toHaveProperty('present_on');
    } finally {
      fx.writeConfig();
    }
  });
});
