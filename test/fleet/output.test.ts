/**
 * The pure parts of a fleet rollback's output and record: the host x step grid (redrawn in place on a
 * terminal, plain lines otherwise), a host's one-host result as its fleet status, when a service counts
 * as down (convergence starts it), and stats counting one fleet operation once.
 */
import { describe, expect, it } from 'vitest';
import { fleetProgress, formatHostGrid } from '../../src/cli/actions/fleet-progress.js';
import { BufferWriter } from '../../src/cli/output.js';
import { serviceDown } from '../../src/core/engine/fleet-host.js';
import { makeEntry } from '../../src/core/engine/history.js';
import { computeStats } from '../../src/core/engine/stats.js';
import type { RollbackResult } from '../../src/core/engine/types.js';
import { hostRunOf, idleHost, mergeFleetOperations } from '../../src/core/fleet/index.js';

describe('the host x step grid', () => {
  it('one row per host, a column per step, the status at the end', () => {
    const lines = formatHostGrid([
      { name: 'app-1', cells: { validate: 'ok', stop: 'ok', switch: 'ok', start: 'running' }, status: null, running: true },
      { name: 'app-22', cells: {}, status: null, running: false },
      { name: 'app-3', cells: { validate: 'ok', stop: 'ok', switch: 'ok', start: 'ok', verify: 'failed' }, status: 'verify_failed', running: false },
    ]);
    expect(lines).toEqual([
      'HOST    valid  maint  stop  switch  start  verify  record  STATUS',
      'app-1   ok     ·      ok    ok      …      ·       ·       running',
      'app-22  ·      ·      ·     ·       ·      ·       ·       waiting',
      'app-3   ok     ·      ok    ok      ok     FAIL    ·       verify_failed',
    ]);
  });

  it('not a terminal: plain lines as steps and hosts end, then the grid once; a terminal: redrawn in place', () => {
    const plain = new BufferWriter();
    const p = fleetProgress(plain, ['app-1', 'app-2'], { live: false });
    p.hostStart('app-1', 0);
    p.event('app-1', { type: 'step-end', step: 'switch', status: 'ok', ms: 12 });
    p.hostEnd({ ...idleHost('app-1', 'r3', 'r2', 'verified') });
    p.done();
    expect(plain.text()).not.toContain('\x1b[');
    expect(plain.text().split('\n')).toEqual([
      'app-1: started (batch 1)',
      'app-1: switch ok (12 ms)',
      'app-1: verified',
      'HOST   valid  maint  stop  switch  start  verify  record  STATUS',
      'app-1  ·      ·      ·     ok      ·      ·       ·       verified',
      'app-2  ·      ·      ·     ·       ·      ·       ·       waiting',
      '',
    ]);
    const tty = new BufferWriter();
    const t = fleetProgress(tty, ['app-1'], { live: true });
    t.event('app-1', { type: 'step-start', step: 'stop', title: 'stop the service', at: 0 });
    // The grid (2 lines) is drawn, then drawn again over itself: the cursor goes up 2 lines first.
    expect(tty.text()).toContain('\x1b[2F\x1b[2K');
    expect(tty.text().split('\x1b[2F').at(-1)).toContain('…');
  });
});

describe('a host\'s result in the fleet', () => {
  const base: RollbackResult = { ok: true, env: 'web', kind: 'standard', dry_run: false, from: 'r3', to: 'r2', steps: [{ name: 'switch', status: 'ok', ms: 1 }], verification: 'passed', duration_ms: 5, exit_code: 0 };
  it('verified, switched (emergency), verify_failed (exit 2), failed (naming a switch that happened), skipped', () => {
    expect(hostRunOf(base, false).status).toBe('verified');
    expect(hostRunOf({ ...base, kind: 'emergency', verification: 'skipped' }, false).status).toBe('switched');
    expect(hostRunOf({ ...base, ok: false, exit_code: 2, verification: 'failed', error: 'verification failed: /health 500' }, false)).toMatchObject({ status: 'verify_failed', error: 'verification failed: /health 500' });
    expect(hostRunOf({ ...base, ok: false, exit_code: 1, kind: 'emergency', error: 'service.start failed' }, false)).toMatchObject({ status: 'failed', error: 'service.start failed (switched to r2)' });
    expect(hostRunOf({ ...base, steps: [] }, true).status).toBe('skipped');
  });

  it('the service is down when no check got any answer; an HTTP error or an inconclusive check is not down', () => {
    const refused = { ok: false, name: 'http x', latencyMs: 1, error: 'connect ECONNREFUSED' };
    expect(serviceDown([refused])).toBe(true);
    expect(serviceDown([refused, { ok: false, name: 'http y', latencyMs: 1, status: 500, error: 'HTTP 500' }])).toBe(false);
    expect(serviceDown([{ ...refused, inconclusive: true }])).toBe(false);
    expect(serviceDown([])).toBe(false);
  });
});

describe('stats of a fleet', () => {
  it('one operation over three hosts counts once: failed when one host failed, as long as the slowest host', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, s)).toISOString();
    const part = (host: string, success: boolean, ms: number) =>
      makeEntry({ id: 'op-1', env: 'web', kind: 'standard', initiated_by: 'a@b', host, success, duration_ms: ms, timestamp: at(ms), verification: success ? 'passed' : 'failed', error: success ? null : '/health 500' });
    const entries = [part('app-3', true, 3), part('app-2', false, 9), part('app-1', true, 4), makeEntry({ id: 'op-0', env: 'db', kind: 'standard', initiated_by: 'a@b', timestamp: at(1), duration_ms: 2 })];
    const merged = mergeFleetOperations(entries);
    expect(merged).toHaveLength(2);
    expect(merged[0]).toMatchObject({ id: 'op-1', success: false, duration_ms: 9, verification: 'failed', error: 'app-2: /health 500' });
    expect(computeStats(merged)).toMatchObject({ total: 2, succeeded: 1, failed: 1 });
  });
});
