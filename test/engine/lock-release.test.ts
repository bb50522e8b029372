/**
 * A released lock is gone in every run. With a slow `sync` on PATH (every durable state write takes a
 * while) and a short stale_lock_minutes (the lock is refreshed every second), a refresh is often in
 * flight when the rollback releases its lock; its rewrite must never land after the removal. Several
 * rollbacks through the built CLI: after each one the lock file is gone, and the next is not refused.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, type Fixture } from './fixture.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

/** A directory whose `sync` sleeps before syncing: first on PATH, every fsync of the state dir is slow. */
function slowSyncPath(root: string): string {
  const dir = path.join(root, 'slow-bin');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'sync'), '#!/bin/sh\nsleep 0.2\nexec /usr/bin/sync "$@"\n');
  chmodSync(path.join(dir, 'sync'), 0o755);
  return `${dir}:${process.env.PATH ?? ''}`;
}

describe('lock release', () => {
  it('with a slow sync and a lock refreshed every second, no rollback leaves its lock behind', async () => {
    fx = await makeFixture({ policy: { rollback: { stale_lock_minutes: 0.02 } } });
    const [, r2, r3] = fx.names as [string, string, string];
    const env = { PATH: slowSyncPath(fx.layout.root) };
    const locks = path.join(fx.layout.stateDir, 'locks');
    for (const [i, to] of [r2, r3, r2, r3].entries()) {
      const r = await fx.cli(['rollback', '--env', 'test', '--to', to, '--reason', `run ${i}`, '--yes'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(fx.live()).toBe(to);
      expect(existsSync(locks) ? readdirSync(locks) : [], `run ${i} left its lock`).toEqual([]);
    }
    expect(fx.history().map((h) => h.reason)).toEqual(['run 0', 'run 1', 'run 2', 'run 3']);
  }, 300_000);
});
