/**
 * kill -9 of a container rollback between the engine's stop of the live container and its start of the
 * target: a `podman` wrapper first on the PATH holds the target's `start` while the test kills the CLI
 * and the wrapper's whole process group (as a power loss would). The next command's report must say
 * what is true: nothing runs, and how to make a release live again; that rollback then works.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pollUntil } from '../engine/fixture.js';
import { makeContainerFixture, podmanAvailable, podmanWrapper, type ContainerFixture } from './fixture.js';

const fixtures: ContainerFixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.cleanup()));
});

function processGroupOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[2]);
}

(podmanAvailable ? describe : describe.skip)('container rollback killed between stop and start', () => {
  it('kill -9 after the live container stopped: the next command reports nothing live and the way out, which works', async () => {
    const fx = await makeContainerFixture();
    fixtures.push(fx);
    const hold = path.join(fx.root, 'hold');
    // Holds `start` until $RTUI_HOLD exists, after writing its pid to $RTUI_HOLD.reached.
    const PATH = podmanWrapper(
      path.join(fx.root, 'bin'),
      `if [ "$1" = start ] && [ ! -e "$RTUI_HOLD.reached" ]; then
  echo $$ > "$RTUI_HOLD.reached"
  while [ ! -e "$RTUI_HOLD" ]; do sleep 0.05; done
fi`,
    );
    const c = fx.spawnCli(['rollback', '--env', 'test', '--reason', 'INC-7', '--yes'], { env: { PATH, RTUI_HOLD: hold } });
    const closed = new Promise<void>((r) => c.on('close', () => r()));
    // The wrapper's `echo $$ >` creates the file before it writes the pid: wait for the whole line.
    const reachedPid = (): number => (existsSync(`${hold}.reached`) ? Number(/^(\d+)\n/.exec(readFileSync(`${hold}.reached`, 'utf8'))?.[1] ?? 0) : 0);
    const wrapperPid = await pollUntil(reachedPid, 60_000, 'the switch to reach the start of the target');
    const group = processGroupOf(wrapperPid);
    c.kill('SIGKILL');
    process.kill(-group, 'SIGKILL');
    await closed;
    expect(await fx.running()).toEqual([]);

    const list = await fx.cli(['list', '--env', 'test']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toContain('interrupted standard rollback of test from v3 to v2 at step switch');
    expect(list.stderr).toContain('live is now nothing recognisable');
    expect(list.stderr).toContain('nothing is live: the switch was interrupted with neither v3 nor v2 running');
    expect(list.stderr).toContain('rollback-tui rollback --env test --to v2 --reason ...` and --break-lock');

    const again = await fx.cli(['rollback', '--env', 'test', '--to', 'v2', '--reason', 'INC-7 finish', '--yes', '--break-lock']);
    expect(again.code, again.stderr).toBe(0);
    expect(await fx.running()).toEqual(['v2']);
    expect(await fx.serving()).toBe('v2');
    const history = fx.history();
    expect(history.map((h) => [h.kind, h.success])).toEqual([
      ['standard', false],
      ['lock_broken', true],
      ['targeted', true],
    ]);
    expect(history[0]!.error).toContain('interrupted at step switch');
  });
});
