/**
 * The console on a fleet of ten hosts at 80x24, as frame text: the header sums the fleet up, the Hosts
 * panel lists hosts with release, health, p95, memory, lock and a drift mark, scrolls to keep the
 * selected host visible, and selecting a host makes the charts and triggers that host's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { FleetMonitorState } from '../../src/core/monitor/fleet-monitor.js';
import { reducer } from '../../src/ui/state/reducer.js';
import { keyContextOf, routeKey } from '../../src/ui/state/input.js';
import { fleetHeadline } from '../../src/ui/state/slices/fleet.js';
import type { AppState } from '../../src/ui/state/types.js';
import { dashboardState, monitorState, sample, TRIGGERS, trigger } from './fixtures.js';
import { monochromeFrame } from './render.js';

afterEach(() => cleanup());

const frame = monochromeFrame;

const LIVE = 'backup_20261124_110000';
const OLD = 'backup_20261123_090000';

/** Ten hosts: app-03 sick (memory breached), app-07 unreachable, app-09 on another release (drift). */
function fleetState(): FleetMonitorState {
  const hosts = Array.from({ length: 10 }, (_, i) => {
    const name = `app-${String(i + 1).padStart(2, '0')}`;
    const sick = name === 'app-03';
    const live = name === 'app-09' ? OLD : LIVE;
    return {
      name,
      unreachable: name === 'app-07' ? 'cannot reach deploy@app-07:22: Connection refused' : null,
      state: monitorState({
        live,
        lastSample: sample(50, { p95_latency_ms: 100 + i, memory_usage_percent: sick ? 93 : 40 + i, up: true }),
        triggers: sick ? [trigger('memory', { status: 'breached', value: 93, threshold: 90, unit: '%', explanation: 'memory 93% > 90%' })] : TRIGGERS.slice(0, 3),
      }),
    };
  });
  return { env: 'prod', breach: 'majority', phase: 'watching', automation: 'armed', hosts, triggers: [], converging: [], graceRemainingSeconds: null };
}

function withFleet(): AppState {
  let s = reducer(dashboardState(), { type: 'fleet/state', state: fleetState() });
  s = reducer(s, { type: 'fleet/lock', host: 'app-05', owner: 'alice@ops-1' });
  for (let i = 0; i < 20; i++) s = reducer(s, { type: 'fleet/sample', host: 'app-03', sample: sample(i, { memory_usage_percent: 80 + i / 2 }) });
  return s;
}

const press = (s: AppState, input: string, key: Record<string, boolean> = {}): AppState => {
  const intent = routeKey(s, { input, key });
  return intent.kind === 'dispatch' ? reducer(s, intent.action) : s;
};

describe('Hosts panel (a fleet of 10 at 80x24)', () => {
  it('the header sums the fleet up; the panel shows the first hosts, focused, with release, health, p95, memory', () => {
    const s = withFleet();
    expect(fleetHeadline(s.fleet!.hosts)).toBe(`10 hosts · 9 on ${LIVE} · 1 drift · 1 unhealthy · 1 unreachable · 1 locked`);
    const f = frame(s);
    const lines = f.split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(80);
    expect(lines[0]).toContain('10 hosts · 9 on');
    expect(f).toMatch(/▶ Hosts\s+10 1-\d+\/10/);
    expect(f).toMatch(/› ?app-01 +20261124_110000 +up +p95 100ms +mem 40%/);
    expect(f).toMatch(/app-03 .*SICK .*mem 93% +memory/);
    expect(f).not.toContain('app-10');
  });

  it('the panel scrolls with the selection and marks drift, unreachable and the lock; the selected host is charted', () => {
    let s = withFleet();
    expect(keyContextOf(s).focus).toBe('hosts');
    for (let i = 0; i < 6; i++) s = press(s, '', { downArrow: true });
    expect(s.selection.hosts).toBe(6);
    const f = frame(s);
    expect(f).toMatch(/Hosts +10 6-8\/10/);
    expect(f).toMatch(/app-07 +20261124_110000 +UNREACH/);
    expect(f).not.toMatch(/app-01 /);
    s = press(press(s, '', { downArrow: true }), '', { downArrow: true });
    expect(frame(s)).toMatch(/app-09 ≠20261123_090000/);
    // Up to app-05 (locked), then app-03 (sick): the triggers are the selected host's.
    for (let i = 0; i < 4; i++) s = press(s, '', { upArrow: true });
    expect(frame(s)).toMatch(/app-05 .*🔒 alice@ops-1/);
    s = press(press(s, '', { upArrow: true }), '', { upArrow: true });
    expect(s.selection.hosts).toBe(2);
    const sick = frame(s);
    expect(sick).toMatch(/memory +✗ BREACHED +93%/);
    expect(sick).toMatch(/memory +▇+ now 89.5%/);
    expect(sick).not.toMatch(/latency +! warning/);
    s = press(s, 'g');
    expect(frame(s)).toContain('prod/app-03');
  });

  it('rollback keys on a fleet open the fleet rollback (every host, one target)', () => {
    const s = withFleet();
    for (const [key, rollback, dryRun] of [
      ['r', 'standard', false],
      ['e', 'emergency', false],
      ['d', 'standard', true],
    ] as const) {
      expect(routeKey(s, { input: key, key: {} })).toEqual({ kind: 'openRollback', rollback, dryRun });
    }
  });
});
