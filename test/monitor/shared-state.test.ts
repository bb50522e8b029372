/**
 * The files the owner of automation shares through a real state_dir: the sample file stays bounded
 * (rewritten from memory once it holds twice its limit, samples older than an hour dropped when an
 * owner takes it over), and observers' requests are taken once each, the file emptied behind them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/core/exec/local.js';
import { emptySample } from '../../src/core/monitor/sources/sample.js';
import { ObserverLink, OwnerPublisher, sampleFile, SAMPLE_FILE_WINDOW_MS, requestFile } from '../../src/core/monitor/shared-state.js';
import { StateDir } from '../../src/core/state/state-dir.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function stateDir(): Promise<{ state: StateDir; root: string }> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rtui-shared-'));
  dirs.push(root);
  const state = new StateDir(new LocalExecutor(), root);
  await state.ensure();
  return { state, root };
}

const lines = (root: string, name: string): string[] => readFileSync(path.join(root, name), 'utf8').split('\n').filter(Boolean);
const status = () => ({ owner: { kind: 'monitor', pid: 1, host: 'h', via: null, since: new Date().toISOString(), self: false }, state: {} as never, paused_by: null });

describe('the shared sample file', () => {
  it('never holds more than twice its limit, keeps the newest samples, and an observer reads them', async () => {
    const { state, root } = await stateDir();
    const errors: string[] = [];
    const owner = new OwnerPublisher(state, 'prod', status, (m) => errors.push(m), 5);
    const now = Date.now();
    expect(await owner.open(now)).toEqual([]);
    let most = 0;
    for (let i = 0; i < 23; i++) {
      owner.sample(emptySample(now + i, 'r1'));
      await owner.flush();
      most = Math.max(most, lines(root, sampleFile('prod')).length);
    }
    expect(errors).toEqual([]);
    expect(most).toBeLessThanOrEqual(10);
    const seen = await new ObserverLink(state, 'prod').samples(now + 23);
    expect(seen.at(-1)?.at).toBe(now + 22);
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(seen.map((s) => s.at)).toEqual([...seen.map((s) => s.at)].sort((a, b) => a - b));
  });

  it('a new owner keeps the previous owner\'s samples of the last hour and drops older ones', async () => {
    const { state, root } = await stateDir();
    const now = Date.now();
    const first = new OwnerPublisher(state, 'prod', status, () => undefined, 5);
    await first.open(now - SAMPLE_FILE_WINDOW_MS - 10_000);
    first.sample(emptySample(now - SAMPLE_FILE_WINDOW_MS - 5_000, 'old'));
    first.sample(emptySample(now - 1000, 'recent'));
    await first.flush();
    const next = new OwnerPublisher(state, 'prod', status, () => undefined, 5);
    const kept = await next.open(now);
    expect(kept.map((s) => s.release)).toEqual(['recent']);
    expect(lines(root, sampleFile('prod'))).toHaveLength(1);
  });
});

describe('requests from observers', () => {
  it('are taken once each, and the file is emptied behind them', async () => {
    const { state, root } = await stateDir();
    const owner = new OwnerPublisher(state, 'prod', status, () => undefined);
    const link = new ObserverLink(state, 'prod');
    await link.request('pause', 'alice@desk');
    await link.request('cancel', 'bob@desk');
    const taken = await owner.takeRequests();
    expect(taken.map((r) => [r.action, r.by])).toEqual([
      ['pause', 'alice@desk'],
      ['cancel', 'bob@desk'],
    ]);
    expect(readFileSync(path.join(root, requestFile('prod')), 'utf8')).toBe('');
    expect(await owner.takeRequests()).toEqual([]);
    await link.request('resume', 'alice@desk');
    expect((await owner.takeRequests()).map((r) => r.action)).toEqual(['resume']);
  });
});
