/**
 * `rollback-tui monitor --json --hosts app-1,app-2` on a local fleet through the built bin: the hosts
 * left out are said, host events carry the host's name, the services of both selected hosts going down
 * rolls them back (and only them: app-3 was left out and stays), and SIGTERM stops it with exit 0.
 * `monitor --once` on a fleet: one round, exit 1 when a trigger holds for the fleet, nothing changed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../cli/bin.js';
import { main } from '../../src/cli/main.js';
import { BufferWriter } from '../../src/cli/output.js';
import { registerMonitor } from '../../src/cli/commands/monitor.js';
import { twoReleaseFleet } from './fleet-harness.js';
import { testPolicy, waitFor } from './harness.js';

const cleanups: Array<() => Promise<void>> = [];
// Last registered first: the monitor process is gone before its services and directory go.
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('rollback-tui monitor on a fleet', () => {
  it('samples the selected hosts, rolls back those whose health fails together, leaves the others, stops on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-fleetmon-cli-'));
    const local = await twoReleaseFleet(dir);
    cleanups.push(async () => {
      await local.stopAll().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    });
    const [r1, r2] = local.releases as [string, string];
    const policy = testPolicy({ triggers: { health_check: { enabled: true, failure_count: 3, window_minutes: 0.04 }, error_rate: { enabled: false } } });
    const config = path.join(dir, 'rollback-config.yml');
    writeFileSync(config, JSON.stringify({ rollback_policy: policy, environments: { web: local.environment } }));
    await local.startAll();

    const child = spawn(process.execPath, [BIN, 'monitor', '--config', config, '--env', 'web', '--hosts', 'app-1,app-2', '--json'], {
      env: { PATH: process.env.PATH ?? '', HOME: dir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    const events = (): Array<Record<string, unknown>> =>
      stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);

    // Both selected hosts sampled and healthy before anything breaks.
    await waitFor(
      () => ['app-1', 'app-2'].every((h) => events().some((e) => e.type === 'host' && e.host === h && (e.event as { type: string }).type === 'sample')),
      () => `samples of app-1 and app-2\n${stderr}`,
    );
    expect(events().some((e) => e.host === 'app-3')).toBe(false);
    expect(stderr).toContain('left out by --hosts: app-3');

    for (const h of local.hosts.slice(0, 2)) await local.control(h.name, 'mode=down');
    const finished = await waitFor(
      () => events().find((e) => e.type === 'fleet_rollback' && e.phase === 'finished'),
      () => `the fleet rollback\n${stderr}\n${stdout.slice(-3000)}`,
    );
    expect(finished, stderr).toMatchObject({ trigger: 'health_check', outcome: { ok: true, to: r1 } });
    expect(events().find((e) => e.type === 'fleet_rollback' && e.phase === 'started')).toMatchObject({ hosts: ['app-1', 'app-2'], left_out: [] });
    const live = (name: string): string => path.basename(readlinkSync(path.join(dir, 'hosts', name, 'current')));
    expect([live('app-1'), live('app-2'), live('app-3')]).toEqual([r1, r1, r2]);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(events().at(-1)).toMatchObject({ type: 'stopped' });
  }, 120_000);

  it('--once on a fleet: one round on every host, exit 1 when a trigger holds for the fleet, nothing rolled back', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-fleetmon-once-'));
    const local = await twoReleaseFleet(dir);
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const config = path.join(dir, 'rollback-config.yml');
    const policy = testPolicy({ triggers: { health_check: { enabled: true, failure_count: 1, window_minutes: 0.04 }, error_rate: { enabled: false } } });
    writeFileSync(config, JSON.stringify({ rollback_policy: policy, environments: { web: local.environment } }));
    // No service runs anywhere: the health check fails on every host.
    const stdout = new BufferWriter();
    const stderr = new BufferWriter();
    const argv = ['node', 'rollback-tui', 'monitor', '--config', config, '--env', 'web', '--once'];
    const code = await main(argv, { stdout, stderr, env: { PATH: process.env.PATH ?? '' }, cwd: dir, isTTY: false }, [registerMonitor]);
    expect(code, stderr.text()).toBe(1);
    expect(stderr.text()).toMatch(/health_check\s+HOLDS\s+3 of 3 hosts breached \(app-1, app-2, app-3\); majority needs 2/);
    expect(stderr.text()).toContain('health_check holds for the fleet web (--once never rolls back)');
    for (const h of local.hosts) expect(path.basename(readlinkSync(path.join(h.dir, 'current')))).toBe(local.releases[1]);
  });
});

