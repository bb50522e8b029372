/**
 * The monitor rolls a sick container back by itself: v3 answers 500 on its health check, the policy's
 * health_check trigger fires, and the real CLI's monitor switches to v2, which it verifies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pollUntil } from '../engine/fixture.js';
import { makeContainerFixture, podmanAvailable, type ContainerFixture } from './fixture.js';

const fixtures: ContainerFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

(podmanAvailable ? describe : describe.skip)('the monitor and container releases', () => {
  it('rolls a sick container back to the previous one by itself', async () => {
    const fx = await makeContainerFixture({
      releases: [{ version: 'v1' }, { version: 'v2' }, { version: 'v3', mode: 'sick' }],
      policy: {
        monitoring: { check_interval_seconds: 0.2 },
        triggers: { health_check: { enabled: true, failure_count: 2, window_minutes: 0.05 } },
      },
    });
    fixtures.push(fx);
    const m = fx.spawnCli(['monitor', '--env', 'test', '--json']);
    const closed = new Promise<void>((r) => m.on('close', () => r()));
    try {
      await pollUntil(() => fx.history().some((h) => h.kind === 'standard'), 90_000, 'the automatic rollback to be recorded');
    } finally {
      m.kill('SIGTERM');
      await closed;
    }
    const entry = fx.history().find((h) => h.kind === 'standard')!;
    expect(entry, m.out().stderr).toMatchObject({ trigger: 'health_check', from: 'v3', to: 'v2', success: true, verification: 'passed' });
    expect(await fx.running()).toEqual(['v2']);
    expect(await fx.serving()).toBe('v2');
    expect(fx.marks().bad).toEqual(['v3']);
    const events = m.out().stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string });
    expect(events.map((e) => e.type)).toContain('rollback');
  });
});
