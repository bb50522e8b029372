/**
 * `list` and `verify` read the journal and the backups at once (one round trip's latency): after a
 * rollback killed half-way, both still report the interruption on stderr and answer in full.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, pollUntil, type Fixture } from '../engine/fixture.js';

const fixtures: Fixture[] = [];
afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.cleanup();
});

describe('the interrupted-rollback report beside a listing', () => {
  it('after kill -9 at the switch, list and verify report the interruption and still answer', async () => {
    const fx = await makeFixture();
    fixtures.push(fx);
    const [r1, r2, r3] = fx.names as [string, string, string];
    const pause = path.join(fx.layout.root, 'pause-switch');
    const c = fx.spawnCli(['rollback', '--env', fx.envName, '--reason', 'killed', '--yes'], {
      env: { ROLLBACK_TUI_TEST_PAUSE_AT: 'switch', ROLLBACK_TUI_TEST_PAUSE_FILE: pause },
    });
    const closed = new Promise<void>((r) => c.on('close', () => r()));
    await pollUntil(() => existsSync(`${pause}.reached`), 30_000, 'the pause at the switch');
    c.kill('SIGKILL');
    await closed;

    const list = await fx.cli(['list', '--env', fx.envName, '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toContain(`interrupted standard rollback of ${fx.envName} from ${r3} to ${r2} at step switch`);
    const names = (JSON.parse(list.stdout) as { name: string; current: boolean }[]).map((b) => b.name);
    expect(names).toEqual([r3, r2, r1]);

    const verify = await fx.cli(['verify', '--env', fx.envName, '--json']);
    expect(verify.stderr).toContain('interrupted standard rollback');
    expect(JSON.parse(verify.stdout)).toMatchObject({ env: fx.envName, live: r3 });
  }, 60_000);
});
