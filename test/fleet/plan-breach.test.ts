/**
 * Pure fleet decisions: when a trigger holds for the fleet (majority / any / all, unreachable hosts
 * inconclusive), and the plan from a passed pre-check (per-host from -> to, skipped, excluded, batches).
 */
import { describe, expect, it } from 'vitest';
import { fleetTrigger } from '../../src/core/fleet/breach.js';
import { fleetPlan, formatFleetPlan } from '../../src/core/fleet/plan.js';
import type { FleetPrecheck, HostPrecheck } from '../../src/core/fleet/precheck.js';
import { fleetExit, rolloutSettings } from '../../src/core/fleet/rollout.js';

const st = (...s: Array<'breached' | 'ok' | 'inconclusive'>) => s.map((state, i) => ({ host: `app-${i + 1}`, state }));

describe('fleetTrigger', () => {
  it('majority: one sick host of three is not the fleet; two are', () => {
    expect(fleetTrigger(st('breached', 'ok', 'ok'))).toMatchObject({ holds: false, breached: ['app-1'], needed: 2 });
    const two = fleetTrigger(st('breached', 'ok', 'breached'));
    expect(two).toMatchObject({ holds: true, breached: ['app-1', 'app-3'] });
    expect(two.explanation).toBe('2 of 3 hosts breached (app-1, app-3); majority needs 2');
    expect(fleetTrigger(st('breached', 'breached', 'ok', 'ok')).holds).toBe(false);
  });

  it('an unreachable host is never a breach but still counts among the selected hosts', () => {
    const v = fleetTrigger(st('breached', 'inconclusive', 'inconclusive'));
    expect(v.holds).toBe(false);
    expect(v.explanation).toBe('1 of 3 hosts breached (app-1); majority needs 2; inconclusive (not counted as breached): app-2, app-3');
  });

  it('any and all', () => {
    expect(fleetTrigger(st('ok', 'breached', 'ok'), 'any').holds).toBe(true);
    expect(fleetTrigger(st('breached', 'breached', 'inconclusive'), 'all').holds).toBe(false);
    expect(fleetTrigger(st('breached', 'breached', 'breached'), 'all').holds).toBe(true);
    expect(fleetTrigger([], 'any').holds).toBe(false);
  });
});

function host(name: string, live: string, onTarget = false): HostPrecheck {
  return { name, reachable: true, listed: true, live, locked: false, lock: null, onTarget, problems: [], backups: [] };
}

describe('fleetPlan', () => {
  const precheck: FleetPrecheck = {
    ok: true,
    exitCode: 0,
    env: 'web',
    target: 'r2',
    choice: { ok: true, target: 'r2', live: { a: 'r3', b: 'r2', c: 'r3', d: 'r3' }, onTarget: ['b'], warnings: [] },
    hosts: [host('a', 'r3'), host('b', 'r2', true), host('c', 'r3'), host('d', 'r3')],
    excluded: ['e'],
    message: 'ready',
  };

  it('per host from -> to; hosts already on the target skipped; excluded named; batches of the moving hosts', () => {
    const plan = fleetPlan(precheck, rolloutSettings({ order: 'canary', batch: 1, max_failures: 0, pause_seconds: 5 }, 4), { e: 'r3' });
    expect(plan.hosts.map((h) => [h.name, h.status, h.from, h.to])).toEqual([
      ['a', 'planned', 'r3', 'r2'],
      ['b', 'skipped', 'r2', 'r2'],
      ['c', 'planned', 'r3', 'r2'],
      ['d', 'planned', 'r3', 'r2'],
      ['e', 'excluded', 'r3', 'r2'],
    ]);
    expect(plan.batches).toEqual([['a'], ['c'], ['d']]);
    expect(fleetExit(plan.hosts)).toEqual({ ok: true, exitCode: 0 });
    expect(formatFleetPlan(plan)).toBe(
      [
        'fleet rollback of web to r2: canary, batches of 1, max_failures 0, 5 s between batches',
        '  a  r3 -> r2',
        '  b  already on r2 (verified again, skipped when healthy)',
        '  c  r3 -> r2',
        '  d  r3 -> r2',
        '  e  left out by --hosts (on r3)',
        '  batch 1: a',
        '  batch 2: c',
        '  batch 3: d',
      ].join('\n'),
    );
  });

  it('the default (every host at once) says every host restarts together', () => {
    const plan = fleetPlan(precheck, rolloutSettings(undefined, 4));
    expect(plan.batches).toEqual([['a', 'c', 'd']]);
    expect(plan.warnings).toEqual(['every host restarts at once (3 hosts in one batch): set rollout.batch to keep capacity']);
  });
});
