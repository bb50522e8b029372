/**
 * The lock's atomicity, through the same StateDir scripts the engine uses, locally and over the real
 * loopback sshd: the owner is published with the lock (there is never an owner-less lock to steal), and
 * of several processes breaking one stale lock at once exactly one succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EnvLock, lockOwnerFile, type AcquireOptions } from '../../src/core/engine/lock.js';
import { isUserError } from '../../src/core/errors.js';
import { LocalExecutor } from '../../src/core/exec/local.js';
import type { Executor } from '../../src/core/exec/types.js';
import { StateDir } from '../../src/core/state/state-dir.js';
import { CountingExecutor } from '../helpers/counting-executor.js';
import { describeSsh, sshExecutorForBlock } from '../helpers/sshd.js';

const opts = (op: string, breakLock = false): AcquireOptions => ({
  env: 'prod',
  operationId: op,
  user: 'tester',
  version: 'test',
  staleMinutes: 30,
  breakLock,
  refreshMs: 60_000,
});

/** Run all acquisitions at once; the winners (locks) and the losers' errors. */
async function race(state: StateDir, options: AcquireOptions[]): Promise<{ won: EnvLock[]; lost: string[] }> {
  const settled = await Promise.allSettled(options.map((o) => EnvLock.acquire(state, o)));
  const won = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const lost = settled.flatMap((s) => {
    if (s.status === 'fulfilled') return [];
    expect(isUserError(s.reason) && s.reason.exitCode === 3, String(s.reason)).toBe(true);
    return [(s.reason as Error).message];
  });
  return { won, lost };
}

function lockSuite(label: string, getExecutor: () => Executor): void {
  describe(`lock (${label})`, () => {
    let root: string;
    let state: StateDir;
    beforeAll(() => {
      root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'rtui-lock-')));
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const fresh = (name: string): StateDir => (state = new StateDir(getExecutor(), path.join(root, name)));

    it('taken by exactly one of many at once, --break-lock included: a lock being taken is never owner-less', async () => {
      fresh('race');
      const contenders = Array.from({ length: 8 }, (_, i) => opts(`op-${i}`, i % 2 === 1));
      const { won, lost } = await race(state, contenders);
      expect(won).toHaveLength(1);
      expect(won[0]!.brokeLock).toBe(false);
      expect(lost).toHaveLength(7);
      // every loser saw the winner's owner (never an empty or missing owner file), the breakers refused it
      for (const m of lost) expect(m).toContain(`prod is locked by tester@${os.hostname()} (pid ${process.pid}, rollback op ${won[0]!.owner.operation_id})`);
      const breakersLost = contenders.filter((o) => o.breakLock && o.operationId !== won[0]!.owner.operation_id).length;
      expect(lost.filter((m) => m.includes('refusing to break it'))).toHaveLength(breakersLost);
      const file = path.join(state.root, lockOwnerFile('prod'));
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ operation_id: won[0]!.owner.operation_id });
      await won[0]!.release();
      expect(readdirSync(path.join(state.root, 'locks'))).toEqual([]);
    });

    it('a stale lock broken by several at once: exactly one breaks it, the others are told who holds it now', async () => {
      fresh('stale');
      const old = new Date(Date.now() - 2 * 3600_000).toISOString();
      mkdirSync(path.join(state.root, 'locks'), { recursive: true });
      writeFileSync(
        path.join(state.root, lockOwnerFile('prod')),
        JSON.stringify({ user: 'alice', host: 'bastion', pid: 4242, operation_id: 'rb-old', operation: 'rollback', env: 'prod', started_at: old, refreshed_at: old, version: '0.1.0' }),
      );
      const { won, lost } = await race(state, Array.from({ length: 6 }, (_, i) => opts(`breaker-${i}`, true)));
      expect(won).toHaveLength(1);
      expect(won[0]!.brokeLock).toBe(true);
      expect(won[0]!.brokenOwner).toMatchObject({ operation_id: 'rb-old', user: 'alice' });
      expect(lost).toHaveLength(5);
      for (const m of lost) expect(m).toContain(`rollback op ${won[0]!.owner.operation_id})`);
      expect(readdirSync(path.join(state.root, 'locks'))).toEqual(['prod.owner.json']);
      await won[0]!.release();
    });

    it('release removes the lock only while it is still ours, in one round trip', async () => {
      const counting = new CountingExecutor(getExecutor());
      state = new StateDir(counting, path.join(root, 'release'));
      const file = path.join(state.root, lockOwnerFile('prod'));
      const mine = await EnvLock.acquire(state, opts('rb-mine'));
      counting.calls = 0;
      await mine.release();
      expect(readdirSync(path.join(state.root, 'locks'))).toEqual([]);
      expect(counting.calls).toBe(counting.kind === 'local' ? 0 : 1);
      // Broken and taken again by another operation meanwhile: that one's lock stays.
      const broken = await EnvLock.acquire(state, opts('rb-broken'));
      const other = readFileSync(file, 'utf8').replace('rb-broken', 'rb-other');
      writeFileSync(file, other);
      await broken.release();
      expect(readFileSync(file, 'utf8')).toBe(other);
    });

    it('an unreadable owner file is exit 3 without --break-lock and broken with it', async () => {
      fresh('garbage');
      mkdirSync(path.join(state.root, 'locks'), { recursive: true });
      writeFileSync(path.join(state.root, lockOwnerFile('prod')), 'not json');
      await expect(EnvLock.acquire(state, opts('a'))).rejects.toThrow(/prod is locked \(its owner file locks\/prod.owner.json is unreadable\)/);
      const lock = await EnvLock.acquire(state, opts('b', true));
      expect(lock.brokeLock).toBe(true);
      expect(lock.brokenOwner).toBeNull();
      await lock.release();
    });
  });
}

lockSuite('local', () => new LocalExecutor());

describe('compare-and-swap of an owner file, when another breaker moves it first', () => {
  it('the file the other breaker put in its place is left alone, and the answer is "changed"', async () => {
    const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'rtui-cas-')));
    const savedPath = process.env.PATH;
    try {
      const state = new StateDir(new LocalExecutor(), path.join(root, 'state'));
      await state.createExclusive('locks/prod.owner.json', 'stale\n');
      const file = path.join(state.root, 'locks', 'prod.owner.json');
      // An `mv` that, the first time it is asked to move the owner file, acts out the other breaker
      // between our compare and our move: it moves the file away, puts its own in place, and fails.
      const shim = path.join(root, 'bin');
      mkdirSync(shim);
      writeFileSync(
        path.join(shim, 'mv'),
        `#!/bin/sh\nif [ "$3" = ${JSON.stringify(file)} ] && [ ! -e ${JSON.stringify(`${root}/acted`)} ]; then\n` +
          `  : > ${JSON.stringify(`${root}/acted`)}; /bin/mv -f -- "$3" ${JSON.stringify(`${root}/moved-by-other`)}; printf 'theirs\\n' > "$3"\n` +
          `  echo "mv: cannot stat '$3': No such file or directory" >&2; exit 1\nfi\nexec /bin/mv "$@"\n`,
        { mode: 0o755 },
      );
      process.env.PATH = `${shim}:${savedPath ?? ''}`;
      expect(await state.replaceIfUnchanged('locks/prod.owner.json', 'stale\n', 'mine\n')).toBe('changed');
      expect(readFileSync(file, 'utf8')).toBe('theirs\n');
    } finally {
      process.env.PATH = savedPath;
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describeSsh('over loopback ssh', () => {
  lockSuite('ssh', sshExecutorForBlock());
});
