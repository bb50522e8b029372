/**
 * The monitor over the real loopback sshd, then an SSH outage (sshd gone, the master connection
 * closed): checks that run on the target are inconclusive, never failed health checks, so an outage
 * neither rolls back nor escalates; and a breach seen from here while the target's lock cannot be read
 * is not acted on.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openEnvironment, type EnvironmentHandle } from '../../src/core/environment.js';
import { RollbackEngine } from '../../src/core/engine/engine.js';
import type { SshExecutor } from '../../src/core/exec/ssh.js';
import { Monitor } from '../../src/core/monitor/monitor.js';
import { describeSsh, startSshd, type Sshd } from '../helpers/sshd.js';
import { EventLog, makeFixture, startHealthy, testPolicy, waitFor, type Fixture } from './harness.js';

describeSsh('monitor over SSH, then an SSH outage', () => {
  let sshd: Sshd | undefined;
  let f: Fixture | undefined;
  let handle: EnvironmentHandle | undefined;
  let m: Monitor | undefined;
  afterAll(async () => {
    m?.stop();
    await m?.start();
    await handle?.close();
    f?.cleanup();
    await sshd?.stop();
  });

  it('target checks become inconclusive (no rollback, no escalation), and an unreadable lock means no action', async () => {
    sshd = await startSshd();
    f = await makeFixture({
      releases: [{}, {}],
      policy: testPolicy({
        monitoring: { check_interval_seconds: 0.3, baseline_window_minutes: 0.03, consecutive_error_limit: 4 },
        triggers: { health_check: { enabled: true, failure_count: 3, window_minutes: 0.05 } },
      }),
    });
    await startHealthy(f);
    const url = `${f.base}/health`;
    handle = openEnvironment({
      ...f.env,
      executor: sshd.executorConfig(),
      // One check from here (how users reach it), one from the target host through SSH.
      health: [{ http: { url, status: 200, timeout_seconds: 1 } }, { http: { url, status: 200, timeout_seconds: 1, via: 'target' } }],
    });
    const log = new EventLog();
    m = new Monitor(handle, { engine: new RollbackEngine(handle, { version: 'test' }) });
    m.on(log.listener);
    void m.start();
    const live = f.live();
    await waitFor(() => log.of('baseline')[0], 'a baseline over ssh', 90_000);
    expect(m.getState().triggers.find((t) => t.name === 'health_check')?.status).toMatch(/ok|collecting/);

    // The outage: sshd gone, and the multiplexed master connection closed.
    const d = sshd;
    process.kill(Number(readFileSync(path.join(d.dir, 'sshd.pid'), 'utf8').trim()), 'SIGTERM');
    const ssh = handle.executor as SshExecutor;
    execFileSync('ssh', [...ssh.sshArgs(), '-O', 'exit', '--', '127.0.0.1'], { stdio: 'ignore' });
    const health = () => m?.getState().triggers.find((t) => t.name === 'health_check');
    await waitFor(() => health()?.status === 'inconclusive', 'health_check inconclusive', 60_000);
    expect(health()?.explanation).toMatch(/could not run \(health check not run \(http .*: cannot reach /);
    expect(log.of('sample').at(-1)?.sample).toMatchObject({ up: null, health_failures: 0 });
    await waitFor(() => log.alerts().find((a) => a.includes('monitor blind: up inconclusive')), 'the blind alert');
    expect(log.of('rollback')).toEqual([]);
    expect(log.of('escalation')).toEqual([]);

    // Now the service does fail as seen from here: a real breach, but the lock cannot be read.
    await f.control('mode=errors&error_ratio=1');
    await waitFor(() => health()?.status === 'breached', 'health_check breached', 60_000);
    const held = await waitFor(() => log.alerts().find((a) => a.includes('the lock cannot be read')), 'the lock alert', 30_000);
    expect(held).toMatch(/^warning: health_check breached but the lock cannot be read \(cannot reach \S+@127\.0\.0\.1:\d+: Connection refused; .*\): not acting this tick$/);
    const ticks = log.of('sample').length;
    await waitFor(() => log.of('sample').length >= ticks + 4, 'more samples');
    expect(log.alerts().filter((a) => a.includes('the lock cannot be read'))).toHaveLength(1);
    expect(log.of('rollback')).toEqual([]);
    expect(log.of('escalation')).toEqual([]);
    expect(log.alerts().some((a) => a.includes('auto-rollback initiated'))).toBe(false);
    expect(f.live()).toBe(live);
  }, 180_000);
});
