/**
 * Against real fixture hosts (a loopback sshd per host in its own mount namespace, its own service):
 * the fixture itself, the fleet pre-check (one round: reachable, target present and valid, lock free;
 * a held lock is exit 3 and wins) and the all-or-nothing fleet lock.
 */
import { existsSync, renameSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig, resolveEnvironment } from '../../src/core/config/load.js';
import { EnvLock, lockOwnerFile } from '../../src/core/engine/lock.js';
import { openEnvironment, singleHostExecutor } from '../../src/core/environment.js';
import { ExitCode, UserError } from '../../src/core/errors.js';
import { createExecutor } from '../../src/core/exec/index.js';
import { SshExecutor } from '../../src/core/exec/ssh.js';
import type { Executor } from '../../src/core/exec/types.js';
import { acquireFleetLock, openFleet, precheckError, precheckFleet, resolveFleet, type FleetHost, type OpenFleet } from '../../src/core/fleet/index.js';
import { describeFleet, startFleetHosts, type FleetHosts } from '../helpers/fleet-hosts.js';

/** A one-shot signal: `fired` resolves once `fire()` was called. */
function signal(): { fire: () => void; fired: Promise<void> } {
  let fire: () => void = () => {};
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return { fire, fired };
}

/** `p`, or a rejection after a generous while (a call that waits for one that never comes). */
function waitOr(p: Promise<void>, why: string): Promise<void> {
  return Promise.race([p, sleep(30_000, undefined, { ref: false }).then(() => Promise.reject(new Error(why)))]);
}

/** `inner`, with `before(n)` awaited before its n-th call (1-based) and each call's start and end in `events`. */
function gated(inner: Executor, before: (n: number) => Promise<void> | void, events: string[] = [], name = ''): Executor {
  let n = 0;
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    events.push(`${name} start`);
    await before(++n);
    try {
      return await fn();
    } finally {
      events.push(`${name} end`);
    }
  };
  return {
    kind: inner.kind,
    description: inner.description,
    script: (script, args, options) => call(() => inner.script(script, args, options)),
    shell: (command, options) => call(() => inner.shell(command, options)),
    close: () => inner.close(),
  };
}

const lockOptions = { operationId: 'op-fleet-test', user: 'tester', version: 'test', staleMinutes: 30 };

