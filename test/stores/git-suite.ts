import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GitTargetConfig } from '../../src/core/config/schema.js';
import { UserError } from '../../src/core/errors.js';
import type { Executor } from '../../src/core/exec/types.js';
import { MarkStore } from '../../src/core/state/marks.js';
import { StateDir } from '../../src/core/state/state-dir.js';
import { GitReleaseStore } from '../../src/core/stores/git.js';
import { makeGitRepo, type GitFixture } from '../helpers/git-repo.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e, 'expected a rejection').toBeInstanceOf(UserError);
  return (e as UserError).code;
}

export function gitStoreSuite(label: string, getExecutor: () => Executor): void {
  describe(`git store (${label})`, () => {
    const fixtures: GitFixture[] = [];
    afterEach(() => {
      for (const f of fixtures.splice(0)) f.cleanup();
    });

    /** A repo whose 3 commits were each deployed (snapshot) in turn; HEAD at the newest. */
    async function setup(cfg: Partial<GitTargetConfig> = {}) {
      const f = makeGitRepo(3);
      fixtures.push(f);
      const ex = getExecutor();
      const marks = new MarkStore(new StateDir(ex, path.join(f.repo, '.rollback', 'state')));
      const store = new GitReleaseStore({ strategy: 'git', repo: f.repo, build: [], ...cfg }, ex, marks, 'test');
      for (const h of f.commits) {
        f.git('checkout', '-q', '-f', h);
        await store.snapshot();
      }
      return { f, store, marks, names: f.commits.map((h) => h.slice(0, 12)) };
    }

    it('lists deployed commits newest first with the live one and subjects', async () => {
      const { f, store, marks, names } = await setup();
      await marks.markBad(names[1]!);
      const list = await store.list();
      expect(list.map((b) => b.name)).toEqual([...names].reverse());
      expect(list[0]!.current).toBe(true);
      expect(list[0]!.detail).toBe('release 3');
      expect(list[1]!.bad).toBe(true);
      expect(await store.live()).toBe(names[2]);
      expect(existsSync(path.join(f.repo, '.rollback', 'deployed'))).toBe(true);
      // a second snapshot of the same HEAD does not duplicate it
      await store.snapshot();
      expect(await store.list()).toHaveLength(3);
    });

    it('switches with git checkout -f and runs the build commands, output kept', async () => {
      const { f, names } = await setup();
      const store = new GitReleaseStore(
        { strategy: 'git', repo: f.repo, build: ['echo "building $(cat app.txt)"', 'cp app.txt built.txt'] },
        getExecutor(), null, 'test');
      const lines: string[] = [];
      await store.validateTarget(names[0]!);
      await store.switchTo(names[0]!, { onLine: (l) => lines.push(l) });
      expect(f.git('rev-parse', 'HEAD')).toBe(f.commits[0]);
      expect(readFileSync(path.join(f.repo, 'built.txt'), 'utf8')).toBe('version 1\n');
      expect(lines).toContain('building version 1');
      expect(store.describeSwitch(names[0]!)[0]).toBe(`git -C ${f.repo} checkout -f ${names[0]}`);
      expect((await store.changes(names[0]!, names[2]!)).join('\n')).toMatch(/release 3/);
    });

    it('a failing build step is a clear error after the checkout', async () => {
      const { f, names } = await setup();
      const store = new GitReleaseStore({ strategy: 'git', repo: f.repo, build: ['echo "npm ERR! boom" >&2; exit 2'] }, getExecutor(), null, 'test');
      const e = await store.switchTo(names[0]!).catch((x: unknown) => x as UserError);
      expect((e as UserError).code).toBe('BUILD_FAILED');
      expect((e as UserError).message).toMatch(/exit 2.*npm ERR! boom/);
    });

    it('refuses a dirty tree unless emergency', async () => {
      const { f, store, names } = await setup();
      writeFileSync(path.join(f.repo, 'app.txt'), 'hand edit\n');
      expect(await codeOf(store.validateTarget(names[0]!))).toBe('DIRTY_TREE');
      expect(await codeOf(store.switchTo(names[0]!))).toBe('DIRTY_TREE');
      expect(readFileSync(path.join(f.repo, 'app.txt'), 'utf8')).toBe('hand edit\n');
      await store.validateTarget(names[0]!, { emergency: true });
      await store.switchTo(names[0]!, { emergency: true });
      expect(readFileSync(path.join(f.repo, 'app.txt'), 'utf8')).toBe('version 1\n');
    });

    it('rejects unsafe, unknown, unrecorded and live targets', async () => {
      const { f, store, names } = await setup();
      for (const bad of ['../x', 'a/b', '-rf', 'a\nb', '', 'HEAD', 'main']) {
        expect(await codeOf(store.validateTarget(bad)), bad).toBe('INVALID_BACKUP_NAME');
      }
      expect(await codeOf(store.validateTarget('deadbeefdead'))).toBe('BACKUP_NOT_FOUND');
      const unrecorded = f.commit('not deployed', { 'x.txt': 'x' });
      f.git('checkout', '-q', '-f', f.commits[2]!);
      expect(await codeOf(store.validateTarget(unrecorded.slice(0, 12)))).toBe('BACKUP_NOT_FOUND');
      expect(await codeOf(store.validateTarget(names[2]!))).toBe('TARGET_IS_LIVE');
    });

    it('a damaged marks.json is reported by the listing, and retention refuses to run', async () => {
      const { store, marks, names } = await setup();
      await marks.markBad(names[1]!);
      writeFileSync(marks.path, `{"bad": ["${names[1]}"]\0\0`);
      const list = await store.list();
      expect(list.map((b) => b.name)).toEqual([...names].reverse());
      for (const b of list) expect(b.marksDamaged).toMatch(new RegExp(`marks file ${marks.path} is damaged \\(not valid JSON`));
      expect(await codeOf(store.prune(1))).toBe('MARKS_DAMAGED');
      expect(await store.list()).toHaveLength(3);
    });

    it('retention drops old records but never live, known-good or the newest older than live', async () => {
      const { store, marks, names } = await setup();
      await marks.markKnownGood(names[0]!);
      expect(await store.prune(1)).toEqual([]);
      await marks.markBad(names[0]!);
      // newest older than live (names[1]) stays; names[0] is no longer protected. The records are
      // rewritten through a fresh mktemp file: links planted at the old name ("deployed.tmp.<pid>") for
      // the next pids are never written through.
      const victim = `${store.recordsFile}.victim`;
      writeFileSync(victim, 'untouched\n');
      const last = Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
      const max = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
      for (const pid of new Set(Array.from({ length: 3000 }, (_, k) => (last + 1 + k) % max))) symlinkSync(victim, `${store.recordsFile}.tmp.${pid}`);
      expect(await store.prune(1)).toEqual([names[0]]);
      expect((await store.list()).map((b) => b.name)).toEqual([names[2], names[1]]);
      expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
    });
  });
}
