/**
 * `rollback` on a fleet through the built CLI, over three real fixture hosts (an sshd and a demo
 * service per loopback address): parallel, serial with a host failing verification, a failing canary,
 * a target missing on one host, drift, an unreachable host, a one-host command's lock (exit 3), and a
 * kill -9 in the middle followed by a re-run that converges. History and stats merge the hosts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { FleetRollbackJson } from '../../src/cli/actions/fleet-rollback.js';
import type { FleetSnapshotJson } from '../../src/cli/actions/fleet-snapshot.js';
import { loadConfig, resolveEnvironment } from '../../src/core/config/load.js';
import { EnvLock } from '../../src/core/engine/lock.js';
import type { HistoryEntry } from '../../src/core/engine/types.js';
import { openEnvironment } from '../../src/core/environment.js';
import { shQuote } from '../../src/core/exec/quote.js';
import { resolveFleet } from '../../src/core/fleet/index.js';
import { bin, pollUntil, serviceJs, sh } from '../engine/fixture.js';
import { hasTmux, killTmux, tmuxOn } from '../helpers/tmux.js';
import { describeFleet, startFleetHosts, type FleetHosts } from '../helpers/fleet-hosts.js';

describeFleet('rollback on a fleet (the real CLI, three real hosts)', () => {
  let fx: FleetHosts;
  const r1 = () => fx.names[0] as string;
  const r2 = () => fx.names[1] as string;
  const r3 = () => fx.names[2] as string;
  const lives = () => fx.hosts.map((_, i) => fx.live(i));
  const statuses = (doc: FleetRollbackJson) => doc.hosts.map((h) => [h.name, h.status]);
  const rollback = async (...args: string[]) => {
    const run = await fx.cli(['rollback', '--env', 'fleet', '--reason', 'INC-7 5xx', '--yes', '--json', ...args]);
    return { ...run, doc: JSON.parse(run.stdout) as FleetRollbackJson };
  };
  /** A release that starts and answers /health with 500 on host i. */
  const makeSick = (i: number, name: string) =>
    writeFileSync(path.join(fx.hosts[i]!.dir, 'backups', name, 'release.json'), JSON.stringify({ version: name, mode: 'errors', error_ratio: 1 }));
  const makeHealthy = (i: number, name: string) =>
    writeFileSync(path.join(fx.hosts[i]!.dir, 'backups', name, 'release.json'), JSON.stringify({ version: name }));

  beforeAll(async () => {
    fx = await startFleetHosts({ count: 3 });
    fx.writeConfig();
  });
  afterAll(async () => {
    await fx?.stop();
  });
  /** Every host back on r3, healthy, running, with no lock, journal, history or marks. */
  beforeEach(async () => {
    fx.writeConfig();
    for (let i = 0; i < fx.hosts.length; i++) {
      const dir = fx.hosts[i]!.dir;
      for (const n of fx.names) makeHealthy(i, n);
      rmSync(path.join(dir, 'state'), { recursive: true, force: true });
      if (fx.live(i) === r3() && (await fx.serviceVersion(i)) === r3()) continue;
      fx.setLive(i, r3());
      await new Promise<void>((r) => spawn(process.execPath, [serviceJs, '--stop', '--pid-file', path.join(dir, 'service.pid')], { stdio: 'ignore' }).on('close', () => r()));
      await fx.startService(i);
    }
  });

  it('round trips: each host costs a bounded number of ssh calls (pre-check, lock, steps, record, unlock)', async () => {
    // An `ssh` first on PATH that notes each call's arguments, then runs the real one.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-ssh-count-'));
    const calls = path.join(dir, 'calls');
    const real = execFileSync('sh', ['-c', 'command -v ssh'], { encoding: 'utf8' }).trim();
    writeFileSync(path.join(dir, 'ssh'), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${shQuote(calls)}\nexec ${shQuote(real)} "$@"\n`, { mode: 0o755 });
    try {
      const counted = await fx.cli(['rollback', '--env', 'fleet', '--to', r2(), '--reason', 'round trips', '--yes', '--json'], { PATH: `${dir}:${process.env.PATH ?? ''}` });
      expect(counted.code, counted.stderr).toBe(0);
      const lines = readFileSync(calls, 'utf8').trim().split('\n');
      for (const h of fx.hosts) {
        // Remote commands only (`... -- HOST sh -s ...`): not the master's start (-f -N) or exit (-O).
        const remote = lines.filter((l) => l.includes(` -- ${h.address} sh -s`));
        // 5 for the pre-check and the lock, 1 plan, 1 journal + validate, 1 each for stop, switch (with
        // its journal), start, verify's journal, mark's journal, mark, record's journal, the incident
        // report's changes, the record, the unlock: 17.
        expect(remote.length, `${h.name}:\n${remote.join('\n')}`).toBeLessThanOrEqual(17);
        expect(remote.length, `${h.name}: the wrapper saw its calls`).toBeGreaterThanOrEqual(10);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parallel: every host verified on the one target, one operation id, history and stats merged', async () => {
    const run = await rollback();
    expect(run.code).toBe(0);
    expect(run.doc).toMatchObject({ ok: true, env: 'fleet', kind: 'standard', dry_run: false, from: r3(), to: r2(), verification: 'passed', exit_code: 0 });
    expect(statuses(run.doc)).toEqual([
      ['app-1', 'verified'],
      ['app-2', 'verified'],
      ['app-3', 'verified'],
    ]);
    expect(lives()).toEqual([r2(), r2(), r2()]);
    expect(await Promise.all([0, 1, 2].map((i) => fx.serviceVersion(i)))).toEqual([r2(), r2(), r2()]);
    expect(run.stderr).toContain(`app-1 verified on ${r2()} · app-2 verified on ${r2()} · app-3 verified on ${r2()}`);

    const history = await fx.cli(['history', '--env', 'fleet', '--json']);
    expect(history.code).toBe(0);
    const entries = (JSON.parse(history.stdout) as HistoryEntry[]).filter((e) => e.id === run.doc.operation_id);
    expect(entries.map((e) => e.host).sort()).toEqual(['app-1', 'app-2', 'app-3']);
    expect(entries.every((e) => e.success && e.from === r3() && e.to === r2())).toBe(true);
    const stats = JSON.parse((await fx.cli(['stats', '--env', 'fleet', '--json'])).stdout) as { total: number; succeeded: number };
    expect(stats).toMatchObject({ total: 1, succeeded: 1 });

    // The same command again converges: every host already on the target and healthy is skipped.
    const again = await rollback('--to', r2());
    expect(again.code).toBe(0);
    expect(statuses(again.doc)).toEqual([
      ['app-1', 'skipped'],
      ['app-2', 'skipped'],
      ['app-3', 'skipped'],
    ]);
  });

  it('serial with one host failing verification and max_failures 0: the rest untouched, exit 1', async () => {
    fx.writeConfig({ rollout: { order: 'serial', max_failures: 0 } });
    makeSick(1, r2());
    const run = await rollback();
    expect(run.code).toBe(1);
    expect(run.doc.ok).toBe(false);
    expect(statuses(run.doc)).toEqual([
      ['app-1', 'verified'],
      ['app-2', 'verify_failed'],
      ['app-3', 'untouched'],
    ]);
    expect(lives()).toEqual([r2(), r2(), r3()]);
    expect(run.doc.hosts[1]?.error).toMatch(/verification failed/);
    // How to go either way.
    expect(run.stderr).toContain(`to finish: rollback-tui rollback --env fleet --to ${r2()}`);
    expect(run.stderr).toContain(`to undo instead: rollback-tui rollback --env fleet --hosts app-1,app-2 --to ${r3()}`);
    expect(run.stderr).toContain(`app-2 verification failed: on ${r2()}, not healthy within 5s`);

    // The same command while app-2 still answers 500: app-1 is skipped, app-2 is verified again (not
    // restarted: its service answers) and fails again, app-3 stays untouched.
    const still = await rollback('--to', r2());
    expect(still.code).toBe(1);
    expect(statuses(still.doc)).toEqual([
      ['app-1', 'skipped'],
      ['app-2', 'verify_failed'],
      ['app-3', 'untouched'],
    ]);
    expect(still.doc.hosts[1]?.steps.find((st) => st.name === 'start')?.status).toBe('skipped');
    // app-2 fixed: the same command finishes the job.
    await fetch(`http://${fx.hosts[1]!.address}:${fx.servicePort}/control?mode=healthy`);
    const fixed = await rollback('--to', r2());
    expect(fixed.code).toBe(0);
    expect(statuses(fixed.doc)).toEqual([
      ['app-1', 'skipped'],
      ['app-2', 'skipped'],
      ['app-3', 'verified'],
    ]);
    expect(lives()).toEqual([r2(), r2(), r2()]);
  });

  it('canary failing: nothing else is touched', async () => {
    fx.writeConfig({ rollout: { order: 'canary', max_failures: 2 } });
    makeSick(0, r2());
    const run = await rollback();
    expect(run.code).toBe(1);
    expect(statuses(run.doc)).toEqual([
      ['app-1', 'verify_failed'],
      ['app-2', 'untouched'],
      ['app-3', 'untouched'],
    ]);
    expect(lives()).toEqual([r2(), r3(), r3()]);
    expect(run.stderr).toContain('the canary failed');
  });

  it('emergency on some hosts: switched without verification is done (exit 0); the hosts left out are excluded', async () => {
    const run = await rollback('--emergency', '--hosts', 'app-1,app-3');
    expect(run.code).toBe(0);
    expect(run.doc).toMatchObject({ ok: true, kind: 'emergency', to: r2() });
    expect(run.doc.hosts.map((h) => [h.name, h.status, h.verification])).toEqual([
      ['app-1', 'switched', 'skipped'],
      ['app-3', 'switched', 'skipped'],
      ['app-2', 'excluded', 'skipped'],
    ]);
    expect(lives()).toEqual([r2(), r3(), r2()]);
  });

  it('the target missing on one host: nothing changes anywhere, exit 1 naming the host', async () => {
    fx.removeRelease(2, r2());
    try {
      const run = await rollback('--to', r2());
      expect(run.code).toBe(1);
      expect(run.doc.error).toMatch(/app-3: .*nothing was changed/);
      expect(statuses(run.doc)).toEqual([
        ['app-1', 'untouched'],
        ['app-2', 'untouched'],
        ['app-3', 'untouched'],
      ]);
      expect(lives()).toEqual([r3(), r3(), r3()]);
    } finally {
      fx.restoreRelease(2, r2());
    }
  });

  it('drift: --to is required, and with it the hosts go to the one named release', async () => {
    fx.setLive(1, r2());
    const run = await rollback();
    expect(run.code).toBe(1);
    expect(run.doc.code).toBe('DRIFT');
    expect(lives()).toEqual([r3(), r2(), r3()]);
    const dry = await rollback('--to', r1(), '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.doc.hosts.map((h) => [h.name, h.status, h.from, h.to])).toEqual([
      ['app-1', 'planned', r3(), r1()],
      ['app-2', 'planned', r2(), r1()],
      ['app-3', 'planned', r3(), r1()],
    ]);
    expect(lives()).toEqual([r3(), r2(), r3()]);
  });

  it('an unreachable host: nothing changes; --hosts leaves it out and the others roll back', async () => {
    const cfg = fx.envConfig();
    const executor = cfg.executor as { hosts: unknown[] };
    fx.writeConfig({ executor: { ...executor, hosts: [...executor.hosts, { host: '127.0.0.99', name: 'app-x', identity_file: fx.hosts[0]!.sshd.identityFile }] } });
    const run = await rollback();
    expect(run.code).toBe(1);
    expect(run.doc.hosts.find((h) => h.name === 'app-x')?.status).toBe('unreachable');
    expect(run.doc.error).toMatch(/app-x: unreachable/);
    expect(lives()).toEqual([r3(), r3(), r3()]);
    const without = await rollback('--hosts', 'app-1,app-2,app-3');
    expect(without.code).toBe(0);
    expect(statuses(without.doc)).toEqual([
      ['app-1', 'verified'],
      ['app-2', 'verified'],
      ['app-3', 'verified'],
      ['app-x', 'excluded'],
    ]);
  });

  it('a one-host command holding one host\'s lock: the fleet rollback exits 3 and changes nothing', async () => {
    const loaded = await loadConfig({ configPath: fx.configFile });
    const fleet = await resolveFleet(resolveEnvironment(loaded, 'fleet'), { hosts: ['app-3'] });
    const handle = openEnvironment(fleet.hosts[0]!.env);
    const lock = await EnvLock.acquire(handle.state, { env: 'fleet', operationId: 'op-one-host', user: 'alice', version: 't', staleMinutes: 30 });
    try {
      const run = await rollback();
      expect(run.code).toBe(3);
      expect(run.doc.error).toMatch(/fleet is locked on app-3/);
      expect(lives()).toEqual([r3(), r3(), r3()]);
      // --break-lock breaks only a stale lock or one whose process is gone: this one is live (this test's).
      const breaking = await rollback('--break-lock');
      expect(breaking.code).toBe(3);
      expect(lives()).toEqual([r3(), r3(), r3()]);
      // No other host kept a lock of the refused fleet command.
      const others = await fx.cli(['verify', '--env', 'fleet', '--hosts', 'app-1,app-2']);
      expect(others.code).toBe(0);
    } finally {
      await lock.release();
      await handle.close();
    }
  });

  it.skipIf(!hasTmux)('on a terminal: the plan per host, one prompt for the fleet, then the host x step grid redrawn in place', async () => {
    const socket = `rtui-fleet-${process.pid}`;
    const tmux = tmuxOn(socket);
    const exitFile = path.join(os.tmpdir(), `rtui-fleet-exit-${process.pid}`);
    rmSync(exitFile, { force: true });
    try {
      const cmd = `${sh(process.execPath)} ${sh(bin)} --config ${sh(fx.configFile)} rollback --env fleet --reason 'typed at the prompt'; echo $? > ${sh(exitFile)}`;
      tmux('new-session', '-d', '-x', '160', '-y', '50', '-s', 'fleet', cmd);
      tmux('set-option', '-t', 'fleet', 'remain-on-exit', 'on');
      const prompt = `Roll back fleet app-1, app-2, app-3 from ${r3()} to ${r2()}? [y/N]`;
      const before = await pollUntil(() => tmux('capture-pane', '-p', '-t', 'fleet').includes(prompt) && tmux('capture-pane', '-p', '-t', 'fleet'), 30_000, 'the prompt');
      expect(before).toContain(`app-2  ${r3()} -> ${r2()}`);
      expect(before).toContain('batch 1: app-1, app-2, app-3');
      tmux('send-keys', '-t', 'fleet', '-l', 'y');
      tmux('send-keys', '-t', 'fleet', 'Enter');
      await pollUntil(() => existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim() !== '', 60_000, 'the rollback to end');
      expect(readFileSync(exitFile, 'utf8').trim()).toBe('0');
      const screen = tmux('capture-pane', '-p', '-t', 'fleet');
      // Redrawn in place: one header, one row per host, each ending verified.
      expect(screen.split('\n').filter((l) => l.startsWith('HOST '))).toHaveLength(1);
      for (const h of ['app-1', 'app-2', 'app-3']) expect(screen).toMatch(new RegExp(`^${h} +ok .* verified$`, 'm'));
      expect(screen).toContain(`app-1 verified on ${r2()} · app-2 verified on ${r2()} · app-3 verified on ${r2()}`);
      expect(lives()).toEqual([r2(), r2(), r2()]);
    } finally {
      await killTmux(socket);
    }
  });

  it('snapshot --hosts: a backup of the live release on the selected hosts only, under each host\'s lock', async () => {
    const run = await fx.cli(['snapshot', '--env', 'fleet', '--hosts', 'app-1,app-3', '--json']);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as FleetSnapshotJson;
    expect(doc).toMatchObject({ ok: true, env: 'fleet', excluded: ['app-2'], exit_code: 0 });
    expect(doc.hosts.map((h) => [h.name, h.ok])).toEqual([
      ['app-1', true],
      ['app-3', true],
    ]);
    // Named by the time each host took it: the same name, unless a second ticked between them.
    const made = doc.hosts.map((h) => h.backup!.name);
    const list = JSON.parse((await fx.cli(['list', '--env', 'fleet', '--json'])).stdout) as Array<{ name: string; present_on: string[] }>;
    expect(list.find((b) => b.name === made[0])?.present_on).toContain('app-1');
    expect(list.find((b) => b.name === made[1])?.present_on).toContain('app-3');
    expect(list.filter((b) => made.includes(b.name)).every((b) => !b.present_on.includes('app-2'))).toBe(true);
    fx.removeRelease(0, made[0]!);
    fx.removeRelease(2, made[1]!);
  });

  it('kill -9 in the middle: each host reports its interrupted rollback, and a re-run converges', async () => {
    const pause = path.join(os.tmpdir(), `rtui-fleet-pause-${process.pid}`);
    const child = spawn(process.execPath, [bin, '--config', fx.configFile, 'rollback', '--env', 'fleet', '--reason', 'INC-8', '--yes'], {
      env: { ...process.env, NO_COLOR: '1', ROLLBACK_ENV: '', ROLLBACK_TUI_TEST_PAUSE_AT: 'start', ROLLBACK_TUI_TEST_PAUSE_FILE: pause },
      stdio: 'ignore',
    });
    const exited = new Promise<void>((r) => child.on('close', () => r()));
    // Every host switched, its service stopped, waiting before start.
    await pollUntil(() => existsSync(`${pause}.reached`) && lives().every((l) => l === r2()), 60_000, 'every host to reach the start step');
    child.kill('SIGKILL');
    await exited;
    const list = await fx.cli(['list', '--env', 'fleet']);
    for (const h of ['app-1', 'app-2', 'app-3']) expect(list.stderr).toMatch(new RegExp(`${h}: .*interrupted`, 'i'));
    const locked = await rollback('--to', r2());
    expect(locked.code).toBe(3);
    const rerun = await rollback('--to', r2(), '--break-lock');
    expect(rerun.code).toBe(0);
    expect(statuses(rerun.doc)).toEqual([
      ['app-1', 'verified'],
      ['app-2', 'verified'],
      ['app-3', 'verified'],
    ]);
    expect(await Promise.all([0, 1, 2].map((i) => fx.serviceVersion(i)))).toEqual([r2(), r2(), r2()]);
    const after = await fx.cli(['list', '--env', 'fleet']);
    expect(after.stderr).not.toMatch(/interrupted/i);
  });
});