describeFleet('fleet fixture hosts and the pre-check', () => {
  let fx: FleetHosts;
  beforeAll(async () => {
    fx = await startFleetHosts({ count: 3, startServices: false });
  });
  afterAll(async () => {
    await fx?.stop();
  });

  async function open(extra: Record<string, unknown> = {}, hosts?: string[], concurrency?: number): Promise<OpenFleet> {
    fx.writeConfig(extra);
    const loaded = await loadConfig({ configPath: fx.configFile });
    const fleet = await resolveFleet(resolveEnvironment(loaded, fx.envName), hosts ? { hosts } : {});
    return openFleet(fleet, concurrency === undefined ? {} : { concurrency });
  }

  async function openGated(executorFor: (h: FleetHost) => Executor): Promise<OpenFleet> {
    fx.writeConfig();
    const loaded = await loadConfig({ configPath: fx.configFile });
    return openFleet(await resolveFleet(resolveEnvironment(loaded, fx.envName)), { executorFor });
  }

  it('each host sees its own files at the same path, and its own service answers on its own address', async () => {
    // Different live releases per host, so each service says whose it is.
    fx.setLive(0, fx.names[2] as string);
    fx.setLive(1, fx.names[1] as string);
    fx.setLive(2, fx.names[0] as string);
    try {
      for (const [i, h] of fx.hosts.entries()) {
        const ex = new SshExecutor(h.executorConfig());
        try {
          const r = await ex.script('cat "$1/backups/$2/host.txt"; readlink "$1/current"', [fx.sharedPath, fx.names[0] as string]);
          expect(r.stdout).toBe(`host-${i + 1}\n${fx.sharedPath}/backups/${fx.names[2 - i]}\n`);
        } finally {
          await ex.close();
        }
        await fx.startService(i);
      }
      expect(await Promise.all([0, 1, 2].map((i) => fx.serviceVersion(i)))).toEqual([fx.names[2], fx.names[1], fx.names[0]]);
      // Nothing answers on plain 127.0.0.1 at that port: every service is bound to its host's address.
      const res = await fetch(`http://127.0.0.1:${fx.servicePort}/health`).catch(() => null);
      expect(res).toBeNull();
    } finally {
      for (let i = 0; i < 3; i++) fx.setLive(i, fx.names[2] as string);
    }
  });

  it('all ready: the newest backup older than live, validated on every host, one round', async () => {
    const open3 = await open();
    try {
      const p = await precheckFleet(open3);
      expect(p).toMatchObject({ ok: true, exitCode: 0, target: fx.names[1] });
      expect(p.hosts.map((h) => [h.name, h.reachable, h.live, h.locked, h.problems])).toEqual(
        fx.hosts.map((h) => [h.name, true, fx.names[2], false, []]),
      );
      expect(p.message).toBe(`fleet: 3 hosts ready for ${fx.names[1]}`);
    } finally {
      await open3.close();
    }
  });

  it('the pre-check asks each host for its backups and its lock side by side', async () => {
    // On every host the first call waits until the second has started: asked one after the other, the
    // host would never answer (the wait gives up and the host fails the pre-check).
    const gate = (): ((n: number) => Promise<void> | void) => {
      const second = signal();
      return (n) => {
        if (n === 2) second.fire();
        if (n === 1) return waitOr(second.fired, 'the second question was not asked while the first was');
      };
    };
    const open3 = await openGated((h) => gated(createExecutor(singleHostExecutor(h.env)), gate()));
    try {
      const p = await precheckFleet(open3);
      expect(p.message).toBe(`fleet: 3 hosts ready for ${fx.names[1]}`);
    } finally {
      await open3.close();
    }
  });

  it('more hosts than the concurrency bound: every host is still checked', async () => {
    const open1 = await open({}, undefined, 1);
    try {
      const p = await precheckFleet(open1);
      expect(p).toMatchObject({ ok: true, target: fx.names[1] });
      expect(p.hosts.map((h) => h.live)).toEqual([fx.names[2], fx.names[2], fx.names[2]]);
    } finally {
      await open1.close();
    }
  });

  it('the target missing on one host: exit 1 naming that host; an unreachable host is named too', async () => {
    const [r1, r2] = fx.names as [string, string];
    fx.removeRelease(2, r2);
    const unreachable = { host: '127.0.0.99', name: 'app-x', identity_file: fx.hosts[0]?.sshd.identityFile };
    const cfg = fx.envConfig();
    const executor = cfg.executor as { hosts: unknown[] };
    const open4 = await open({ executor: { ...executor, hosts: [...executor.hosts, unreachable] } });
    try {
      const p = await precheckFleet(open4, { to: r2 });
      expect(p.exitCode).toBe(1);
      const byName = Object.fromEntries(p.hosts.map((h) => [h.name, h]));
      expect(byName['app-x']).toMatchObject({ reachable: false });
      expect(byName['app-x']?.problems[0]).toMatch(/^unreachable: .*127\.0\.0\.99.*Connection refused/);
      expect(p.message).toContain(`backup "${r2}" is not usable on every host: app-3: not found`);
      expect(p.message).toMatch(/^cannot roll back fleet: app-x: unreachable: .*; nothing was changed$/);
      const err = precheckError(p);
      expect(err.exitCode).toBe(ExitCode.FAILED);
      expect(err.hint).toBe('bring app-x back, or leave it out with --hosts app-1,app-2,app-3');
      // Without --to the default skips what one host lacks: r1 is on every host.
      const open3 = await open();
      try {
        expect(await precheckFleet(open3)).toMatchObject({ ok: true, target: r1 });
      } finally {
        await open3.close();
      }
    } finally {
      await open4.close();
      fx.restoreRelease(2, r2);
    }
  });

  it('a held lock on one host is exit 3 and wins over every other failure, also when every host is on the target', async () => {
    const [, r2, r3] = fx.names as [string, string, string];
    fx.removeRelease(0, r2); // a second failure on another host
    const open3 = await open();
    // A command on one host of the fleet (the same environment on app-2) holds its lock.
    const single = openEnvironment(open3.members[1]!.host.env);
    const held = await EnvLock.acquire(single.state, { ...lockOptions, env: fx.envName, operationId: 'op-single' });
    try {
      const p = await precheckFleet(open3, { to: r2 });
      expect(p.exitCode).toBe(ExitCode.LOCKED);
      expect(p.message).toMatch(/^fleet is locked on app-2: /);
      expect(p.message).toContain('app-1: ');
      const err = precheckError(p);
      expect(err).toBeInstanceOf(UserError);
      expect(err.exitCode).toBe(ExitCode.LOCKED);
      expect(err.code).toBe('LOCK_HELD');
      const onTarget = await precheckFleet(open3, { to: r3 });
      expect(onTarget.hosts.every((h) => h.onTarget)).toBe(true);
      expect(onTarget.exitCode).toBe(ExitCode.LOCKED);
    } finally {
      await held.release();
      await single.close();
      await open3.close();
      fx.restoreRelease(0, r2);
    }
  });

  it('the fleet lock: every host in configuration order, all or nothing', async () => {
    const open3 = await open();
    const ownerFile = (i: number) => path.join(fx.hosts[i]!.dir, 'state', lockOwnerFile(fx.envName));
    try {
      const lock = await acquireFleetLock(open3.members, lockOptions);
      expect([...lock.locks.keys()]).toEqual(['app-1', 'app-2', 'app-3']);
      expect([0, 1, 2].map((i) => existsSync(ownerFile(i)))).toEqual([true, true, true]);
      await lock.release();
      expect([0, 1, 2].map((i) => existsSync(ownerFile(i)))).toEqual([false, false, false]);

      // app-3 held by a one-host command: nothing stays locked, and the error names app-3 (exit 3).
      const single = openEnvironment(open3.members[2]!.host.env);
      const held = await EnvLock.acquire(single.state, { ...lockOptions, env: fx.envName, operationId: 'op-single' });
      try {
        const err = await acquireFleetLock(open3.members, lockOptions).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(UserError);
        expect((err as UserError).exitCode).toBe(ExitCode.LOCKED);
        expect((err as UserError).message).toMatch(/^on app-3: fleet is locked by .*; released the locks already taken on app-1, app-2$/);
        expect([0, 1].map((i) => existsSync(ownerFile(i)))).toEqual([false, false]);
        expect(existsSync(ownerFile(2))).toBe(true);
      } finally {
        await held.release();
        await single.close();
      }
    } finally {
      await open3.close();
    }
  });

  it('the fleet lock in two rounds: the first host alone, then every other host side by side', async () => {
    // Every call on app-2 waits until a call on app-3 has started: taken one host after the other, the
    // lock would never get there (the wait gives up and the lock fails); side by side it goes through.
    const events: string[] = [];
    const app3 = signal();
    const gate = (name: string) => (): Promise<void> | void => {
      if (name === 'app-3') app3.fire();
      if (name === 'app-2') return waitOr(app3.fired, 'app-3 was not asked while app-2 was');
    };
    const open3 = await openGated((h) => gated(createExecutor(singleHostExecutor(h.env)), gate(h.name), events, h.name));
    try {
      const lock = await acquireFleetLock(open3.members, lockOptions);
      expect([...lock.locks.keys()].sort()).toEqual(['app-1', 'app-2', 'app-3']);
      // app-1 was asked and answered before anyone else was asked.
      const firstOther = events.findIndex((e) => !e.startsWith('app-1 '));
      expect(events.slice(0, firstOther).at(-1)).toBe('app-1 end');
      expect(events.slice(firstOther).some((e) => e.startsWith('app-1 '))).toBe(false);
      await lock.release();
    } finally {
      await open3.close();
    }
  });

  it('the fleet lock refused on two hosts: both named, nothing stays locked, exit 3', async () => {
    const open3 = await open();
    const ownerFile = (i: number) => path.join(fx.hosts[i]!.dir, 'state', lockOwnerFile(fx.envName));
    const singles = [1, 2].map((i) => openEnvironment(open3.members[i]!.host.env));
    const held = await Promise.all(singles.map((s, i) => EnvLock.acquire(s.state, { ...lockOptions, env: fx.envName, operationId: `op-single-${i}` })));
    try {
      const err = await acquireFleetLock(open3.members, lockOptions).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(ExitCode.LOCKED);
      expect((err as UserError).message).toMatch(/^on app-2: fleet is locked by .*; on app-3: fleet is locked by .*; released the locks already taken on app-1$/);
      expect(existsSync(ownerFile(0))).toBe(false);
    } finally {
      await Promise.all(held.map((l) => l.release()));
      await Promise.all(singles.map((s) => s.close()));
      await open3.close();
    }
  });

  it('the target invalid on one host (its validate command fails there): exit 1 naming it; an emergency skips validation', async () => {
    const r2 = fx.names[1] as string;
    const releaseJson = path.join(fx.hosts[1]!.dir, 'backups', r2, 'release.json');
    renameSync(releaseJson, `${releaseJson}.off`);
    const open3 = await open({ target: { ...(fx.envConfig().target as object), validate: ['test -f "$ROLLBACK_TARGET_PATH/release.json"'] } });
    try {
      const p = await precheckFleet(open3);
      expect(p.exitCode).toBe(1);
      expect(p.hosts.map((h) => h.problems.length)).toEqual([0, 1, 0]);
      expect(p.message).toMatch(new RegExp(`^cannot roll back fleet: app-2: ${r2}: .*release\\.json`));
      expect(await precheckFleet(open3, { emergency: true })).toMatchObject({ ok: true, target: r2 });
    } finally {
      renameSync(`${releaseJson}.off`, releaseJson);
      await open3.close();
    }
  });

  it('--hosts leaves a host out of the pre-check and the lock', async () => {
    const open2 = await open({}, ['app-1', 'app-3']);
    try {
      const p = await precheckFleet(open2);
      expect(p.hosts.map((h) => h.name)).toEqual(['app-1', 'app-3']);
      expect(p.excluded).toEqual(['app-2']);
      expect(p.message).toBe(`fleet: 2 hosts ready for ${fx.names[1]} (left out by --hosts: app-2)`);
    } finally {
      await open2.close();
    }
  });
});
