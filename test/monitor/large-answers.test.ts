/**
 * `monitor --once` (the built bin, a child process) against a health endpoint and a Prometheus server
 * that answer with 300 MiB each, generated as sent: the sample is inconclusive with "response larger
 * than N" for both, and the child's peak RSS stays bounded (measured by the child itself at exit).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeReleaseLayout, type ReleaseLayout } from '../helpers/releases.js';
import { startHugeServer, type HugeServer } from '../health/huge-server.js';
import { ROOT } from './harness.js';

const BIN = path.join(ROOT, 'bin', 'rollback-tui.js');
const SIZE = 300 * 1024 * 1024;
/** The bound: a --once run needs well under this; reading one 300 MiB answer whole needs far more. */
const RSS_BOUND_KB = 300 * 1024;

describe('monitor --once against answers of hundreds of MiB', () => {
  let server: HugeServer;
  let layout: ReleaseLayout;
  let tmp: string;
  beforeAll(async () => {
    server = await startHugeServer(SIZE);
    layout = makeReleaseLayout({ count: 2 });
    tmp = mkdtempSync(path.join(os.tmpdir(), 'rtui-huge-'));
  });
  afterAll(async () => {
    await server?.close();
    layout?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('samples inconclusively ("response larger than ...") with a bounded RSS', async () => {
    const config = path.join(tmp, 'rollback-config.yml');
    writeFileSync(
      config,
      JSON.stringify({
        environments: {
          test: {
            target: layout.symlinkTarget(),
            state_dir: layout.stateDir,
            health: [{ http: { url: `${server.base}/noise`, body: 'ready', timeout_seconds: 60 } }],
            metrics: { source: 'prometheus', url: server.base, timeout_seconds: 60, queries: { error_rate: 'sum(rate(errors[1m]))' } },
          },
        },
      }),
    );
    // The child reports its own peak RSS (KiB) as it exits.
    const rssFile = path.join(tmp, 'rss');
    const reporter = path.join(tmp, 'report-rss.cjs');
    writeFileSync(reporter, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`);
    const child = spawn(process.execPath, ['--require', reporter, BIN, 'monitor', '--env', 'test', '--once', '--json'], {
      env: { PATH: process.env.PATH ?? '', HOME: tmp, ROLLBACK_CONFIG: config, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    // 'close', not 'exit': the last events can still be in the pipe when the process has exited.
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, err).toBe(0);
    const events = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; sample?: { up: boolean | null; error_rate: number | null; errors: Record<string, string> } });
    const sample = events.find((e) => e.type === 'sample')?.sample;
    expect(sample?.up).toBeNull();
    expect(sample?.errors.up).toContain('response larger than 1 MiB (no match for /ready/ in it)');
    expect(sample?.error_rate).toBeNull();
    expect(sample?.errors.error_rate).toBe('prometheus: response larger than 4 MiB (aggregate the query, e.g. sum(...))');
    const rssKb = Number(readFileSync(rssFile, 'utf8'));
    expect(rssKb).toBeGreaterThan(0);
    expect(rssKb).toBeLessThan(RSS_BOUND_KB);
    expect(server.completed.size).toBe(0);
  });
});
