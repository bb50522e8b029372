/**
 * The `via: target` HTTP probe on a host without curl falls back to wget, keeping wget's headers in a
 * fresh mktemp file: links planted at the old predictable name (/tmp/.rbtui_wget.<pid>) are never
 * written through. Real wget, real demo service, the local executor with a PATH that has no curl.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalExecutor } from '../../src/core/exec/index.js';
import { runHealthCheck } from '../../src/core/health/checks.js';
import { makeFixture, type Fixture } from './fixture.js';

let fx: Fixture | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await fx?.cleanup();
  fx = undefined;
});

const which = (tool: string): string => execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();

describe.runIf(process.platform === 'linux')('http via target without curl', () => {
  it('probes with wget through a mktemp file; a link at the old temp name is never written through', async () => {
    fx = await makeFixture();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-wget-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // A PATH with what the probe needs, and no curl.
    const binDir = path.join(dir, 'bin');
    mkdirSync(binDir);
    for (const tool of ['sh', 'wget', 'awk', 'mktemp', 'rm', 'cat']) symlinkSync(which(tool), path.join(binDir, tool));
    const victim = path.join(dir, 'victim');
    writeFileSync(victim, 'untouched\n');
    const last = Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
    const max = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
    const planted = [...new Set(Array.from({ length: 3000 }, (_, k) => (last + 1 + k) % max))].map((pid) => `/tmp/.rbtui_wget.${pid}`);
    const mine: string[] = [];
    for (const p of planted) {
      try {
        symlinkSync(victim, p);
        mine.push(p);
      } catch {
        // taken by something else: not ours to plant or remove
      }
    }
    cleanups.push(() => {
      for (const p of mine) rmSync(p, { force: true });
    });
    const PATH = process.env.PATH;
    process.env.PATH = binDir;
    cleanups.push(() => (process.env.PATH = PATH));
    const executor = new LocalExecutor();
    const url = `http://127.0.0.1:${fx.port}/health`;
    const r = await runHealthCheck({ http: { url, status: 200, timeout_seconds: 3, via: 'target' } }, { executor });
    expect(r).toMatchObject({ ok: true, status: 200 });
    const missing = await runHealthCheck({ http: { url: `http://127.0.0.1:${fx.port}/nope`, status: 200, timeout_seconds: 3, via: 'target' } }, { executor });
    expect(missing).toMatchObject({ ok: false, status: 404 });
    await executor.close();
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
  });
});
