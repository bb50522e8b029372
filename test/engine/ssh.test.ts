/**
 * The same standard rollback through the real loopback sshd: the executor is SSH, so the lock, journal,
 * history, marks, switch and service commands all run on the "remote" host.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeSsh, startSshd, type Sshd } from '../helpers/sshd.js';
import { makeFixture, type Fixture } from './fixture.js';

describeSsh('rollback over loopback SSH', () => {
  let sshd: Sshd;
  let fx: Fixture;
  beforeAll(async () => {
    sshd = await startSshd();
    fx = await makeFixture();
    fx.writeConfig({ executor: sshd.executorConfig() });
  });
  afterAll(async () => {
    await fx?.cleanup();
    await sshd?.stop();
  });

  it('standard rollback, then history and stats, all through ssh', async () => {
    const [, r2, r3] = fx.names as [string, string, string];
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'over ssh', '--yes', '--json'], { env: { SSH_CLIENT: '10.1.2.3 5555 22' } });
    if (r.code !== 0 || process.env.DEBUG_SSH) console.error(r.stderr);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, from: r3, to: r2, verification: 'passed' });
    expect(fx.live()).toBe(r2);
    expect(await fx.serviceVersion()).toBe(r2);
    const h = fx.history()[0]!;
    expect(h).toMatchObject({ success: true, reason: 'over ssh' });
    expect(String(h.initiated_by)).toContain('from 10.1.2.3');
    expect(fx.marks()).toEqual({ known_good: [r2], bad: [r3] });
    const hist = await fx.cli(['history', '--env', 'test', '--json']);
    expect(JSON.parse(hist.stdout)).toHaveLength(1);
    const dry = await fx.cli(['rollback', '--env', 'test', '--dry-run', '--json']);
    expect(JSON.parse(dry.stdout)).toMatchObject({ ok: true, to: fx.names[0] });
  }, 240_000);
});
