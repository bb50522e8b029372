import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/core/exec/local.js';
import { SymlinkReleaseStore } from '../../src/core/stores/symlink.js';
import { makeReleaseLayout } from '../helpers/releases.js';
import { symlinkStoreSuite } from './symlink-suite.js';

symlinkStoreSuite('local', () => new LocalExecutor());

describe('symlink switch under load', () => {
  it('a reader resolving current/... thousands of times never fails while the store switches back and forth', async () => {
    const l = makeReleaseLayout({ count: 2 });
    try {
      const stop = path.join(l.root, 'stop');
      // A separate process reads through the link as fast as it can until told to stop.
      const reader = spawn(
        process.execPath,
        [
          '-e',
          `const fs = require('fs'); let reads = 0, fails = 0; const errs = {};
           for (;;) {
             try { const v = fs.readFileSync(process.argv[1] + '/current/VERSION', 'utf8'); if (!v.startsWith('backup_')) fails++; }
             catch (e) { fails++; errs[e.code] = (errs[e.code] || 0) + 1; }
             reads++;
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
      const done = new Promise<void>((r) => reader.on('exit', () => r()));
      const store = new SymlinkReleaseStore(l.symlinkTarget(), new LocalExecutor(), null, 'test');
      for (let i = 0; i < 30; i++) await store.switchTo(l.names[i % 2]!);
      writeFileSync(stop, '');
      await done;
      const result = JSON.parse(out) as { reads: number; fails: number; errs: Record<string, number> };
      expect(result.fails, JSON.stringify(result.errs)).toBe(0);
      expect(result.reads).toBeGreaterThan(2000);
    } finally {
      l.cleanup();
    }
  });
});
