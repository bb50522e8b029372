import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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
      // names and line counts, never contents
      const changes = (await store.changes(first.name, second.name)).join('\n');
      expect(changes).toContain(`${a}: changed (+1 -1 lines)`);
      expect(changes).toContain(`${b}: changed (+1 -1 lines)`);
      expect(changes).not.toMatch(/"v":|version: /);
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

    it('a symlink inside a backup (to a 0600 file elsewhere) is refused, never copied; the diff never follows it', async () => {
      const { root, a, b, bd, store } = setup();
      const secret = path.join(root, 'secret.txt');
      writeFileSync(secret, 'db_password: hunter2\n', { mode: 0o600 });
      const first = await store.snapshot();
      writeFileSync(a, '{"v":2}\n');
      const second = await store.snapshot();
      // the backup's copy of a is now a link to the secret; and in a third backup a directory on b's path is
      const linkedFile = path.join(bd, first.name, a);
      rmSync(linkedFile);
      symlinkSync(secret, linkedFile);
      for (const name of [first.name]) {
        const e = await store.validateTarget(name).catch((x: unknown) => x as UserError);
        expect((e as UserError).code).toBe('BACKUP_INVALID');
        expect((e as UserError).message).toContain(`${a} is a symlink inside the backup`);
        await expect(store.switchTo(name)).rejects.toThrow(/symlink inside the backup/);
      }
      expect(readFileSync(a, 'utf8')).toBe('{"v":2}\n');
      // a linked directory above the file counts too
      const third = path.join(bd, 'backup_20000101_000000');
      mkdirSync(path.join(third, root), { recursive: true });
      symlinkSync(path.dirname(secret), path.join(third, root, 'app'));
      writeFileSync(path.join(root, 'appsettings.json'), 'db_password: hunter2\n', { mode: 0o600 });
      expect(((await store.validateTarget('backup_20000101_000000').catch((x: unknown) => x)) as UserError).message).toMatch(/is a symlink inside the backup/);
      const changes = (await store.changes(first.name, second.name)).join('\n');
      expect(changes).toContain(`${a}: a symlink in a backup (not compared)`);
      expect(changes).not.toContain('hunter2');
      expect(readFileSync(b, 'utf8')).toBe('version: 1\n');
    });

    it('restores through fresh mktemp files: a planted link at an old temp name is never written through', async () => {
      const { root, a, bd, store } = setup();
      const first = await store.snapshot();
      writeFileSync(a, '{"v":2}\n');
      await store.snapshot();
      // The old temp names were predictable (".<name>.rtui-<pid>", ".live.tmp.<pid>"): links planted at
      // such names for the next few thousand pids, to a file that must not change.
      const victim = path.join(root, 'victim');
      writeFileSync(victim, 'untouched\n');
      const last = Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
      const max = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
      const pids = new Set(Array.from({ length: 5000 }, (_, k) => (last + 1 + k) % max));
      for (const pid of pids) {
        symlinkSync(victim, path.join(path.dirname(a), `.appsettings.json.rtui-${pid}`));
        symlinkSync(victim, path.join(bd, `.live.tmp.${pid}`));
      }
      await store.switchTo(first.name);
      expect(readFileSync(a, 'utf8')).toBe('{"v":1}\n');
      expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
      expect(readdirSync(path.dirname(a)).filter((n) => /\.rtui\.[A-Za-z0-9]{6}$/.test(n))).toEqual([]);
    });

    it('a missing configured file makes the snapshot fail clearly', async () => {
      const { a, store } = setup();
      rmSync(a);
      const e = await store.snapshot().catch((x: unknown) => x as UserError);
      expect((e as UserError).code).toBe('SNAPSHOT_FAILED');
      expect((e as UserError).message).toContain(a);
    });

    it('a snapshot sorts newest even when entries are named ahead of the clock (local time east of UTC)', async () => {
      const { bd, store } = setup();
      // A deploy script naming backups in local time on a UTC+2 host, plus a `_1` of the same second.
      mkdirSync(bd, { recursive: true });
      const ahead = Date.now() + 2 * 3600_000;
      const names = [formatBackupName(new Date(ahead - 3600_000)), formatBackupName(new Date(ahead)), `${formatBackupName(new Date(ahead))}_1`];
      for (const name of names) mkdirSync(path.join(bd, name, 'x'), { recursive: true });
      const snap = await store.snapshot();
      expect(snap.name).toBe(formatBackupName(new Date(Math.floor(ahead / 1000) * 1000 + 1000)));
      const list = await store.list();
      expect(list[0]!.name).toBe(snap.name);
      expect(list[0]!.current).toBe(true);
      expect(list[0]!.createdMs).toBeGreaterThan(list[1]!.createdMs);
      // the next one, in the same second, still sorts above it
      const again = await store.snapshot();
      expect((await store.list())[0]!.name).toBe(again.name);
    });

    it('a damaged marks file: listed with the warning, retention refused, the file left as it is', async () => {
      const { a, bd, store, marks } = setup(1);
      for (let i = 0; i < 3; i++) {
        writeFileSync(a, `{"v":${i}}\n`);
        await store.snapshot();
      }
      expect(readdirSync(bd).filter((n) => n.startsWith('backup_'))).toHaveLength(2); // keep 1 + the newest older than live
      mkdirSync(path.dirname(marks.path), { recursive: true });
      writeFileSync(marks.path, '{"bad": ["backup_1"');
      const list = await store.list();
      expect(list.every((b) => b.marksDamaged?.includes(marks.path))).toBe(true);
      const warnings: string[] = [];
      writeFileSync(a, '{"v":9}\n');
      await store.snapshot({ onWarning: (w) => warnings.push(w) });
      expect(warnings.join('\n')).toMatch(/retention \(keep: 1\) was not applied: retention refused: marks file .* is damaged/);
      expect(readdirSync(bd).filter((n) => n.startsWith('backup_'))).toHaveLength(3);
      expect(readFileSync(marks.path, 'utf8')).toBe('{"bad": ["backup_1"');
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
