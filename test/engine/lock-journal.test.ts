/**
 * Lock contention between two processes, stale locks and --break-lock, SIGTERM during a rollback, and
 * kill -9 at every step (with the test-only pause hook ROLLBACK_TUI_TEST_PAUSE_AT/_FILE), each followed
 * by checks that `current` resolves to the old or the new release and the next command reports it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeFixture, plantStaleLock, pollUntil, type Fixture } from './fixture.js';

const fixtures: Fixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});
async function fixture(...a: Parameters<typeof makeFixture>): Promise<Fixture> {
  const f = await makeFixture(...a);
  fixtures.push(f);
  return f;
}

function pauseEnv(fx: Fixture, step: string): { env: Record<string, string>; file: string } {
  const file = path.join(fx.layout.root, `pause-${step}`);
  return { env: { ROLLBACK_TUI_TEST_PAUSE_AT: step, ROLLBACK_TUI_TEST_PAUSE_FILE: file }, file };
}

/**
 * The monitor's automatic rollback, held at `start` (after the switch): the newest release is down
 * (never listens), so the health trigger breaches at once and the monitor rolls back to r2.
 */
async function monitorHeldAtStart() {
  const fx = await fixture({
    releases: [{}, {}, { mode: 'down' }],
    noStart: true,
    policy: {
      monitoring: { check_interval_seconds: 0.2 },
      triggers: { health_check: { enabled: true, failure_count: 1, window_minutes: 0.005 } },
    },
  });
  const p = pauseEnv(fx, 'start');
  const c = fx.spawnCli(['monitor', '--env', 'test', '--json'], { env: p.env });
  const closed = new Promise<void>((r) => c.on('close', () => r()));
  await pollUntil(() => existsSync(`${p.file}.reached`), 30_000, 'the automatic rollback to reach start');
  return { fx, names: fx.names as [string, string, string], c, closed, release: () => writeFileSync(p.file, '') };
}

describe('lock', () => {
  it('a second rollback while one runs: exit 3 naming the owner; the first then finishes', async () => {
    const fx = await fixture();
    const p = pauseEnv(fx, 'stop');
    const first = fx.spawnCli(['rollback', '--env', 'test', '--reason', 'first', '--yes'], { env: p.env });
    const done = new Promise<number | null>((r) => first.on('close', (code) => r(code)));
    await pollUntil(() => existsSync(`${p.file}.reached`), 20_000, 'the first rollback to hold the lock');
    const second = await fx.cli(['rollback', '--env', 'test', '--reason', 'second', '--yes']);
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(new RegExp(`test is locked by \\S+@${os.hostname()} \\(pid ${first.pid}, rollback op rb-[^)]+\\) since \\d\\d:\\d\\d:\\d\\dZ \\(\\d+ s ago\\)`));
    expect(second.stderr).toContain('try:');
    // a fresh lock is not broken even with --break-lock
    const breaker = await fx.cli(['rollback', '--env', 'test', '--reason', 'second', '--yes', '--break-lock']);
    expect(breaker.code).toBe(3);
    expect(breaker.stderr).toContain('refusing to break it');
    writeFileSync(p.file, '');
    expect(await done).toBe(0);
    expect(fx.history().map((h) => h.reason)).toEqual(['first']);
  });

  it('a stale lock of another host: exit 3 suggesting --break-lock; --break-lock breaks it and records lock_broken with the previous owner', async () => {
    const fx = await fixture();
    plantStaleLock(fx);
    const a = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes']);
    expect(a.code).toBe(3);
    expect(a.stderr).toMatch(/test is locked by alice@bastion \(pid 4242, rollback op rb-old\) since \d\d:\d\d:\d\dZ \(2 h ago\); it is stale/);
    expect(a.stderr).toContain('--break-lock');
    const b = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes', '--break-lock', '--json']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toContain('broke the lock');
    const hist = fx.history();
    expect(hist[0]).toMatchObject({ kind: 'lock_broken' });
    expect(String(hist[0]!.explanation)).toContain('alice@bastion');
    expect(hist[1]).toMatchObject({ kind: 'standard', success: true });
  });
});

