/** `monitor --once` through the real CLI entry (in-process, with the monitor's registrar). */
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { BufferWriter } from '../../src/cli/output.js';
import { registerMonitor } from '../../src/cli/commands/monitor.js';
import { makeFixture, startHealthy, writeCliConfig, type Fixture } from './harness.js';

const fixtures: Fixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});

async function runOnce(f: Fixture, json: boolean): Promise<{ code: number; out: string; err: string }> {
  const file = writeCliConfig(f, 1);
  const stdout = new BufferWriter();
  const stderr = new BufferWriter();
  const argv = ['node', 'rollback-tui', 'monitor', '--config', file, '--env', 'test', '--once', ...(json ? ['--json'] : [])];
  const code = await main(argv, { stdout, stderr, env: { PATH: process.env.PATH ?? '' }, cwd: f.layout.root, isTTY: false }, [registerMonitor]);
  return { code, out: stdout.text(), err: stderr.text() };
}

describe('rollback-tui monitor --once', () => {
  it('prints one sample and the trigger states as JSON lines and exits 0 when nothing is breached', async () => {
    const f = await makeFixture({ releases: [{}, {}] });
    fixtures.push(f);
    await startHealthy(f);
    const r = await runOnce(f, true);
    expect(r.code, r.err).toBe(0);
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; state?: { triggers: { name: string; status: string }[]; live: string } });
    expect(events.map((e) => e.type)).toContain('sample');
    const state = events.find((e) => e.type === 'state')?.state;
    expect(state?.live).toBe(f.live());
    expect(state?.triggers.find((t) => t.name === 'health_check')?.status).toMatch(/ok|collecting/);
  });

  it('exits 1 and names the trigger when one is breached (and rolls nothing back)', async () => {
    const f = await makeFixture({ releases: [{}, {}] });
    fixtures.push(f);
    const live = f.live();
    // The service is not running: the health check fails.
    const r = await runOnce(f, false);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/health_check\s+breached\s+1 failed health check in 2\.4s >= 1/);
    expect(r.err).toContain('health_check breached on test (--once never rolls back)');
    // The sample line is what the interruption and emergency hints send the operator to read.
    expect(r.err).toMatch(new RegExp(`test sample: ${live}, DOWN \\(1 failed\\)`));
    expect(f.live()).toBe(live);
  });
});
