/**
 * `rollback-tui monitor --json --hosts app-1,app-2` on a local fleet through the built bin: the hosts
 * left out are said, host events carry the host's name, the services of both selected hosts going down
 * rolls them back (and only them: app-3 was left out and stays), and SIGTERM stops it with exit 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalFleet, type LocalFleet } from '../../src/demo/local-fleet.js';
import { BIN } from '../cli/bin.js';
import { testPolicy, waitFor } from './harness.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('rollback-tui monitor on a fleet', () => {
  it('samples the selected hosts, rolls back those whose health fails together, leaves the others, stops on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-fleetmon-cli-'));
    const now = Date.now();
    const local: LocalFleet = await createLocalFleet({
      dir,
      hosts: 3,
      releases: [
        { created: new Date(now - 86_400_000), release: { version: 'r1', mode: 'healthy' } },
        { created: new Date(now - 600_000), release: { version: 'r2', mode: 'healthy' } },
      ],
    });
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
    expect(finished).toMatchObject({ trigger: 'health_check', outcome: { ok: true, to: r1 } });
    expect(events().find((e) => e.type === 'fleet_rollback' && e.phase === 'started')).toMatchObject({ hosts: ['app-1', 'app-2'], left_out: [] });
    const live = (name: string): string => path.basename(readlinkSync(path.join(dir, 'hosts', name, 'current')));
    expect([live('app-1'), live('app-2'), live('app-3')]).toEqual([r1, r1, r2]);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(events().at(-1)).toMatchObject({ type: 'stopped' });
  }, 120_000);
});
