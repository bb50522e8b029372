/**
 * `expectFrom` (what the monitor passes after its grace countdown): the engine never rolls back a
 * release that replaced the one the rollback was decided on. Checked when planning and again under the
 * lock (the pause hook holds the run just before the lock while "an operator" switches `current`).
 * In-process engine against the real symlink store and demo service of the fixture.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, resolveEnvironment } from '../../src/core/config/load.js';
import { openEnvironment, type EnvironmentHandle } from '../../src/core/environment.js';
import { RollbackEngine } from '../../src/core/engine/engine.js';
import type { RollbackRequest } from '../../src/core/engine/types.js';
import { makeFixture, pollUntil, stateFiles, type Fixture } from './fixture.js';

let fx: Fixture | undefined;
let handle: EnvironmentHandle | undefined;
afterEach(async () => {
  delete process.env.ROLLBACK_TUI_TEST_PAUSE_AT;
  delete process.env.ROLLBACK_TUI_TEST_PAUSE_FILE;
  await handle?.close();
  await fx?.cleanup();
  fx = undefined;
  handle = undefined;
});

async function setup(): Promise<{ fx: Fixture; engine: RollbackEngine; names: [string, string, string] }> {
  fx = await makeFixture();
  handle = openEnvironment(resolveEnvironment(await loadConfig({ configPath: fx.configFile }), 'test'));
  return { fx, engine: new RollbackEngine(handle), names: fx.names as [string, string, string] };
}

const auto = (expectFrom: string): RollbackRequest => ({
  env: 'test',
  kind: 'standard',
  reason: 'auto-rollback: health_check breached',
  trigger: 'health_check',
  explanation: '3 failed probes in 5 min',
  expectFrom,
});

/** Nothing happened: same release live, service up, no history, no lock, no journal, no marks. */
async function expectNothingDone(f: Fixture, live: string): Promise<void> {
  expect(f.live()).toBe(live);
  expect(await f.serviceVersion()).not.toBeNull();
  expect(f.history()).toEqual([]);
  expect(f.marks()).toEqual({ known_good: [], bad: [] });
  expect(stateFiles(f).filter((n) => /^(locks|journal|incidents)\/./.test(n))).toEqual([]);
}

describe('expectFrom', () => {
  it('refuses when the live release is not the one the rollback was decided on (exit 1, nothing done)', async () => {
    const { fx: f, engine, names } = await setup();
    const [, r2, r3] = names;
    const r = await engine.run(auto(r2));
    expect(r).toMatchObject({ ok: false, exit_code: 1, code: 'LIVE_CHANGED', steps: [] });
    expect(r.error).toBe(`test: live changed from ${r2} to ${r3} since the decision to roll back; nothing was done`);
    await expectNothingDone(f, r3);
  });

  it('refuses when an operator switches the release between planning and the lock; the lock is released', async () => {
    const { fx: f, engine, names } = await setup();
    const [r1, , r3] = names;
    const pause = path.join(f.layout.root, 'pause-lock');
    process.env.ROLLBACK_TUI_TEST_PAUSE_AT = 'lock';
    process.env.ROLLBACK_TUI_TEST_PAUSE_FILE = pause;
    const running = engine.run(auto(r3));
    await pollUntil(() => existsSync(`${pause}.reached`), 20_000, 'the run to reach the lock');
    // The plan was made against r3 (its target is r2); the operator puts r1 live meanwhile.
    f.layout.pointCurrentAt(r1);
    writeFileSync(pause, '');
    const r = await running;
    expect(r).toMatchObject({ ok: false, exit_code: 1, code: 'LIVE_CHANGED', from: r1 });
    expect(r.error).toBe(`test: live changed from ${r3} to ${r1} since the decision to roll back; nothing was done`);
    expect(r.steps.find((s) => s.name === 'lock')).toMatchObject({ status: 'ok' });
    expect(r.steps.find((s) => s.name === 'unlock')).toMatchObject({ status: 'ok' });
    expect(r.steps.filter((s) => s.status === 'ok').map((s) => s.name)).toEqual(['lock', 'unlock']);
    await expectNothingDone(f, r1);
    expect(readdirSync(path.join(f.layout.stateDir, 'locks'))).toEqual([]);
  });

  it('runs normally when the live release is still the expected one, recording the trigger', async () => {
    const { fx: f, engine, names } = await setup();
    const [, r2, r3] = names;
    const r = await engine.run(auto(r3));
    expect(r).toMatchObject({ ok: true, exit_code: 0, from: r3, to: r2, verification: 'passed' });
    expect(f.live()).toBe(r2);
    expect(f.history()[0]).toMatchObject({ trigger: 'health_check', explanation: '3 failed probes in 5 min', success: true });
  });
});
