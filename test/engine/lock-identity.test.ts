/**
 * "Its process is no longer running on this host" is said only of an owner on this very machine: the
 * same host name with another machine id is another machine (containers and clones share names), and
 * an owner from before a reboot is dead whatever its pid. Owners written before the ids existed are
 * still read, by host name and pid. Through a real state dir, with a really dead pid.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EnvLock, lockOwnerFile, lockStatus, thisMachine, type LockOwner } from '../../src/core/engine/lock.js';
import { LocalExecutor } from '../../src/core/exec/local.js';
import { StateDir } from '../../src/core/state/state-dir.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

function ownerOnThisHost(extra: Partial<LockOwner>): LockOwner {
  const now = new Date().toISOString();
  return {
    user: 'bob',
    host: os.hostname(),
    pid: deadPid(),
    operation_id: 'rb-old',
    operation: 'rollback',
    env: 'prod',
    started_at: now,
    refreshed_at: now, // fresh: only "dead on this host" could make it breakable
    version: 'test',
    ...extra,
  };
}

async function breakAttempt(owner: LockOwner): Promise<'broken' | string> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rtui-lockid-'));
  dirs.push(root);
  mkdirSync(path.join(root, 'locks'));
  writeFileSync(path.join(root, lockOwnerFile('prod')), `${JSON.stringify(owner)}\n`);
  const state = new StateDir(new LocalExecutor(), root);
  try {
    const lock = await EnvLock.acquire(state, { env: 'prod', operationId: 'rb-new', user: 't', version: 'test', staleMinutes: 30, breakLock: true });
    await lock.release();
    return 'broken';
  } catch (err) {
    return (err as Error).message;
  }
}

describe('lock owner identity', () => {
  const here = thisMachine();

  it('records this machine and boot in the owner it writes', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'rtui-lockid-'));
    dirs.push(root);
    const lock = await EnvLock.acquire(new StateDir(new LocalExecutor(), root), { env: 'prod', operationId: 'rb-1', user: 't', version: 'test', staleMinutes: 30 });
    const written = JSON.parse(readFileSync(path.join(root, lockOwnerFile('prod')), 'utf8')) as LockOwner;
    await lock.release();
    expect(written.machine_id).toBe(here.machine_id);
    expect(written.boot_id).toBe(here.boot_id);
  });

  it.runIf(here.machine_id !== undefined)('same host name, another machine id: not dead here, the live lock is not broken', async () => {
    const owner = ownerOnThisHost({ machine_id: '0'.repeat(32), boot_id: here.boot_id });
    expect(lockStatus(owner, 30).deadOnThisHost).toBe(false);
    expect(await breakAttempt(owner)).toMatch(/refusing to break it/);
  });

  it.runIf(here.machine_id !== undefined)('this machine, this boot, pid gone: dead here, breakable', async () => {
    const owner = ownerOnThisHost({ ...here });
    expect(lockStatus(owner, 30).deadOnThisHost).toBe(true);
    expect(await breakAttempt(owner)).toBe('broken');
  });

  it.runIf(here.machine_id !== undefined && here.boot_id !== undefined)('this machine, an earlier boot: dead whatever its pid', () => {
    const owner = ownerOnThisHost({ machine_id: here.machine_id, boot_id: '00000000-0000-0000-0000-000000000000', pid: process.pid });
    expect(lockStatus(owner, 30).deadOnThisHost).toBe(true);
  });

  it('an owner written without the ids is read as before: host name and pid', async () => {
    const owner = ownerOnThisHost({});
    expect(lockStatus(owner, 30).deadOnThisHost).toBe(true);
    expect(await breakAttempt(owner)).toBe('broken');
    expect(lockStatus({ ...owner, pid: process.pid }, 30).deadOnThisHost).toBe(false);
  });
});
