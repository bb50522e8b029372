/**
 * The fleet demo's sandbox (`demo --hosts N`) without the console: its configuration loads as a fleet of
 * N hosts with their own ports, every service answers on the sick release, the first host leaks faster,
 * `R` (redeploySick) puts the sick release back on every host and restarts the services, and stop()
 * stops them all and removes the sandbox.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, resolveEnvironment } from '../../src/core/config/load.js';
import { openFleet, resolveFleet } from '../../src/core/fleet/index.js';
import { createFleetDemoSandbox, FIRST_HOST_LEAK_FACTOR, OTHER_HOSTS_LEAK_DELAY_SECONDS } from '../../src/demo/fleet-sandbox.js';
import type { DemoSandbox } from '../../src/demo/sandbox.js';

const sandboxes: DemoSandbox[] = [];
afterEach(async () => {
  for (const s of sandboxes.splice(0)) await s.stop();
});

async function version(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return ((await res.json()) as { version: string }).version;
}

describe('demo --hosts sandbox', () => {
  it('is a fleet of local hosts on the sick release; redeploySick puts it back everywhere; stop() cleans up', async () => {
    const sb = await createFleetDemoSandbox({ hosts: 2, speed: 0.2 });
    sandboxes.push(sb);
    const env = resolveEnvironment(await loadConfig({ configPath: sb.configPath }), 'demo');
    const fleet = openFleet(await resolveFleet(env));
    try {
      expect(fleet.members.map((m) => m.host.name)).toEqual(['app-1', 'app-2']);
      const ports = fleet.members.map((m) => Number(m.host.address.split(':')[1]));
      expect(new Set(ports).size).toBe(2);
      expect(await Promise.all(ports.map(version))).toEqual(['v4', 'v4']);
      const release = (host: string): { leak_percent_per_second: number; leak_after_first_metrics_seconds: number } =>
        JSON.parse(fs.readFileSync(path.join(sb.dir, 'hosts', host, 'releases', sb.sickRelease, 'release.json'), 'utf8'));
      // The first host leaks faster and begins first: it is sick alone for a while (an alert, no rollback).
      expect(release('app-1').leak_percent_per_second).toBeCloseTo(release('app-2').leak_percent_per_second * FIRST_HOST_LEAK_FACTOR);
      expect(release('app-2').leak_after_first_metrics_seconds - release('app-1').leak_after_first_metrics_seconds).toBeCloseTo(OTHER_HOSTS_LEAK_DELAY_SECONDS * 0.2);
      await expect(sb.redeploySick()).rejects.toThrow(/already live on every host/);

      const v3 = sb.releases[2]!.name;
      for (const m of fleet.members) await m.handle.store.switchTo(v3);
      await sb.redeploySick();
      expect(await Promise.all(fleet.members.map((m) => m.handle.store.live()))).toEqual([sb.sickRelease, sb.sickRelease]);
      expect(await Promise.all(ports.map(version))).toEqual(['v4', 'v4']);
      await sb.stop();
      expect(fs.existsSync(sb.dir)).toBe(false);
      const answered = await Promise.all(ports.map((p) => version(p).then(() => true, () => false)));
      expect(answered).toEqual([false, false]);
    } finally {
      await fleet.close();
    }
  });
});
