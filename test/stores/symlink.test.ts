import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/core/exec/local.js';
import { DIR_ENTRIES, parseListOutput, SH_PRELUDE } from '../../src/core/stores/common.js';
import { SymlinkReleaseStore } from '../../src/core/stores/symlink.js';
import { pollUntil } from '../engine/fixture.js';
import { makeReleaseLayout } from '../helpers/releases.js';
import { symlinkStoreSuite } from './symlink-suite.js';

symlinkStoreSuite('local', () => new LocalExecutor());

describe('symlink switch under load', () => {
  it('a reader resolving current/... thousands of times never fails while the store switches back and forth', async () => {
    const l = makeReleaseLayout({ count: 2 });
    try {
      const stop = path.join(l.root, 'stop');
      // A separate process reads through the link as fast as it can until told to stop. It says when it
      // reads: on a loaded machine its start can take longer than all the switches.
      const reader = spawn(
        process.execPath,
        [
          '-e',
          `const fs = require('fs'); let reads = 0, fails = 0; const errs = {};
           for (;;) {
             try { const v = fs.readFileSync(process.argv[1] + '/current/VERSION', 'utf8'); if (!v.startsWith('backup_')) fails++; }
             catch (e) { fails++; errs[e.code] = (errs[e.code] || 0) + 1; }
             reads++;
             if (reads === 200) process.stdout.write('reading\\n');
             if (reads % 200 === 0 && fs.existsSync(process.argv[2])) break;
           }
           process.stdout.write(JSON.stringify({ reads, fails, errs }));`,
          l.root,
          stop,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      reader.stdout.on('data', (b: Buffer) => (out += b.toString()));
      // 'close', not 'exit': the result is on stdout, which can still be open when the process has exited.
      const done = new Promise<void>((r) => reader.on('close', () => r()));
      await pollUntil(() => out.startsWith('reading\n') || reader.exitCode !== null, 30_000, 'the reader to read');
      const store = new SymlinkReleaseStore(l.symlinkTarget(), new LocalExecutor(), null, 'test');
      for (let i = 0; i < 30; i++) await store.switchTo(l.names[i % 2]!);
      writeFileSync(stop, '');
      await done;
      const result = JSON.parse(out.slice('reading\n'.length)) as { reads: number; fails: number; errs: Record<string, number> };
      expect(result.fails, JSON.stringify(result.errs)).toBe(0);
      expect(result.reads).toBeGreaterThan(2000);
    } finally {
      l.cleanup();
    }
  });
});

describe('listing without GNU find (BSD, busybox)', () => {
  it('the sh fallback lists the same entries: types without following symlinks, mtimes, sizes of real directories', async () => {
    const l = makeReleaseLayout({ count: 2 });
    try {
      mkdirSync(path.join(l.root, 'elsewhere'));
      symlinkSync(path.join(l.root, 'elsewhere'), path.join(l.backupsDir, 'backup_link'));
      writeFileSync(path.join(l.backupsDir, 'backup_file'), 'x');
      const shim = path.join(l.root, 'bin');
      mkdirSync(shim);
      writeFileSync(path.join(shim, 'find'), '#!/bin/sh\nexit 1\n');
      chmodSync(path.join(shim, 'find'), 0o755);
      const ex = new LocalExecutor();
      const list = async (env: Record<string, string> = {}) => {
        const r = await ex.script(`${SH_PRELUDE}bd=$1 pat=$2 sizes=1\n${DIR_ENTRIES}`, [l.backupsDir, 'backup_*'], { env, timeoutMs: 30_000 });
        expect(r.exitCode, r.stderr).toBe(0);
        const out = parseListOutput(r.stdout);
        return { entries: out.entries.map((e) => [e.name, e.type, Math.floor(e.mtimeMs / 1000)]).sort(), sizes: [...out.sizes.keys()].sort() };
      };
      const gnu = await list();
      const fallback = await list({ PATH: `${shim}:${process.env.PATH ?? ''}` });
      expect(fallback).toEqual(gnu);
      expect(gnu.entries.map((e) => [e[0], e[1]])).toEqual([['backup_20241112_100000', 'd'], ['backup_20241112_110000', 'd'], ['backup_file', 'f'], ['backup_link', 'l']]);
      expect(gnu.entries[0]![2]).toBe(Date.parse('2024-11-12T10:00:00Z') / 1000);
      expect(gnu.sizes).toEqual(l.names);
    } finally {
      l.cleanup();
    }
  });
});
