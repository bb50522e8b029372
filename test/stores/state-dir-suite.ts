import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/core/exec/types.js';
import { UserError } from '../../src/core/errors.js';
import { MarkStore, serializeMarks } from '../../src/core/state/marks.js';
import { StateDir } from '../../src/core/state/state-dir.js';
import { CountingExecutor } from '../helpers/counting-executor.js';

export function stateDirSuite(label: string, getExecutor: () => Executor): void {
  describe(`state dir (${label})`, () => {
    const roots: string[] = [];
    afterEach(() => {
      for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
    });
    function setup() {
      const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'rtui-state-')));
      roots.push(root);
      const ex = new CountingExecutor(getExecutor());
      return { root, ex, state: new StateDir(ex, path.join(root, 'state')) };
    }

    it('writes atomically, reads, appends lines, one round trip each', async () => {
      const { root, ex, state } = setup();
      await state.ensure();
      expect(statSync(path.join(root, 'state')).mode & 0o777).toBe(0o700);
      expect(await state.read('missing.json')).toBeNull();
      const content = `{"quote":"it's","cmd":"$(id)","nl":"a\\nb"}\n` + 'é✓\n';
      ex.calls = 0;
      await state.writeAtomic('journal.json', content);
      // One round trip over SSH; on this machine none (written in-process).
      expect(ex.calls).toBe(ex.kind === 'local' ? 0 : 1);
      expect(await state.read('journal.json')).toBe(content);
      await state.writeAtomic('journal.json', 'no trailing newline');
      expect(readFileSync(state.path('journal.json'), 'utf8')).toBe('no trailing newline');
      await state.appendLine('history.jsonl', '{"id":1}');
      await state.appendLine('history.jsonl', "{'$(touch pwned)'}");
      expect(readFileSync(state.path('history.jsonl'), 'utf8')).toBe("{\"id\":1}\n{'$(touch pwned)'}\n");
      await expect(state.appendLine('history.jsonl', 'a\nb')).rejects.toThrow(/newline/);
      await state.writeAtomic('incidents/2024-11-12.md', '# incident\n');
      expect(await state.list('incidents')).toEqual(['2024-11-12.md']);
      expect((await state.list()).sort()).toEqual(['history.jsonl', 'incidents', 'journal.json']);
      expect(readdirSync(path.join(root, 'state')).filter((n) => n.startsWith('.tmp'))).toEqual([]);
      expect(existsSync(path.join(root, 'state', 'pwned'))).toBe(false);
    });

    it('writes through fresh mktemp files: links planted at predictable temp names are never written through', async () => {
      const { root, state } = setup();
      await state.ensure();
      const dir = path.join(root, 'state');
      const victim = path.join(root, 'victim');
      writeFileSync(victim, 'untouched\n');
      // Temp names used to be ".tmp.<name>.<pid>": links at such names for the next few thousand pids.
      const last = Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
      const max = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
      for (let k = 1; k <= 3000; k++) {
        const pid = (last + k) % max;
        for (const name of [`.tmp.marks.json.${pid}`, `.tmp.append.${pid}`, `.tmp.lock.${pid}`, `.tmp.replaced.lock.${pid}`]) symlinkSync(victim, path.join(dir, name));
      }
      await state.writeAtomic('marks.json', '{"bad":[]}');
      await state.appendLine('history.jsonl', '{"id":1}');
      expect(await state.createExclusive('lock', 'a\n')).toBe(true);
      expect(await state.replaceIfUnchanged('lock', 'a\n', 'b\n')).toBe('replaced');
      expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
      expect(readFileSync(path.join(dir, 'marks.json'), 'utf8')).toBe('{"bad":[]}');
      expect(readFileSync(path.join(dir, 'lock'), 'utf8')).toBe('b\n');
      expect(readdirSync(dir).filter((n) => n.startsWith('.tmp') && !/\.\d+$/.test(n))).toEqual([]);
    });

    it('createExclusive is atomic and never shows a partial file; stat gives mtime and the host clock; remove', async () => {
      const { state } = setup();
      const results = await Promise.all([1, 2, 3, 4].map((i) => state.createExclusive('lock', `owner ${i}\n`)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await state.read('lock')).toBe(`owner ${results.indexOf(true) + 1}\n`);
      const st = await state.stat('lock');
      expect(st!.isDir).toBe(false);
      expect(Math.abs(st!.mtimeMs - st!.nowMs)).toBeLessThan(60_000);
      expect(await state.stat('nope')).toBeNull();
      await state.remove('lock');
      expect(await state.createExclusive('lock', 'again\n')).toBe(true);
      await state.writeAtomic('x', '1');
      await state.remove('x');
      expect(await state.read('x')).toBeNull();
    });

    it('a file moved away while it is read reads as absent or whole, never as an error', async () => {
      const { state } = setup();
      await state.writeAtomic('locks/prod.owner.json', 'owner\n');
      const f = state.path('locks/prod.owner.json');
      // What a lock breaker does to the owner file: move it aside and put a file back, over and over.
      // It stops at a stop file, not a signal: a killed shell leaves its last `mv` running, and that
      // `mv` would put a file back while the test's directory is being removed.
      const stop = `${f}.stop`;
      const churn = spawn('sh', ['-c', 'while [ ! -e "$2" ]; do mv -f -- "$1" "$1.aside"; mv -f -- "$1.aside" "$1"; done', 'churn', f, stop], { stdio: 'ignore' });
      const exited = new Promise((resolve) => churn.once('exit', resolve));
      try {
        const seen = new Set<string>();
        for (let i = 0; i < 40; i++) seen.add(String(await state.read('locks/prod.owner.json')));
        expect([...seen].every((v) => v === 'owner\n' || v === 'null'), [...seen].join(' | ')).toBe(true);
      } finally {
        writeFileSync(stop, '');
        await exited;
      }
    });

    it('validates names', () => {
      const { state } = setup();
      for (const bad of ['../x', 'a/b', '/etc/passwd', 'incidents/../x', 'incidents/a/b', '.', '..', 'a\nb', '-x', '']) {
        expect(() => state.path(bad || 'x/'), bad).toThrow(/invalid state file name/);
      }
      expect(state.path('incidents/a.md')).toBe(`${state.root}/incidents/a.md`);
    });

    it('marks: marking one way removes the other', async () => {
      const { state } = setup();
      const marks = new MarkStore(state);
      expect(await marks.read()).toEqual({ knownGood: [], bad: [] });
      await marks.markKnownGood('a');
      await marks.markBad('b');
      await marks.markBad('a');
      expect(await marks.read()).toEqual({ knownGood: [], bad: ['b', 'a'] });
      await marks.markKnownGood('b');
      expect(await marks.read()).toEqual({ knownGood: ['b'], bad: ['a'] });
      expect(JSON.parse(readFileSync(marks.path, 'utf8'))).toEqual({ known_good: ['b'], bad: ['a'] });
      // A rollback's mark step in one write: the fled release bad, the restored one known-good.
      await marks.apply({ bad: ['b'], knownGood: ['a'] });
      expect(await marks.read()).toEqual({ knownGood: ['a'], bad: ['b'] });
    });

    it('marks: after a listing read the file, a mark is one compare-and-write; a change made meanwhile is kept', async () => {
      const { ex, state } = setup();
      const marks = new MarkStore(state);
      await marks.apply({ bad: ['a'] });
      marks.saw(readFileSync(marks.path, 'utf8'));
      ex.calls = 0;
      await marks.apply({ knownGood: ['b'] });
      expect(ex.calls).toBe(ex.kind === 'local' ? 0 : 1);
      expect(await marks.read()).toEqual({ knownGood: ['b'], bad: ['a'] });
      // Another operator marks c bad after the listing: the compare fails, the file is read again.
      marks.saw(readFileSync(marks.path, 'utf8'));
      writeFileSync(marks.path, serializeMarks({ knownGood: ['b'], bad: ['a', 'c'] }));
      await marks.apply({ knownGood: ['d'] });
      expect(await marks.read()).toEqual({ knownGood: ['b', 'd'], bad: ['a', 'c'] });
      // Seen absent, still absent: one call; seen absent but created meanwhile: kept.
      rmSync(marks.path);
      marks.saw(null);
      ex.calls = 0;
      await marks.apply({ bad: ['x'] });
      expect(ex.calls).toBe(ex.kind === 'local' ? 0 : 1);
      rmSync(marks.path);
      marks.saw(null);
      writeFileSync(marks.path, serializeMarks({ knownGood: [], bad: ['y'] }));
      await marks.apply({ bad: ['z'] });
      expect(await marks.read()).toEqual({ knownGood: [], bad: ['y', 'z'] });
    });

    it('marks: a damaged file reads as damaged (never as no marks) and writers refuse to replace it', async () => {
      const { state } = setup();
      const marks = new MarkStore(state);
      await marks.markBad('backup_3');
      for (const [content, why] of [
        ['{"known_good": [], "bad": ["backup_3"', /not valid JSON/],
        ['\0\0\0\0', /not valid JSON/],
        ['  \n', /it is empty/],
        ['["backup_3"]', /not a JSON object/],
        ['{"known_good": [1]}', /"known_good" is not a list of names/],
      ] as const) {
        writeFileSync(marks.path, content);
        const m = await marks.read();
        expect(m.damaged, JSON.stringify(content)).toMatch(why);
        expect(m.damaged).toContain(`marks file ${marks.path} is damaged`);
        for (const write of [() => marks.markBad('backup_4'), () => marks.markKnownGood('backup_2'), () => marks.forget(['backup_3']), () => marks.apply({ bad: ['backup_4'] })]) {
          const e = await write().then(() => null, (x: unknown) => x);
          expect(e).toBeInstanceOf(UserError);
          expect((e as UserError).code).toBe('MARKS_DAMAGED');
          expect((e as UserError).message).toMatch(/^cannot record marks \(.*\): marks file .* is damaged/);
        }
        expect(readFileSync(marks.path, 'utf8')).toBe(content);
      }
      rmSync(marks.path);
      mkdirSync(marks.path);
      expect((await marks.read()).damaged).toMatch(/it is not a regular file/);
      expect(await marks.markBad('x').then(() => '', (e: UserError) => e.code)).toBe('MARKS_DAMAGED');
      // Seen whole by a listing, then replaced by a directory: the same refusal, not another error.
      marks.saw(serializeMarks({ knownGood: [], bad: [] }));
      expect(await marks.markBad('x').then(() => '', (e: UserError) => e.code)).toBe('MARKS_DAMAGED');
      rmSync(marks.path, { recursive: true });
      // a missing file is simply no marks, and writable
      expect(await marks.read()).toEqual({ knownGood: [], bad: [] });
      await marks.markBad('backup_4');
      expect(await marks.read()).toEqual({ knownGood: [], bad: ['backup_4'] });
    });
  });
}
