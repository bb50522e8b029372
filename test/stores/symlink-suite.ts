/**
 * The symlink store's behaviour, run against any executor (local in symlink.test.ts, a real sshd in
 * ssh-stores.test.ts): the same scripts, the same assertions.
 */
import { existsSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/core/exec/types.js';
import { MarkStore } from '../../src/core/state/marks.js';
import { StateDir } from '../../src/core/state/state-dir.js';
import { SymlinkReleaseStore } from '../../src/core/stores/symlink.js';
import type { SymlinkTargetConfig } from '../../src/core/config/schema.js';
import { UserError } from '../../src/core/errors.js';
import { pickDefaultTarget } from '../../src/core/engine/plan.js';
import { CountingExecutor } from '../helpers/counting-executor.js';
import { backupNameFor, makeReleaseLayout, type ReleaseLayout, type ReleaseLayoutOptions } from '../helpers/releases.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e, 'expected a rejection').toBeInstanceOf(UserError);
  return (e as UserError).code;
}

export function symlinkStoreSuite(label: string, getExecutor: () => Executor): void {
  describe(`symlink store (${label})`, () => {
    const layouts: ReleaseLayout[] = [];
    afterEach(() => {
      for (const l of layouts.splice(0)) l.cleanup();
    });

    function setup(opts: ReleaseLayoutOptions = {}, target: Partial<SymlinkTargetConfig> = {}) {
      const l = makeReleaseLayout(opts);
      layouts.push(l);
      const ex = getExecutor();
      const marks = new MarkStore(new StateDir(ex, l.stateDir));
      const store = new SymlinkReleaseStore(l.symlinkTarget(target), ex, marks, 'test');
      return { l, ex, marks, store };
    }

    it('lists newest first with current, known-good and bad marks', async () => {
      const { l, store, marks } = setup({ count: 4, live: 2 });
      await marks.markKnownGood(l.names[1]!);
      await marks.markBad(l.names[3]!);
      const list = await store.list();
      expect(list.map((b) => b.name)).toEqual([...l.names].reverse());
      expect(list.map((b) => [b.current, b.knownGood, b.bad])).toEqual([
        [false, false, true],
        [true, false, false],
        [false, true, false],
        [false, false, false],
      ]);
      expect(list[0]!.created).toBe('2024-11-12T13:00:00.000Z');
      expect(list[0]!.sizeBytes).toBeNull();
      expect((await store.list({ sizes: true }))[0]!.sizeBytes).toBeGreaterThan(0);
      expect(await store.live()).toBe(l.names[2]);
    });

    it('reads the live release in-process on this machine and in one script elsewhere, with the same answers', async () => {
      const { l, ex, store } = setup({ count: 3, live: 1 });
      const counting = new CountingExecutor(ex);
      const s = new SymlinkReleaseStore((store as unknown as { cfg: SymlinkTargetConfig }).cfg, counting, null, 'test');
      const point = (target: string): void => {
        rmSync(l.current, { recursive: true, force: true });
        symlinkSync(target, l.current);
      };
      const answers: (string | null)[] = [await s.live()];
      // A relative link (as deploy tools write them).
      point(path.relative(path.dirname(l.current), path.join(l.backupsDir, l.names[2]!)));
      answers.push(await s.live());
      // A dangling link, a link to a directory outside backups_dir, a link to a file.
      point(path.join(l.backupsDir, 'gone'));
      answers.push(await s.live());
      mkdirSync(path.join(l.root, 'outside'));
      point(path.join(l.root, 'outside'));
      answers.push(await s.live());
      writeFileSync(path.join(l.root, 'a-file'), 'x');
      point(path.join(l.root, 'a-file'));
      answers.push(await s.live());
      // current as a real directory, not a link.
      rmSync(l.current, { force: true });
      mkdirSync(l.current);
      answers.push(await s.live());
      expect(answers).toEqual([l.names[1], l.names[2], null, null, null, null]);
      // On this machine no process per read (the monitor asks every sample); over SSH one script per read.
      expect(counting.calls).toBe(ex.kind === 'local' ? 0 : answers.length);
    });

    it('uses the mtime when a name carries no timestamp', async () => {
      const { l, store } = setup({ names: ['backup_a', 'backup_b'], live: null });
      const t = new Date('2020-01-02T03:04:05Z');
      (await import('node:fs')).utimesSync(path.join(l.backupsDir, 'backup_a'), t, t);
      const list = await store.list();
      expect(list.at(-1)!.name).toBe('backup_a');
      expect(list.at(-1)!.created).toBe('2020-01-02T03:04:05.000Z');
      expect(await store.live()).toBeNull();
    });

    it('switches atomically and reads the link back', async () => {
      const { l, store } = setup({ count: 3 });
      await store.validateTarget(l.names[0]!);
      const lines: string[] = [];
      await store.switchTo(l.names[0]!, { onLine: (x) => lines.push(x) });
      expect(readlinkSync(l.current)).toBe(path.join(l.backupsDir, l.names[0]!));
      expect(readFileSync(path.join(l.current, 'VERSION'), 'utf8')).toBe(`${l.names[0]}\n`);
      expect(lines.join('\n')).toMatch(/switched/);
      expect(await store.live()).toBe(l.names[0]);
      // no temporary links left beside current
      expect(readdirSync(l.root).filter((n) => n.includes('rtui'))).toEqual([]);
      expect(store.describeSwitch(l.names[1]!).join('\n')).toMatch(/mv -T/);
    });

    it('rejects unsafe names before anything runs', async () => {
      const { store, ex } = setup({ count: 2 });
      const counting = new CountingExecutor(ex);
      const s = new SymlinkReleaseStore((store as unknown as { cfg: SymlinkTargetConfig }).cfg, counting, null, 'test');
      for (const bad of ['../x', 'a/b', '-rf', 'a\nb', 'a\x1bb', 'tab\there', '', '..', 'x\0y']) {
        expect(await codeOf(s.validateTarget(bad)), bad).toBe('INVALID_BACKUP_NAME');
        expect(await codeOf(s.switchTo(bad)), bad).toBe('INVALID_BACKUP_NAME');
      }
      expect(counting.calls).toBe(0);
    });

    it('rejects a nonexistent backup, the live one, a non-directory and a symlink out of backups_dir', async () => {
      const { l, store } = setup({ count: 2 });
      expect(await codeOf(store.validateTarget('backup_19990101_000000'))).toBe('BACKUP_NOT_FOUND');
      expect(await codeOf(store.validateTarget(l.names[1]!))).toBe('TARGET_IS_LIVE');
      expect(await codeOf(store.switchTo(l.names[1]!))).toBe('TARGET_IS_LIVE');
      writeFileSync(path.join(l.backupsDir, 'backup_file'), 'x');
      expect(await codeOf(store.validateTarget('backup_file'))).toBe('BACKUP_INVALID');
      const outside = path.join(l.root, 'outside');
      mkdirSync(outside);
      symlinkSync(outside, path.join(l.backupsDir, 'backup_escape'));
      expect(await codeOf(store.validateTarget('backup_escape'))).toBe('BACKUP_INVALID');
      expect(await codeOf(store.switchTo('backup_escape'))).toBe('BACKUP_INVALID');
      expect(readlinkSync(l.current)).toBe(path.join(l.backupsDir, l.names[1]!));
    });

    it('refuses when current is a real directory', async () => {
      const { l, store } = setup({ count: 2, live: null });
      mkdirSync(l.current);
      writeFileSync(path.join(l.current, 'keep.txt'), 'precious');
      const e = await store.switchTo(l.names[0]!).catch((x: unknown) => x as UserError);
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).code).toBe('CURRENT_NOT_SYMLINK');
      expect((e as UserError).message).toMatch(/is a real directory, not a symlink/);
      expect(readFileSync(path.join(l.current, 'keep.txt'), 'utf8')).toBe('precious');
    });

    it('creates current when nothing is live yet', async () => {
      const { l, store } = setup({ count: 2, live: null });
      await store.switchTo(l.names[0]!);
      expect(readlinkSync(l.current)).toBe(path.join(l.backupsDir, l.names[0]!));
    });

    it('links config_link into the release atomically before switching', async () => {
      const l0 = makeReleaseLayout({ count: 2 });
      layouts.push(l0);
      const cfg = path.join(l0.root, 'config-prod.json');
      writeFileSync(cfg, '{"env":"prod"}');
      writeFileSync(path.join(l0.backupsDir, l0.names[0]!, 'config.json'), 'stale regular file');
      const ex = getExecutor();
      const store = new SymlinkReleaseStore(l0.symlinkTarget({ config_link: { source: cfg, name: 'config.json' } }), ex, null, 'test');
      await store.switchTo(l0.names[0]!);
      expect(readlinkSync(path.join(l0.backupsDir, l0.names[0]!, 'config.json'))).toBe(cfg);
      expect(readFileSync(path.join(l0.current, 'config.json'), 'utf8')).toBe('{"env":"prod"}');
      rmSync(cfg);
      expect(await codeOf(store.validateTarget(l0.names[1]!))).toBe('CONFIG_LINK');
      await store.switchTo(l0.names[1]!).then(
        () => expect.fail('should refuse'),
        (e: UserError) => expect(e.code).toBe('CONFIG_LINK'),
      );
    });

    it('runs validate commands with ROLLBACK_TARGET and ROLLBACK_TARGET_PATH; emergency skips them', async () => {
      const { l, ex } = setup({ count: 2 });
      const ok = new SymlinkReleaseStore(
        l.symlinkTarget({ validate: ['test -f "$ROLLBACK_TARGET_PATH/VERSION"', 'test "$ROLLBACK_TARGET" = "$(cat "$ROLLBACK_TARGET_PATH/VERSION")"'] }),
        ex, null, 'test');
      await ok.validateTarget(l.names[0]!);
      const failing = new SymlinkReleaseStore(l.symlinkTarget({ validate: ['echo "missing migration" >&2; exit 4'] }), ex, null, 'test');
      const e = await failing.validateTarget(l.names[0]!).catch((x: unknown) => x as UserError);
      expect((e as UserError).code).toBe('VALIDATION_FAILED');
      expect((e as UserError).message).toMatch(/exit 4.*missing migration/);
      await failing.validateTarget(l.names[0]!, { emergency: true });
    });

    it('snapshots what is live, unique names within one second', async () => {
      const { l, store } = setup({ count: 1 });
      writeFileSync(path.join(l.current, 'hotfix.txt'), 'patched in place');
      const a = await store.snapshot();
      const b = await store.snapshot();
      expect(a.name).toMatch(/^backup_\d{8}_\d{6}(_\d+)?$/);
      expect(b.name).not.toBe(a.name);
      expect(readFileSync(path.join(l.backupsDir, a.name, 'hotfix.txt'), 'utf8')).toBe('patched in place');
      expect(readFileSync(path.join(l.backupsDir, b.name, 'VERSION'), 'utf8')).toBe(`${l.names[0]}\n`);
      expect(Math.abs(a.createdMs - Date.now())).toBeLessThan(120_000);
      const names = (await store.list()).map((x) => x.name);
      expect(names).toContain(a.name);
      expect(names).toContain(b.name);
      expect(readdirSync(l.backupsDir).filter((n) => n.startsWith('.'))).toEqual([]);
    });

    it('retention keeps the newest N, the live one, known-good ones and the newest older than live', async () => {
      const { l, store, marks } = setup({ count: 8, live: 4 });
      await marks.markKnownGood(l.names[0]!);
      await marks.markBad(l.names[1]!);
      const removed = await store.prune(2);
      // newest 2: 7, 6; live 4; newest older than live 3; known-good 0
      expect(removed.sort()).toEqual([l.names[1]!, l.names[2]!, l.names[5]!].sort());
      expect((await store.list()).map((b) => b.name)).toEqual([7, 6, 4, 3, 0].map((i) => l.names[i]!));
      expect((await marks.read()).bad).toEqual([]);
    });

    it('lists hostile names as data and never executes them', async () => {
      const hostile = ['backup_x; touch pwned', 'backup_$(touch pwned2)', 'backup_`touch pwned3`', "backup_'q\"", 'backup_new\nline', 'backup_ sp ace', 'backup_-rf'];
      const { l, store } = setup({ names: ['backup_20240101_000000', ...hostile], live: 0 });
      const list = await store.list({ sizes: true });
      expect(list.map((b) => b.name).sort()).toEqual(['backup_20240101_000000', ...hostile].sort());
      expect(list.find((b) => b.name === 'backup_new\nline')!.detail).toMatch(/unsafe/);
      await store.validateTarget('backup_$(touch pwned2)');
      await store.switchTo('backup_x; touch pwned');
      expect(readlinkSync(l.current)).toBe(path.join(l.backupsDir, 'backup_x; touch pwned'));
      await store.switchTo('backup_`touch pwned3`');
      expect(await store.live()).toBe('backup_`touch pwned3`');
      await expect(store.switchTo('backup_new\nline')).rejects.toThrow(/control character/);
      await store.snapshot();
      await store.prune(1);
      for (const dir of [l.backupsDir, l.root, process.cwd(), os.homedir(), os.tmpdir(), '/tmp', path.join(l.backupsDir, 'backup_x; touch pwned')]) {
        for (const f of ['pwned', 'pwned2', 'pwned3']) expect(existsSync(path.join(dir, f)), `${dir}/${f}`).toBe(false);
      }
    });

    it('a snapshot of what is live is never the default target, with releases named in local time east of UTC', async () => {
      // The deploy script names releases with `date +%Y%m%d_%H%M%S` on a UTC+2 host: two hours ahead of UTC.
      const ahead = Date.now() + 2 * 3600_000;
      const { l, store } = setup({ start: new Date(ahead - 2 * 3600_000), count: 3 }, { keep: 2 });
      const liveMs = Math.floor(ahead / 1000) * 1000;
      expect(await store.live()).toBe(l.names[2]);
      const snap = await store.snapshot();
      // Named one second after the newest entry, not after the UTC clock (which would sort it 2 h older).
      expect(snap.name).toBe(backupNameFor(new Date(liveMs + 1000)));
      expect(readFileSync(path.join(l.backupsDir, snap.name, 'VERSION'), 'utf8')).toBe(`${l.names[2]}\n`);
      const list = await store.list();
      expect(list.map((b) => b.name)).toEqual([snap.name, l.names[2], l.names[1]]); // keep 2 pruned the oldest only
      expect(pickDefaultTarget(list, await store.live())?.name).toBe(l.names[1]);
    });

    it('lists stray symlinks and unsafe names as unusable; the default target and retention skip them', async () => {
      const { l, store } = setup({ count: 3, live: 1 });
      const outside = path.join(l.root, 'outside');
      mkdirSync(outside);
      writeFileSync(path.join(outside, 'precious'), 'x');
      // All three sort between names[0] (10:00) and the live names[1] (11:00): each would be the default target.
      symlinkSync(outside, path.join(l.backupsDir, 'backup_20241112_105959'));
      symlinkSync(path.join(l.backupsDir, l.names[0]!), path.join(l.backupsDir, 'backup_20241112_105958'));
      mkdirSync(path.join(l.backupsDir, 'backup_..20241112_105957'));
      writeFileSync(path.join(l.backupsDir, 'backup_20241112_105956'), 'a regular file is not a backup');
      const list = await store.list({ sizes: true });
      const by = new Map(list.map((b) => [b.name, b]));
      expect(by.has('backup_20241112_105956')).toBe(false);
      expect(by.get('backup_20241112_105959')!.unusable).toBe('a symlink, not a release directory');
      expect(by.get('backup_20241112_105959')!.detail).toBe('unusable: a symlink, not a release directory');
      expect(by.get('backup_20241112_105959')!.sizeBytes).toBeNull();
      expect(by.get('backup_20241112_105958')!.unusable).toBe('a symlink, not a release directory');
      expect(by.get('backup_..20241112_105957')!.unusable).toMatch(/^unsafe name: it contains "\.\."/);
      expect(by.get(l.names[0]!)!.unusable).toBeUndefined();
      expect(pickDefaultTarget(list, await store.live())?.name).toBe(l.names[0]);
      await store.validateTarget(l.names[0]!);
      expect(await store.prune(1)).toEqual([]); // names[0] is the newest older than live; the rest are not ours
      expect(readdirSync(l.backupsDir).sort()).toEqual([...l.names, 'backup_..20241112_105957', 'backup_20241112_105956', 'backup_20241112_105958', 'backup_20241112_105959'].sort());
      expect(readFileSync(path.join(outside, 'precious'), 'utf8')).toBe('x');
    });

    it('a damaged marks.json is listed with a warning naming the file, never read as "no marks"', async () => {
      const { l, store, marks } = setup({ count: 3, live: 2 }, { keep: 1 });
      await marks.markBad(l.names[1]!);
      const cases: [string, () => void, RegExp][] = [
        ['truncated JSON', () => writeFileSync(marks.path, '{"known_good": [], "bad": ["backup_'), /not valid JSON/],
        ['NUL bytes', () => writeFileSync(marks.path, Buffer.alloc(64)), /not valid JSON/],
        ['empty', () => writeFileSync(marks.path, ''), /it is empty/],
        ['wrong shape', () => writeFileSync(marks.path, '{"bad": "backup_x"}'), /"bad" is not a list of names/],
        ['a directory', () => mkdirSync(marks.path), /it is not a regular file/],
      ];
      for (const [label, damage, why] of cases) {
        rmSync(marks.path, { recursive: true, force: true });
        damage();
        const before = readdirSync(l.stateDir, { withFileTypes: true }).map((d) => [d.name, d.isFile() ? readFileSync(path.join(l.stateDir, d.name)) : null]);
        const list = await store.list();
        expect(list.map((b) => b.name), label).toEqual([...l.names].reverse());
        for (const b of list) {
          expect(b.marksDamaged, label).toMatch(why);
          expect(b.marksDamaged, label).toContain(`marks file ${marks.path} is damaged`);
          expect(b.marksDamaged, label).toMatch(/Fix: repair it by hand/);
          expect(b.bad, label).toBe(false);
        }
        expect(() => pickDefaultTarget(list, l.names[2]!), label).toThrow(/is damaged/);
        expect((await marks.read()).damaged, label).toMatch(why);
        expect(await codeOf(marks.markBad(l.names[2]!)), label).toBe('MARKS_DAMAGED');
        expect(await codeOf(store.prune(1)), label).toBe('MARKS_DAMAGED');
        expect(readdirSync(l.stateDir, { withFileTypes: true }).map((d) => [d.name, d.isFile() ? readFileSync(path.join(l.stateDir, d.name)) : null]), label).toEqual(before);
      }
      // A snapshot with keep: is taken; retention is refused with a warning (or an error without a listener).
      rmSync(marks.path, { recursive: true });
      writeFileSync(marks.path, 'garbage');
      const warnings: string[] = [];
      const snap = await store.snapshot({ onWarning: (w) => warnings.push(w) });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^the snapshot was taken, but retention \(keep: 1\) was not applied: retention refused: marks file .* is damaged/);
      expect(await codeOf(store.snapshot())).toBe('MARKS_DAMAGED');
      expect(readdirSync(l.backupsDir).filter((n) => n.startsWith('backup_'))).toHaveLength(5);
      expect(existsSync(path.join(l.backupsDir, snap.name, 'VERSION'))).toBe(true);
      expect(readFileSync(marks.path, 'utf8')).toBe('garbage');
    });

    it('lists 1,000 backups in one round trip', async () => {
      const { l, ex } = setup({ count: 1000, stepSeconds: 60, content: () => undefined, live: 500 });
      const counting = new CountingExecutor(ex);
      const marks = new MarkStore(new StateDir(counting, l.stateDir));
      const store = new SymlinkReleaseStore(l.symlinkTarget(), counting, marks, 'test');
      const list = await store.list();
      expect(counting.calls).toBe(1);
      expect(list).toHaveLength(1000);
      expect(list[0]!.name).toBe(l.names[999]);
      expect(list.filter((b) => b.current).map((b) => b.name)).toEqual([l.names[500]]);
    });

    it('shows what differs between two releases', async () => {
      const { l, store } = setup({ count: 2 });
      const lines = await store.changes(l.names[0]!, l.names[1]!);
      expect(lines.join('\n')).toMatch(/VERSION/);
    });

    it('compares links inside releases as links, never what they point at', async () => {
      const { l, store } = setup({ count: 2 });
      const outside = path.join(l.root, 'outside.txt');
      writeFileSync(outside, 'elsewhere\n');
      symlinkSync(outside, path.join(l.backupsDir, l.names[0]!, 'shared.txt'));
      writeFileSync(path.join(l.backupsDir, l.names[1]!, 'shared.txt'), 'elsewhere\n');
      const lines = (await store.changes(l.names[0]!, l.names[1]!)).join('\n');
      // followed, the link would read the same content as the file: no difference reported
      expect(lines).toMatch(/shared\.txt is a symbolic link while file .*shared\.txt is a regular file/);
    });
  });
}
