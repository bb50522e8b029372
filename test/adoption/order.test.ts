/**
 * Release order comes from a layout's record or the names, never from mtime alone: semantic versions as
 * versions, timestamps and numbers by value; only names that say nothing fall back to the mtime.
 */
import { utimesSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/core/exec/local.js';
import { pickDefaultTarget } from '../../src/core/engine/plan.js';
import { SymlinkReleaseStore } from '../../src/core/stores/symlink.js';
import { applyOrder, compareSemver, parseSemver } from '../../src/core/stores/order.js';
import { parseBackupTimestamp } from '../../src/core/stores/names.js';
import type { Backup } from '../../src/core/stores/types.js';
import { makeReleaseLayout, type ReleaseLayout } from '../helpers/releases.js';

const entry = (name: string, createdMs = 0): Backup => ({
  name, created: new Date(createdMs).toISOString(), createdMs, sizeBytes: null, current: false, knownGood: false, bad: false,
});

describe('release order', () => {
  it('semantic versions order as versions (1.10.0 after 1.9.0, a pre-release before its release), whatever the creation times', () => {
    const names = ['v1.10.0', 'v1.9.0', 'v2.0.0-rc.1', 'v2.0.0', 'v1.2.3', 'v2.0.0-beta.2', 'v2.0.0-beta.10'];
    const sorted = applyOrder(names.map((n, i) => entry(n, 1000 * (names.length - i))));
    expect(sorted.map((b) => b.name)).toEqual(['v2.0.0', 'v2.0.0-rc.1', 'v2.0.0-beta.10', 'v2.0.0-beta.2', 'v1.10.0', 'v1.9.0', 'v1.2.3']);
    expect(compareSemver(parseSemver('1.0.0+build.5')!, parseSemver('1.0.0')!)).toBe(0);
    expect(parseSemver('1.2')).toBeNull();
  });

  it('release numbers by value, Capistrano timestamps by time; a record wins over names; mixed names fall back to the creation time', () => {
    expect(applyOrder(['9', '10', '1', '2'].map((n) => entry(n))).map((b) => b.name)).toEqual(['10', '9', '2', '1']);
    expect(parseBackupTimestamp('20240103120000')?.toISOString()).toBe('2024-01-03T12:00:00.000Z');
    expect(applyOrder(['20240103120000', '20231231235959'].map((n) => entry(n, 5))).map((b) => b.name)).toEqual(['20240103120000', '20231231235959']);
    const recorded = new Map([['3', 0], ['hotfix', 1], ['2', 2]]);
    expect(applyOrder(['2', '3', 'hotfix', '1'].map((n) => entry(n)), recorded).map((b) => b.name)).toEqual(['2', 'hotfix', '3', '1']);
    expect(applyOrder([entry('beta', 3000), entry('v1.0.0', 1000), entry('alpha', 2000)]).map((b) => b.name)).toEqual(['beta', 'alpha', 'v1.0.0']);
  });

  it('the default target follows the order, not createdMs', () => {
    const list = applyOrder([entry('v1.9.0', 3000), entry('v1.10.0', 1000), entry('v1.8.0', 2000)]);
    list.find((b) => b.name === 'v1.10.0')!.current = true;
    expect(pickDefaultTarget(list, 'v1.10.0')?.name).toBe('v1.9.0');
  });

  describe('symlink store (backups_dir + current) with versioned release names', () => {
    let l: ReleaseLayout | undefined;
    afterEach(() => l?.cleanup());

    it('a touch that makes an old release the newest by mtime does not reorder the list', async () => {
      l = makeReleaseLayout({ names: ['v1.9.0', 'v1.10.0', 'v1.2.0'], live: 'v1.10.0' });
      const future = new Date(Date.now() + 3600_000);
      utimesSync(path.join(l.backupsDir, 'v1.2.0'), future, future);
      const store = new SymlinkReleaseStore(l.symlinkTarget({ pattern: 'v*' }), new LocalExecutor(), null);
      const list = await store.list();
      expect(list.map((b) => b.name)).toEqual(['v1.10.0', 'v1.9.0', 'v1.2.0']);
      expect(pickDefaultTarget(list, 'v1.10.0')?.name).toBe('v1.9.0');
    });
  });
});
