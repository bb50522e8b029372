import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/core/errors.js';
import type { Executor } from '../../src/core/exec/types.js';
import { MarkStore } from '../../src/core/state/marks.js';
import { formatBackupName } from '../../src/core/stores/names.js';
import { StateDir } from '../../src/core/state/state-dir.js';
import { ConfigFilesStore } from '../../src/core/stores/files.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e, 'expected a rejection').toBeInstanceOf(UserError);
  return (e as UserError).code;
}

export function filesStoreSuite(label: string, getExecutor: () => Executor): void {
  describe(`files store (${label})`, () => {
    const roots: string[] = [];
    afterEach(() => {
      for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
    });

    function setup(keep?: number) {
      const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'rtui-files-')));
      roots.push(root);
      mkdirSync(path.join(root, 'app', 'conf'), { recursive: true });
      const a = path.join(root, 'app', 'appsettings.json');
      const b = path.join(root, 'app', 'conf', 'docker-compose.yml');
      writeFileSync(a, '{"v":1}\n');
      writeFileSync(b, 'version: 1\n');
      chmodSync(a, 0o640);
      const ex = getExecutor();
      const marks = new MarkStore(new StateDir(ex, path.join(root, 'state')));
      const bd = path.join(root, 'backups');
      const store = new ConfigFilesStore({ strategy: 'files', backups_dir: bd, files: [a, b], ...(keep ? { keep } : {}) }, ex, marks, 'test');
      return { root, a, b, bd, store, marks };
    }

    it('snapshots, lists, and restores each file atomically with its mode', async () => {
      const { a, b, bd, store } = setup();
      const first = await store.snapshot();
      writeFileSync(a, '{"v":2}\n');
      writeFileSync(b, 'version: 2\n');
      const second = await store.snapshot();
      expect(second.name).not.toBe(first.name);
      const list = await store.list();
      expect(list.map((x) => x.name)).toEqual([second.name, first.name]);
      expect(list[0]!.current).toBe(true);
      await store.validateTarget(first.name);
      await store.switchTo(first.name);
      expect(readFileSync(a, 'utf8')).toBe('{"v":1}\n');
      expect(readFileSync(b, 'utf8')).toBe('version: 1\n');
      expect(statSync(a).mode & 0o777).toBe(0o640);
      expect(await store.live()).toBe(first.name);
      expect(readFileSync(path.join(bd, second.name, a), 'utf8')).toBe('{"v":2}\n');
      expect(readdirSync(path.dirname(a)).filter((n) => n.includes('rtui'))).toEqual([]);
      expect((await store.changes(first.name, second.name)).join('\n')).toMatch(/"v":2/);
      // a hand edit means nothing recorded is live any more
      writeFileSync(a, '{"v":"hand"}\n');
      expect(await store.live()).toBeNull();
    });

    it('rejects unsafe, missing, incomplete and live targets', async () => {
      const { bd, store } = setup();
      const s = await store.snapshot();
      for (const bad of ['../x', 'a/b', '-rf', 'a\nb', '']) expect(await codeOf(store.validateTarget(bad)), bad).toBe('INVALID_BACKUP_NAME');
      expect(await codeOf(store.validateTarget('backup_19990101_000000'))).toBe('BACKUP_NOT_FOUND');
      expect(await codeOf(store.validateTarget(s.name))).toBe('TARGET_IS_LIVE');
      mkdirSync(path.join(bd, 'backup_20000101_000000'));
      expect(await codeOf(store.validateTarget('backup_20000101_000000'))).toBe('BACKUP_INVALID');
    });

    it('a missing configured file makes the snapshot fail clearly', async () => {
      const { a, store } = setup();
      rmSync(a);
      const e = await store.snapshot().catch((x: unknown) => x as UserError);
      expect((e as UserError).code).toBe('SNAPSHOT_FAILED');
      expect((e as UserError).message).toContain(a);
    });

    it('a snapshot in a second whose plain name was pruned still sorts newest', async () => {
      const { bd, store } = setup();
      // Retention removed backup_<second> but kept backup_<second>_1, for the seconds this test may run in.
      mkdirSync(bd, { recursive: true });
      const now = Date.now();
      for (let d = -1; d <= 5; d++) {
        const name = `${formatBackupName(new Date(now + d * 1000))}_1`;
        mkdirSync(path.join(bd, name, 'x'), { recursive: true });
      }
      const snap = await store.snapshot();
      expect(snap.name).toMatch(/_2$/);
      const list = await store.list();
      const mine = list.findIndex((b) => b.name === snap.name);
      const sameSecond = list.findIndex((b) => b.name === snap.name.replace(/_2$/, '_1'));
      expect(mine).toBeLessThan(sameSecond);
      expect(list[mine]!.current).toBe(true);
      expect(list[mine]!.createdMs).toBeGreaterThan(list[sameSecond]!.createdMs);
    });

    it('applies keep: N after a snapshot', async () => {
      const { a, store } = setup(2);
      for (let i = 0; i < 4; i++) {
        writeFileSync(a, `{"v":${i}}\n`);
        await store.snapshot();
      }
      const list = await store.list();
      // newest 2 are kept (the newest is live); the newest older than live is among them
      expect(list).toHaveLength(2);
      expect(list[0]!.current).toBe(true);
    });
  });
}
