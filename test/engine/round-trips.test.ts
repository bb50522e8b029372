/**
 * Round trips to the host around the switch, through the real loopback sshd: the lock, the journal and
 * the target check are one executor call, and so are the record, the notification and the unlock; each
 * step still has its own status, time and events. Failures inside the one script still end in the step
 * that failed, with the store's own message; a lock found held takes the step-by-step path (who holds
 * it, --break-lock); the journal naming stop and start goes with the service command; kill -9 while the
 * host's script is paused at `validate`, or holds the stop command after the journal, is reported by the
 * next command. Locally: an emergency records no incident report (nothing but what must follow its recovery).
 * The executor's calls are counted on the real executor (its methods wrapped, nothing replaced).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, resolveEnvironment } from '../../src/core/config/load.js';
import { openEnvironment, type EnvironmentHandle } from '../../src/core/environment.js';
import { RollbackEngine } from '../../src/core/engine/engine.js';
import type { EngineEvent } from '../../src/core/engine/types.js';
import { describeSsh, startSshd, type Sshd } from '../helpers/sshd.js';
import { makeFixture, plantStaleLock, pollUntil, stateFiles, type Fixture } from './fixture.js';

const fixtures: Fixture[] = [];
const handles: EnvironmentHandle[] = [];
afterEach(async () => {
  delete process.env.ROLLBACK_TUI_TEST_PAUSE_AT;
  delete process.env.ROLLBACK_TUI_TEST_PAUSE_FILE;
  await Promise.all(handles.splice(0).map((h) => h.close()));
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

async function fixture(envExtra: Record<string, unknown> = {}, sshd?: Sshd): Promise<Fixture> {
  const fx = await makeFixture();
  fixtures.push(fx);
  if (sshd || Object.keys(envExtra).length > 0) fx.writeConfig({ ...(sshd ? { executor: sshd.executorConfig() } : {}), ...envExtra });
  return fx;
}

/** The engine on the fixture, with every executor call counted (script and shell alike). */
async function countedEngine(fx: Fixture): Promise<{ engine: RollbackEngine; calls: () => number }> {
  const handle = openEnvironment(resolveEnvironment(await loadConfig({ configPath: fx.configFile }), 'test'));
  handles.push(handle);
  let n = 0;
  const ex = handle.executor;
  const script = ex.script.bind(ex);
  const shell = ex.shell.bind(ex);
  Object.assign(ex, {
    script: (...a: Parameters<typeof ex.script>) => (n++, script(...a)),
    shell: (...a: Parameters<typeof ex.shell>) => (n++, shell(...a)),
  });
  return { engine: new RollbackEngine(handle), calls: () => n };
}

/** The incident report's reads of the host: the changes between the releases and the log tail (logs.file). */
const INCIDENT_READS = 2;

/** The executor calls made from one step's start to another's end. */
function callsBetween(log: { e: EngineEvent; calls: number }[], first: string, last: string): number {
  const from = log.find((x) => x.e.type === 'step-start' && x.e.step === first);
  const to = log.find((x) => x.e.type === 'step-end' && x.e.step === last);
  if (!from || !to) throw new Error(`no ${first} start or ${last} end among the events`);
  return to.calls - from.calls;
}

