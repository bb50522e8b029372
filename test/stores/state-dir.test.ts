import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateDir } from '../../src/core/state/state-dir.js';
import { LocalExecutor } from '../../src/core/exec/local.js';
import { stateDirSuite } from './state-dir-suite.js';

stateDirSuite('local', () => new LocalExecutor());

describe('StateDir.read of a large file (local)', () => {
  it('reads past the executor output cap when asked, and refuses to cut a file short otherwise', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-big-'));
    try {
      const state = new StateDir(new LocalExecutor(), dir);
      const line = `${'x'.repeat(99)}\n`;
      writeFileSync(path.join(dir, 'history.jsonl'), line.repeat(60_000)); // 6 MB > the 4 MiB default cap
      const full = await state.read('history.jsonl', { maxBytes: 64 * 1024 * 1024 });
      expect(full?.length).toBe(6_000_000);
      await expect(state.read('history.jsonl')).rejects.toThrow(/larger than 4194304 bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