describe('signals and crashes', () => {
  // SIGHUP: the operator's SSH session dropped; it must be as safe as SIGTERM.
  it.each(['SIGTERM', 'SIGHUP'] as const)('%s during the rollback finishes the step safely, records the outcome, releases the lock, exits non-zero', async (sig) => {
    const fx = await fixture();
    const [, r2] = fx.names as [string, string, string];
    const p = pauseEnv(fx, 'start');
    const c = fx.spawnCli(['rollback', '--env', 'test', '--reason', 'sig', '--yes', '--json'], { env: p.env });
    const done = new Promise<void>((r) => c.on('close', () => r()));
    await pollUntil(() => existsSync(`${p.file}.reached`), 20_000, 'the pause at start');
    c.kill(sig);
    await pollUntil(() => c.out().stderr.includes(`${sig} received`), 30_000, 'the signal to be seen');
    writeFileSync(p.file, '');
    await done;
    const out = c.out();
    expect(out.code).toBe(1);
    // switched already: the service was started on the new release, never left down
    expect(fx.live()).toBe(r2);
    expect(await fx.serviceVersionOnceUp()).toBe(r2);
    expect(JSON.parse(out.stdout)).toMatchObject({ ok: false, exit_code: 1 });
    expect(out.stderr).toContain(`check the health of ${r2} with \`rollback-tui monitor --env test --once\``);
    expect(fx.history()[0]).toMatchObject({ success: false });
    expect(String(fx.history()[0]!.error)).toContain('interrupted');
    expect(readdirSync(path.join(fx.layout.stateDir, 'locks'))).toEqual([]);
  });

  it('a reader that goes away mid-rollback (rollback | tee, tee killed with the session) never cuts the rollback short', async () => {
    const fx = await fixture();
    const [, r2] = fx.names as [string, string, string];
    const p = pauseEnv(fx, 'stop');
    const c = fx.spawnCli(['rollback', '--env', 'test', '--reason', 'pipe', '--yes'], { env: p.env });
    const done = new Promise<void>((r) => c.on('close', () => r()));
    await pollUntil(() => existsSync(`${p.file}.reached`), 20_000, 'the pause at stop');
    // Close our end of both pipes: the next write gets EPIPE.
    c.stdout!.destroy();
    c.stderr!.destroy();
    writeFileSync(p.file, '');
    await done;
    expect(c.exitCode).toBe(0);
    expect(fx.live()).toBe(r2);
    expect(await fx.serviceVersion()).toBe(r2);
    expect(fx.history()[0]).toMatchObject({ success: true, to: r2 });
    expect(readdirSync(path.join(fx.layout.stateDir, 'locks'))).toEqual([]);
  });

  it('SIGTERM to the monitor during its automatic rollback: the step finishes, the service is left up, the outcome is recorded, the lock released', async () => {
    const { fx, names, c, closed, release } = await monitorHeldAtStart();
    const [, r2] = names;
    expect(fx.live()).toBe(r2);
    c.kill('SIGTERM');
    await pollUntil(() => c.out().stderr.includes('SIGTERM received'), 30_000, 'the signal to be seen');
    release();
    await closed;
    const out = c.out();
    expect(out.signal).toBeNull();
    expect(out.code, out.stderr).toBe(0);
    // switched already: the service was started on the new release, never left down
    expect(fx.live()).toBe(r2);
    expect(await fx.serviceVersionOnceUp()).toBe(r2);
    const auto = fx.history().find((h) => h.trigger !== 'manual' && h.kind !== 'pause' && h.kind !== 'resume');
    expect(auto).toMatchObject({ success: false, to: r2 });
    expect(String(auto!.error)).toContain('interrupted');
    expect(readdirSync(path.join(fx.layout.stateDir, 'locks'))).toEqual([]);
    // The monitor never started a second rollback after the signal.
    expect(fx.history().filter((h) => h.to !== undefined && h.kind !== 'lock_broken')).toHaveLength(1);
  });

  it('kill -9 of the monitor during its automatic rollback: the recovery records it with its trigger and explanation, not as manual', async () => {
    const { fx, names, c, closed } = await monitorHeldAtStart();
    const [r1, r2, r3] = names;
    c.kill('SIGKILL');
    await closed;
    const rec = await fx.cli(['rollback', '--env', 'test', '--reason', 'recover', '--yes', '--break-lock', '--json']);
    expect(rec.code, rec.stderr).toBe(0);
    const interrupted = fx.history().find((h) => h.kind === 'standard' && h.success === false);
    expect(interrupted).toMatchObject({ from: r3, to: r2, trigger: 'health_check' });
    expect(String(interrupted!.explanation ?? '')).not.toBe('');
    expect(String(interrupted!.error)).toContain('interrupted at step start');
    expect(fx.history().find((h) => h.reason === 'recover' && h.kind === 'standard')).toMatchObject({ trigger: 'manual', success: true, to: r1 });
  });

  const steps = ['lock', 'journal', 'validate', 'stop', 'switch', 'start', 'verify', 'mark', 'record', 'notify', 'unlock'];
  it(`kill -9 at every step (${steps.join(', ')}): current resolves to old or new, the next command reports the interruption`, async () => {
    const one = async (step: string) => {
      const fx = await fixture();
      const [, r2, r3] = fx.names as [string, string, string];
      const p = pauseEnv(fx, step);
      const c = fx.spawnCli(['rollback', '--env', 'test', '--reason', `kill at ${step}`, '--yes'], { env: p.env });
      const closed = new Promise<void>((r) => c.on('close', () => r()));
      await pollUntil(() => existsSync(`${p.file}.reached`), 30_000, `the pause at ${step}`);
      c.kill('SIGKILL');
      await closed;
      const live = fx.live();
      // After `start` ran the service is coming up (verify would have waited for it); before, it is
      // either still up on r3 or stopped, and stays so.
      const version = steps.indexOf(step) > steps.indexOf('start') ? await fx.serviceVersionOnceUp() : await fx.serviceVersion();
      const next = await fx.cli(['history', '--env', 'test']);
      // The hint's health check, run as the operator would (the dead process still holds the lock).
      const health = steps.indexOf(step) > steps.indexOf('start') ? await fx.cli(['monitor', '--env', 'test', '--once']) : null;
      const retry = await fx.cli(['rollback', '--env', 'test', '--reason', 'after crash', '--yes']);
      if (step !== 'start') await fx.cleanup();
      return { step, live, version, r2, r3, next, health, retry, fx };
    };
    // A few at a time: each runs a real service and several CLI processes.
    const results: Awaited<ReturnType<typeof one>>[] = [];
    for (let i = 0; i < steps.length; i += 3) results.push(...(await Promise.all(steps.slice(i, i + 3).map(one))));
    // What to do after each kill (the journal knows which steps ran): the service's real state agrees.
    const hints = (r2: string, r3: string): Record<string, { says: string[]; never: string[] }> => {
      const mayBeStopped = { says: [`nothing was switched (${r3} is still live) but the service may be stopped: start it on ${r3} with service.start`], never: ['not stopped'] };
      const started = { says: [`the switch to ${r2} happened and the service was started on it: just check its health with \`rollback-tui monitor --env test --once\``], never: ['run service.start', 'may be down', 'rollback-tui verify'] };
      return {
        validate: { says: [`nothing was switched (${r3} is still live) and the service was not stopped`, `--to ${r2}`], never: ['service.start', 'may be stopped'] },
        stop: mayBeStopped,
        switch: mayBeStopped,
        start: { says: [`the switch to ${r2} happened but the service was being started when the rollback was interrupted: it may be down; run service.start`], never: ['just check'] },
        verify: started,
        mark: started,
        record: started,
      };
    };
    for (const { step, live, version, r2, r3, next, health, retry } of results) {
      expect([r2, r3], step).toContain(live);
      const before = steps.indexOf(step) <= steps.indexOf('switch');
      if (before) expect(live, step).toBe(r3);
      else expect(live, step).toBe(r2);
      const journalled = steps.indexOf(step) > steps.indexOf('journal') && steps.indexOf(step) <= steps.indexOf('record');
      if (journalled) {
        expect(next.stderr, step).toContain(`interrupted standard rollback of test from ${r3} to ${r2} at step ${step}`);
        expect(next.stderr, step).toContain(`live is now ${live}`);
        expect(next.stderr, step).toContain('what to do:');
        const hint = hints(r2, r3)[step]!;
        for (const text of hint.says) expect(next.stderr, step).toContain(text);
        for (const text of hint.never) expect(next.stderr, step).not.toContain(text);
        expect(next.stderr, step).toContain('--break-lock (its lock is still held)');
      } else {
        expect(next.stderr, step).not.toContain('interrupted');
      }
      // the hints match reality: down after stop ran and before start, up on r2 once start ran
      if (['lock', 'journal', 'validate', 'stop'].includes(step)) expect(version, step).toBe(r3);
      if (['switch', 'start'].includes(step)) expect(version, step).toBeNull();
      if (['verify', 'mark', 'record'].includes(step)) expect(version, step).toBe(r2);
      if (health) expect(health.stderr, step).toContain(`test sample: ${r2}, up`);
      if (step === 'lock') {
        expect(retry.code, `${step}: ${retry.stderr}`).toBe(0);
      } else {
        // the dead process's lock: exit 3, it says the process is gone and how to break it
        expect(retry.code, `${step}: ${retry.stderr}`).toBe(3);
        expect(retry.stderr, step).toContain('no longer running');
        expect(retry.stderr, step).toContain('--break-lock');
      }
    }
    // recovery with --break-lock after a kill at `start`: the interrupted rollback is recorded too
    const atStart = results.find((r) => r.step === 'start')!;
    const rec = await atStart.fx.cli(['rollback', '--env', 'test', '--reason', 'recover', '--yes', '--break-lock', '--json']);
    expect(rec.code, rec.stderr).toBe(0);
    expect(rec.stderr).toContain('interrupted standard rollback');
    const kinds = atStart.fx.history().map((h) => `${h.kind}:${h.success}`);
    expect(kinds).toEqual(['standard:false', 'lock_broken:true', 'standard:true']);
    // it went further back: r3 was the interrupted rollback's source and is now bad
    expect(atStart.fx.live()).toBe(atStart.fx.names[0]);
  }, 480_000);
});