describeSsh('over loopback SSH', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('lock, journal and validate are one executor call; record, notify and unlock another; every step has its own status, time and events', async () => {
    const fx = await fixture({}, sshd);
    const [, r2, r3] = fx.names as [string, string, string];
    const { engine, calls } = await countedEngine(fx);
    const log: { e: EngineEvent; calls: number }[] = [];
    const r = await engine.run({ env: 'test', kind: 'standard', reason: 'round trips', trigger: 'manual' }, (e) => log.push({ e, calls: calls() }));
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true, from: r3, to: r2, verification: 'passed' });
    expect(callsBetween(log, 'lock', 'validate')).toBe(1);
    // The journal naming stop (and start) goes with the service command; the start's end is written
    // with the verification's start, which follows at once.
    expect(callsBetween(log, 'stop', 'stop')).toBe(1);
    expect(callsBetween(log, 'start', 'start')).toBe(1);
    // The journal naming the switch goes in the switch's own script.
    expect(callsBetween(log, 'switch', 'switch')).toBe(1);
    // The plan's listing read the marks under the lock: the mark step writes them over in one call.
    expect(callsBetween(log, 'mark', 'mark')).toBe(1);
    // The incident report reads the changes and the log tail (two calls); its write, the history entry,
    // the journal's removal and the unlock are one more.
    expect(callsBetween(log, 'record', 'unlock')).toBe(INCIDENT_READS + 1);
    const steps = Object.fromEntries(r.steps.map((s) => [s.name, s]));
    for (const name of ['lock', 'journal', 'validate', 'record', 'unlock']) {
      expect(steps[name], name).toMatchObject({ status: 'ok' });
      expect(typeof steps[name]!.ms, name).toBe('number');
    }
    expect(steps.notify).toMatchObject({ status: 'skipped', error: 'no notification channels configured' });
    // Events in order, each step started before it ended, and before the next one started.
    const order = log.filter((x) => x.e.type === 'step-start' || x.e.type === 'step-end').map((x) => `${x.e.type === 'step-start' ? '>' : '<'}${(x.e as { step: string }).step}`);
    const pre = order.filter((s) => /^[<>](lock|journal|validate)$/.test(s));
    expect(pre).toEqual(['>lock', '<lock', '>journal', '<journal', '>validate', '<validate']);
    const post = order.filter((s) => /^[<>](record|notify|unlock)$/.test(s));
    expect(post).toEqual(['>record', '<record', '>notify', '<notify', '>unlock', '<unlock']);
    // Everything the record promised is there, and nothing is left behind.
    expect(fx.history()[0]).toMatchObject({ id: r.id, success: true, incident_report: r.incident_report });
    expect(existsSync(String(r.incident_report))).toBe(true);
    expect(fx.marks()).toEqual({ known_good: [r2], bad: [r3] });
    expect(stateFiles(fx).filter((n) => /^(locks|journal)\/./.test(n))).toEqual([]);
  }, 240_000);

  it('a target that fails its check inside the one script: validate fails with the store message, nothing is stopped, the journal and lock go', async () => {
    const fx = await fixture({}, sshd);
    fx.writeConfig({ executor: sshd.executorConfig(), target: { ...fx.layout.symlinkTarget(), config_link: { source: '/nonexistent/rollback-tui-config.json' } } });
    const [, , r3] = fx.names as [string, string, string];
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'bad target', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout) as { steps: { name: string; status: string; error?: string }[]; error: string };
    expect(doc.error).toContain('config_link source /nonexistent/rollback-tui-config.json does not exist');
    const status = Object.fromEntries(doc.steps.map((s) => [s.name, s.status]));
    expect(status).toMatchObject({ lock: 'ok', journal: 'ok', validate: 'failed', stop: 'skipped', switch: 'skipped', record: 'ok', unlock: 'ok' });
    expect(fx.live()).toBe(r3);
    expect(await fx.serviceVersion()).toBe(r3);
    expect(fx.history()[0]).toMatchObject({ success: false });
    expect(stateFiles(fx).filter((n) => /^(locks|journal)\/./.test(n))).toEqual([]);
  }, 240_000);

  it('a lock found held inside the one script: exit 3 naming the owner; --break-lock takes the stale one and records the break', async () => {
    const fx = await fixture({}, sshd);
    plantStaleLock(fx);
    const held = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes']);
    expect(held.code, held.stderr).toBe(3);
    expect(held.stderr).toMatch(/test is locked by alice@bastion \(pid 4242, rollback op rb-old\).*it is stale/);
    expect(stateFiles(fx).filter((n) => n.startsWith('journal/'))).toEqual([]);
    const broke = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes', '--break-lock']);
    expect(broke.code, broke.stderr).toBe(0);
    expect(fx.history().map((h) => h.kind)).toEqual(['lock_broken', 'standard']);
  }, 240_000);

  /** A rollback killed (-9) while the host holds `step`'s own call after the journal's write; the next command's report. */
  async function killWhileHostHolds(fx: Fixture, step: 'stop' | 'switch'): Promise<string> {
    const pause = path.join(fx.layout.root, `pause-${step}`);
    const c = fx.spawnCli(['rollback', '--env', 'test', '--reason', `kill before ${step}`, '--yes'], {
      env: { ROLLBACK_TUI_TEST_PAUSE_AT: step, ROLLBACK_TUI_TEST_PAUSE_FILE: pause },
    });
    const closed = new Promise<void>((r) => c.on('close', () => r()));
    await pollUntil(() => existsSync(`${pause}.reached`), 60_000, `the host to hold the ${step}`);
    c.kill('SIGKILL');
    await closed;
    const next = await fx.cli(['history', '--env', 'test']);
    expect(fx.live()).toBe(fx.names[2]);
    // Released only now: the host's watchdog ends the held script with the connection.
    writeFileSync(pause, '');
    return next.stderr;
  }

  it('kill -9 while the host holds the stop command after the journal: the report says stop and that the service may be stopped', async () => {
    const fx = await fixture({}, sshd);
    const [, r2, r3] = fx.names as [string, string, string];
    const report = await killWhileHostHolds(fx, 'stop');
    expect(report).toContain(`interrupted standard rollback of test from ${r3} to ${r2} at step stop`);
    expect(report).toContain(`nothing was switched (${r3} is still live) but the service may be stopped`);
  }, 240_000);

  it('kill -9 while the host holds the switch after the journal (written by the switch\'s own script): the report says switch', async () => {
    const fx = await fixture({}, sshd);
    const [, r2, r3] = fx.names as [string, string, string];
    const report = await killWhileHostHolds(fx, 'switch');
    expect(report).toContain(`interrupted standard rollback of test from ${r3} to ${r2} at step switch`);
  }, 240_000);

  it('kill -9 while the host script is paused at validate: the journal names validate, the next command reports it', async () => {
    const fx = await fixture({}, sshd);
    const [, r2, r3] = fx.names as [string, string, string];
    const pause = path.join(fx.layout.root, 'pause-validate');
    const c = fx.spawnCli(['rollback', '--env', 'test', '--reason', 'kill in script', '--yes'], {
      env: { ROLLBACK_TUI_TEST_PAUSE_AT: 'validate', ROLLBACK_TUI_TEST_PAUSE_FILE: pause },
    });
    const closed = new Promise<void>((r) => c.on('close', () => r()));
    await pollUntil(() => existsSync(`${pause}.reached`), 60_000, 'the host script to reach validate');
    c.kill('SIGKILL');
    await closed;
    // Let the host's script go on (it only checks the target) and end.
    writeFileSync(pause, '');
    expect(readdirSync(path.join(fx.layout.stateDir, 'locks'))).toEqual(['test.owner.json']);
    const next = await fx.cli(['history', '--env', 'test']);
    expect(next.stderr).toContain(`interrupted standard rollback of test from ${r3} to ${r2} at step validate`);
    expect(next.stderr).toContain(`nothing was switched (${r3} is still live) and the service was not stopped`);
    expect(fx.live()).toBe(r3);
  }, 240_000);
});

