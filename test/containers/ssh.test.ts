/**
 * A container rollback over SSH: the loopback sshd (root here, so podman runs through it) with
 * CONTAINERS_CONF set for its sessions. The engine's CLI runs on the "remote" host through the executor.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeSsh, startSshd, type Sshd } from '../helpers/sshd.js';
import { containersConf, makeContainerFixture, podmanAvailable, type ContainerFixture } from './fixture.js';

const describeBoth = podmanAvailable ? describeSsh : (describeSsh.skip as typeof describeSsh);

describeBoth('container releases over SSH', () => {
  let sshd: Sshd | undefined;
  let fx: ContainerFixture | undefined;
  beforeAll(async () => {
    sshd = await startSshd({ sessionEnv: { CONTAINERS_CONF: containersConf() } });
    fx = await makeContainerFixture({ env: { executor: sshd.executorConfig() } });
  });
  afterAll(async () => {
    await fx?.cleanup();
    await sshd?.stop();
  });

  it('lists, rolls back v3 -> v2 and verifies, all over ssh', async () => {
    const f = fx!;
    const list = await f.cli(['list', '--env', 'test', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { name: string; current: boolean }[]).map((b) => `${b.name}${b.current ? '*' : ''}`)).toEqual(['v3*', 'v2', 'v1']);
    const r = await f.cli(['rollback', '--env', 'test', '--reason', 'INC-9 over ssh', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ from: 'v3', to: 'v2', verification: 'passed' });
    expect(await f.running()).toEqual(['v2']);
    expect(await f.serving()).toBe('v2');
    expect(await f.volumeLog()).toEqual(['started v3', 'started v2']);
    expect(f.history()[0]!.initiated_by).toMatch(/@/);
  });
});