describe('locally', () => {
  it('no shell for the state steps: the target check is the only executor call of lock, journal and validate; record, notify and unlock make none but the incident report\'s reads', async () => {
    const fx = await fixture();
    const { engine, calls } = await countedEngine(fx);
    const log: { e: EngineEvent; calls: number }[] = [];
    const r = await engine.run({ env: 'test', kind: 'standard', reason: 'in-process', trigger: 'manual' }, (e) => log.push({ e, calls: calls() }));
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true, verification: 'passed' });
    expect(callsBetween(log, 'lock', 'validate')).toBe(1);
    expect(callsBetween(log, 'record', 'unlock')).toBe(INCIDENT_READS);
    expect(fx.history().at(-1)).toMatchObject({ id: r.id, success: true });
    expect(existsSync(String(fx.history().at(-1)!.incident_report))).toBe(true);
    expect(stateFiles(fx).filter((n) => /^(locks|journal)\/./.test(n))).toEqual([]);
  }, 120_000);

  it('a validate command that runs while the script goes on: the live read after it in the same script is kept, the rollback goes ahead', async () => {
    const fx = await fixture();
    const [, r2, r3] = fx.names as [string, string, string];
    fx.writeConfig({ target: { ...fx.layout.symlinkTarget(), validate: ['test -f "$ROLLBACK_TARGET_PATH/VERSION"'] } });
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'validate command', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, from: r3, to: r2 });
    expect(fx.live()).toBe(r2);
  }, 120_000);

  it('an emergency records the history entry and marks but no incident report; a standard rollback writes one', async () => {
    const fx = await fixture();
    const [r1, r2, r3] = fx.names as [string, string, string];
    const e = await fx.cli(['rollback', '--env', 'test', '--reason', 'site down', '--emergency', '--yes', '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect(fx.history()[0]).toMatchObject({ kind: 'emergency', success: true, to: r2 });
    expect(fx.history()[0]).not.toHaveProperty('incident_report');
    expect(fx.marks().bad).toEqual([r3]);
    expect(stateFiles(fx).filter((n) => /^incidents\/./.test(n))).toEqual([]);
    const s = await fx.cli(['rollback', '--env', 'test', '--reason', 'further', '--yes', '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ kind: 'standard', to: r1 });
    const entry = fx.history().at(-1)!;
    expect(entry).toMatchObject({ kind: 'standard', to: r1 });
    expect(existsSync(String(entry.incident_report))).toBe(true);
    expect(stateFiles(fx).filter((n) => /^incidents\/./.test(n))).toHaveLength(1);
  }, 120_000);
});
