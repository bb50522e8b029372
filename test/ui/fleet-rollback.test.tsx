/**
 * The console rolls a fleet back, as frame text at 80x24 and 120x40 and with NO_COLOR: r on a fleet
 * opens the fleet's preview (per host from -> to, the rollout's batches), a failed pre-check names each
 * host and runs nothing, the run is a host x step grid that scrolls with ten hosts while the Hosts panel
 * stays, the result is one line per host with how to go either way after a stopped rollout, and quitting
 * during the run asks first. The plans and results are made by the fleet core's own functions.
 */
import React from 'react';
import chalk from 'chalk';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { idleHost, planBatches, rolloutSettings, stoppedAdvice, type FleetHostResult, type FleetPlan } from '../../src/core/fleet/index.js';
import type { FleetMonitorState } from '../../src/core/monitor/fleet-monitor.js';
import { previewOf, type FleetPreview } from '../../src/ui/fleet-run.js';
import type { FleetPrecheck } from '../../src/core/fleet/index.js';
import { Screen } from '../../src/ui/components/Screen.js';
import { ThemeProvider } from '../../src/ui/components/ThemeContext.js';
import { DEFAULT_THEME, loadTheme } from '../../src/ui/theme.js';
import { isRunning, reducer } from '../../src/ui/state/reducer.js';
import { routeKey } from '../../src/ui/state/input.js';
import type { Action, AppState } from '../../src/ui/state/types.js';
import { dashboardState, monitorState, NOW, sample } from './fixtures.js';
import { monochromeFrame, renderAt } from './render.js';

afterEach(() => cleanup());

const LIVE = 'backup_20261124_110000';
const OLD = 'backup_20261123_090000';
const NAMES = Array.from({ length: 10 }, (_, i) => `app-${String(i + 1).padStart(2, '0')}`);

function fleetState(live: (name: string) => string = () => LIVE): FleetMonitorState {
  const hosts = NAMES.map((name, i) => ({
    name,
    unreachable: null,
    state: monitorState({ live: live(name), lastSample: sample(50, { p95_latency_ms: 100 + i, memory_usage_percent: 40 + i, up: true }) }),
  }));
  return { env: 'prod', breach: 'majority', phase: 'watching', automation: 'armed', hosts, triggers: [], converging: [], graceRemainingSeconds: null };
}

/** Ten hosts on LIVE but app-10 (already on OLD): parallel, batches of 3, max_failures 1, a 5 s pause. */
function tenHostPlan(): FleetPlan {
  const settings = rolloutSettings({ order: 'parallel', batch: 3, max_failures: 1, pause_seconds: 5 }, 10);
  const moving = NAMES.slice(0, 9);
  const hosts = [...moving.map((n) => idleHost(n, LIVE, OLD, 'planned')), idleHost('app-10', OLD, OLD, 'skipped')];
  return { env: 'prod', to: OLD, hosts, batches: planBatches(moving, settings), settings, warnings: [] };
}

const ready = (plan: FleetPlan): FleetPreview => ({
  plan,
  exitCode: 0,
  hosts: plan.hosts.map((h) => ({ name: h.name, live: h.from, problems: [] })),
  message: null,
  hint: null,
  code: null,
  fleetProblem: null,
});

const withFleet = (): AppState => reducer(dashboardState(), { type: 'fleet/state', state: fleetState() });
const apply = (s: AppState, ...actions: Action[]): AppState => actions.reduce(reducer, s);
const press = (s: AppState, input: string, key: Record<string, boolean> = {}): AppState => {
  const intent = routeKey(s, { input, key });
  if (intent.kind === 'dispatch') return reducer(s, intent.action);
  if (intent.kind === 'openRollback') return reducer(s, { type: 'dialog/openRollback', kind: intent.rollback, dryRun: intent.dryRun, target: intent.target });
  return s;
};
const type = (s: AppState, text: string): AppState => [...text].reduce((x, ch) => press(x, ch), s);

const ESC = String.fromCharCode(27);
/** Any SGR sequence (colour, bold, inverse) and a colour one (foreground or background). */
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');
const COLOUR = new RegExp(`${ESC}\\[(3[0-8]|9[0-7]|4[0-8]|10[0-7])[;m]`);

function fits(frame: string, width: number, height: number): void {
  const lines = frame.split('\n');
  expect(lines.length).toBeLessThanOrEqual(height);
  for (const l of lines) expect([...l].length).toBeLessThanOrEqual(width);
}

/** The frames at 80x24 and 120x40, each checked to fit. */
function at80and120(s: AppState): string[] {
  return ([
    [80, 24],
    [120, 40],
  ] as const).map(([w, h]) => {
    const f = monochromeFrame(s, w, h);
    fits(f, w, h);
    return f;
  });
}

/** A run in the middle of its first batch: app-01 verified, app-02 verifying, app-03 failed at start. */
function midRun(): AppState {
  let s = type(press(withFleet(), 'r'), 'bad deploy');
  s = apply(s, { type: 'dialog/fleetPlan', preview: ready(tenHostPlan()) });
  s = press(type(s, 'bad deploy'), '', { return: true });
  s = press(type(s, 'prod'), '', { return: true });
  const run = s.pendingRun;
  expect(run?.fleetPlan?.to).toBe(OLD);
  s = apply(s, { type: 'run/taken' }, { type: 'fleetRun/started', kind: 'standard', dryRun: false, plan: run!.fleetPlan!, at: NOW });
  const steps = (host: string, ...names: Array<['stop' | 'switch' | 'start' | 'verify', 'ok' | 'failed' | 'running']>): Action[] =>
    names.map(([step, st]) =>
      st === 'running'
        ? { type: 'fleetRun/event', host, event: { type: 'step-start', step, title: step, at: NOW }, at: NOW }
        : { type: 'fleetRun/event', host, event: { type: 'step-end', step, status: st, ms: 10 }, at: NOW },
    );
  return apply(
    s,
    ...['app-01', 'app-02', 'app-03'].map((host): Action => ({ type: 'fleetRun/hostStart', host, batch: 0, at: NOW })),
    ...steps('app-01', ['stop', 'ok'], ['switch', 'ok'], ['start', 'ok'], ['verify', 'ok']),
    { type: 'fleetRun/hostEnd', result: { ...idleHost('app-01', LIVE, OLD, 'verified'), verification: 'passed' }, at: NOW },
    ...steps('app-02', ['stop', 'ok'], ['switch', 'ok'], ['start', 'ok'], ['verify', 'running']),
    ...steps('app-03', ['stop', 'ok'], ['switch', 'ok'], ['start', 'failed']),
    { type: 'tick', now: NOW + 4000 },
  );
}

/** The rollout stopped after its first batch: app-01 verified, app-02 verification failed, the rest untouched. */
function stoppedOutcome(): FleetHostResult[] {
  return NAMES.map((n) =>
    n === 'app-01'
      ? { ...idleHost(n, LIVE, OLD, 'verified'), verification: 'passed' as const }
      : n === 'app-02'
        ? { ...idleHost(n, LIVE, OLD, 'verify_failed'), verification: 'failed' as const, error: 'verification failed: /health 500 (http://127.0.0.1:40123/health answered 500 three times within 15 s)' }
        : n === 'app-10'
          ? idleHost(n, OLD, OLD, 'skipped')
          : idleHost(n, LIVE, OLD, 'untouched'),
  );
}

function finished(s: AppState): AppState {
  const hosts = stoppedOutcome();
  const advice = stoppedAdvice('prod', hosts, 'bad deploy');
  return apply(s, { type: 'fleetRun/finished', outcome: { ok: false, exitCode: 1, dryRun: false, to: OLD, hosts, stopped: 'max_failures', advice, operationId: 'rb-1' }, at: NOW + 9000 });
}

describe('the console rolls a fleet back', () => {
  it('r on a fleet opens the fleet rollback (refused only while one runs); the preview lists every host, the batches and the rollout at 80x24', () => {
    let s = press(withFleet(), 'r');
    expect(s.dialog).toMatchObject({ type: 'rollback', kind: 'standard', stage: 'loading' });
    s = apply(s, { type: 'dialog/fleetPlan', preview: ready(tenHostPlan()), requestId: s.rollbackRequests });
    expect(s.dialog).toMatchObject({ stage: 'reason' });
    const f = monochromeFrame(s, 80, 24);
    fits(f, 80, 24);
    expect(f).toMatch(/Standard rollback of +prod +\(10 hosts\)/);
    expect(f).toContain('to 20261123_090000 · parallel, batches of 3, max_failures 1, 5 s pause');
    for (const n of NAMES.slice(0, 9)) expect(f).toMatch(new RegExp(`${n} +20261124_110000 -> 20261123_090000 +batch ${Math.floor((Number(n.slice(4)) - 1) / 3) + 1}`));
    expect(f).toMatch(/app-10 +already on 20261123_090000/);
    expect(f).toContain('batch 2: app-04, app-05, app-06');
    expect(f).toContain('Reason:');
    // With banners on a shorter screen there is less room: the hosts that do not fit are counted, never cut
    // silently, and the batches fold onto one line.
    const tight = apply(s, { type: 'banner/interrupted', message: 'app-04: an interrupted rollback in the journal' }, { type: 'banner/unreachable', message: 'app-07: Connection refused' }, { type: 'lock/owner', owner: 'bob@ops-2' });
    const t = monochromeFrame(tight, 80, 21);
    fits(t, 80, 21);
    expect(t).toMatch(/… \d+ more hosts \(rollback-tui rollback --env prod --dry-run lists all\)/);
    expect(t).toContain('batch 1: app-01, app-02, app-03 · batch 2: app-04, app-05, app-06 · batch 3');
  });

  it('at 120x40 every host is listed (the one already on the target too) with one line per batch; the one confirmation rule asks for the name', () => {
    let s = press(withFleet(), 'r');
    s = apply(s, { type: 'dialog/fleetPlan', preview: ready(tenHostPlan()) });
    s = press(type(s, 'bad deploy'), '', { return: true });
    expect(s.dialog).toMatchObject({ stage: 'confirm', confirmation: { kind: 'type-name' } });
    const f = monochromeFrame(s, 120, 40);
    fits(f, 120, 40);
    for (const n of NAMES.slice(0, 9)) expect(f).toMatch(new RegExp(`${n} +${LIVE} -> ${OLD} +batch \\d`));
    expect(f).toMatch(/app-10 +already on backup_20261123_090000: verified again, skipped when healthy/);
    expect(f).toContain('batch 3: app-07, app-08, app-09');
    expect(f).toContain(`Type prod to roll back (10 hosts to ${OLD}):`);
    // A yes-no environment takes y, with the same preview.
    let y = press(reducer(dashboardState({ confirm: 'yes-no' }), { type: 'fleet/state', state: fleetState() }), 'r');
    y = apply(y, { type: 'dialog/fleetPlan', preview: ready(tenHostPlan()) });
    y = press(type(y, 'bad deploy'), '', { return: true });
    expect(monochromeFrame(y, 120, 40)).toContain(`Roll back prod (10 hosts to ${OLD}) now? y = yes`);
    y = press(y, 'y');
    expect(y.pendingRun).toMatchObject({ kind: 'standard', reason: 'bad deploy', dryRun: false, fleetPlan: { to: OLD } });
  });

  it('e on a fleet: the emergency says what it skips on every host and always asks for the name', () => {
    let s = press(reducer(dashboardState({ confirm: 'yes-no' }), { type: 'fleet/state', state: fleetState() }), 'e');
    s = apply(s, { type: 'dialog/fleetPlan', preview: ready(tenHostPlan()) });
    s = press(type(s, 'site down'), '', { return: true });
    expect(s.dialog).toMatchObject({ kind: 'emergency', stage: 'confirm', confirmation: { kind: 'type-name', why: 'emergency' } });
    for (const f of at80and120(s)) {
      expect(f).toMatch(/EMERGENCY rollback of +prod +\(10 hosts\)/);
      expect(f.replace(/[║\n]/g, ' ').replace(/ +/g, ' ')).toContain('⚠ EMERGENCY: pre-validation and verification will be skipped on every host');
      expect(f).toMatch(/app-01 +(backup_)?20261124_110000 -> (backup_)?20261123_090000 +batch 1/);
      expect(f).toMatch(/Type prod to roll back \(10 hosts to (backup_)?20261123_090000\):/);
    }
  });

  it('a failed pre-check names each host (a held lock: exit 3; an unreachable host) and nothing can run', () => {
    let s = press(withFleet(), 'r');
    const preview: FleetPreview = {
      plan: null,
      exitCode: 3,
      hosts: NAMES.map((name) => ({
        name,
        live: LIVE,
        problems: name === 'app-02' ? ['locked by bob@ops-2 (rollback since 11:58)'] : name === 'app-07' ? ['unreachable: ssh: connect to host 127.0.0.17 port 22: Connection refused'] : [],
      })),
      message: 'prod is locked on app-02: app-02: locked by bob@ops-2 · app-07: unreachable; nothing was changed',
      hint: 'wait for the rollback or deploy holding it to finish; --break-lock breaks only a stale lock',
      code: 'LOCK_HELD',
      fleetProblem: null,
    };
    s = apply(s, { type: 'dialog/fleetPlan', preview });
    expect(s.dialog).toMatchObject({ stage: 'blocked' });
    for (const f of at80and120(s)) {
      expect(f).toContain('✗ Cannot roll back prod: nothing was changed (exit 3: a lock is held)');
      expect(f).toMatch(/✗ app-02 +locked by bob@ops-2/);
      expect(f).toMatch(/✗ app-07 +unreachable: ssh: connect to host 127.0.0.17/);
      expect(f).toMatch(/✓ app-01 +ready, on/);
      expect(f).toContain('This rollback cannot run. Esc closes; nothing was changed.');
    }
    s = press(s, '', { return: true });
    expect(s.pendingRun).toBeNull();
  });

  it('an unreachable host: the preview names it, and says how to leave it out (the command line, --hosts with the others)', () => {
    const host = (name: string, reachable: boolean) => ({ name, reachable, listed: reachable, live: reachable ? LIVE : null, locked: false, lock: null, onTarget: false, problems: reachable ? [] : ['unreachable: ssh: connect to host 127.0.0.13 port 22: Connection refused'], backups: [] });
    const precheck: FleetPrecheck = {
      ok: false,
      exitCode: 1,
      env: 'prod',
      target: OLD,
      choice: null,
      hosts: [host('app-01', true), host('app-02', true), host('app-03', false)],
      excluded: [],
      message: 'cannot roll back prod: app-03: unreachable: ssh: connect to host 127.0.0.13 port 22: Connection refused; nothing was changed',
    };
    const preview = previewOf(precheck, null);
    expect(preview).toMatchObject({ plan: null, exitCode: 1, code: 'UNREACHABLE' });
    const s = apply(press(withFleet(), 'r'), { type: 'dialog/fleetPlan', preview });
    const f = monochromeFrame(s, 120, 40);
    expect(f).toMatch(/✗ app-03 +unreachable: ssh: connect to host 127.0.0.13/);
    expect(f).toContain('→ bring app-03 back, or leave it out from the command line: rollback-tui rollback --env prod --hosts app-01,app-02');
    expect(f).toContain('✗ Cannot roll back prod: nothing was changed');
  });

  it('on drift the console asks for an explicit pick: the hosts and their releases, and t on a backup is the fleet target', () => {
    let s = reducer(dashboardState(), { type: 'fleet/state', state: fleetState((n) => (n === 'app-03' ? OLD : LIVE)) });
    s = press(s, 'r');
    s = apply(s, {
      type: 'dialog/fleetPlan',
      preview: {
        plan: null,
        exitCode: 1,
        hosts: NAMES.map((name) => ({ name, live: name === 'app-03' ? OLD : LIVE, problems: [] })),
        message: 'cannot roll back prod: the hosts run different releases',
        hint: 'pass --to NAME',
        code: 'DRIFT',
        fleetProblem: `the hosts run different releases (app-01, app-02 and 7 more on ${LIVE}; app-03 on ${OLD}): name the target with --to`,
      },
    });
    const f = monochromeFrame(s, 80, 24);
    expect(f).toContain('✗ the hosts run different releases');
    expect(f).toContain('→ pick the target yourself: Tab to Backups, select one, t');
    expect(f).toMatch(/✓ app-03 +ready, on 20261123_090000/);
    s = press(s, '', { escape: true });
    // Tab from the Hosts panel to the Backups panel, then t on the selected backup.
    s = press(s, '', { tab: true });
    expect(s.focus).toBe('backups');
    s = press(press(s, 'j'), 't');
    expect(s.dialog).toMatchObject({ type: 'rollback', kind: 'targeted', target: s.backups[1]?.name });
  });

  it('the run is a host x step grid at 80x24 that scrolls to the hosts at work while the Hosts panel stays and updates', () => {
    let s = midRun();
    expect(isRunning(s)).toBe(true);
    let f = monochromeFrame(s, 80, 24);
    fits(f, 80, 24);
    expect(f).toMatch(/FLEET standard rollback of 10 hosts -> 20261123_090000 +total 4.0s/);
    expect(f).toMatch(/HOST +stop +switch +start +verify +STATUS/);
    expect(f).toMatch(/app-01 +✓ +✓ +✓ +✓ +verified/);
    expect(f).toMatch(/app-02 +✓ +✓ +✓ +⠋ +running 4.0s/);
    expect(f).toMatch(/app-03 +✓ +✓ +✗ +· +running/);
    expect(f).toMatch(/app-04 +· +· +· +· +waiting · batch 2/);
    expect(f).toMatch(/Hosts +10/);
    // With banners on screen the grid has fewer rows than hosts: it scrolls (and says where it is).
    s = apply(s, { type: 'banner/interrupted', message: 'app-04: an interrupted rollback in the journal' }, { type: 'banner/unreachable', message: 'app-07: Connection refused' });
    f = monochromeFrame(s, 80, 24);
    fits(f, 80, 24);
    expect(f).toMatch(/HOST +stop +switch +start +verify +STATUS +1-\d+\/10 ↓/);
    // The rollout moves on: batch 3 at work, the grid scrolls to it.
    s = apply(
      s,
      ...NAMES.slice(1, 6).map((n): Action => ({ type: 'fleetRun/hostEnd', result: { ...idleHost(n, LIVE, OLD, 'verified'), verification: 'passed' }, at: NOW })),
      { type: 'fleetRun/note', level: 'info', text: 'pausing 5 s before batch 3', at: NOW },
      ...NAMES.slice(6, 9).map((host): Action => ({ type: 'fleetRun/hostStart', host, batch: 2, at: NOW })),
      { type: 'fleet/state', state: fleetState((n) => (['app-01', 'app-02'].includes(n) ? OLD : LIVE)) },
    );
    f = monochromeFrame(s, 80, 24);
    fits(f, 80, 24);
    expect(f).toContain('pausing 5 s before batch 3');
    expect(f).toMatch(/app-07 +· +· +· +· +running/);
    expect(f).toMatch(/app-09 +· +· +· +· +running/);
    expect(f).not.toMatch(/app-01 +✓/);
    expect(f).toMatch(/ [3-7]-\d+\/10 ↑/);
    // The Hosts panel below shows the fleet monitor's latest report (app-01 now on the old release).
    expect(f).toMatch(/app-01 +≠20261123_090000/);
    // A host's failed step is in the events pane, named with the host.
    expect(s.events.map((e) => e.text)).toContain('app-03: step start failed');
    // Keys that would start another rollback are refused while this one runs.
    expect(routeKey(s, { input: 'r', key: {} })).toMatchObject({ kind: 'refused', text: 'r: a rollback is already running; wait for its result' });
  });

  it('at 120x40 the whole grid is on screen with the Hosts panel', () => {
    const f = monochromeFrame(midRun(), 120, 40);
    fits(f, 120, 40);
    for (const n of NAMES) expect(f).toMatch(new RegExp(`${n} +[·✓✗⠋] `));
    expect(f).not.toContain('/10 ↓');
    expect(f).toMatch(/Hosts +10/);
  });

  it('quitting during a fleet rollback asks first, like on one host', () => {
    let s = press(midRun(), 'q');
    expect(s.dialog).toEqual({ type: 'quit' });
    expect(s.quitting).toBe(false);
    const f = monochromeFrame(s, 80, 24);
    fits(f, 80, 24);
    expect(f).toContain('A fleet rollback is running.');
    expect(f.replace(/[║│\n]/g, ' ').replace(/ +/g, ' ')).toContain('no new host starts, untouched hosts stay untouched, every lock is released');
    expect(f).toMatch(/app-02 +✓ +✓ +✓ +⠋/);
    expect(press(s, 'n').dialog).toBeNull();
    s = press(s, 'y');
    expect(s.quitting).toBe(true);
  });

  it('the result is one line per host, and a stopped rollout says how to go either way (80x24, 120x40); Esc dismisses it', () => {
    let s = finished(midRun());
    expect(isRunning(s)).toBe(false);
    for (const f of at80and120(s)) {
      expect(f).toContain(`✗ Fleet rollback to ${OLD} STOPPED (too many failed hosts)`);
      expect(f).toContain(`app-01 verified on ${OLD}`);
      expect(f).toContain(`app-02 verification failed: on ${OLD}, /health 500 (http:`);
      expect(f).toContain(`app-03 untouched on ${LIVE}`);
      expect(f).toContain(`app-10 already on the target on ${OLD}`);
      const flat = f.replace(/[║│\n]/g, ' ').replace(/ +/g, ' ');
      expect(flat).toContain(`to finish: rollback-tui rollback --env prod --to ${OLD}`);
      expect(flat).toContain(`to undo instead: rollback-tui rollback --env prod --hosts app-01,app-02 --to ${LIVE}`);
      expect(f).toContain('Esc dismisses');
    }
    // Where there is room (120x40), a host's line longer than the screen is wrapped whole, not cut.
    expect(at80and120(s)[1]!.replace(/[║\n]/g, ' ').replace(/ +/g, ' ')).toContain(
      `app-02 verification failed: on ${OLD}, /health 500 (http://127.0.0.1:40123/health answered 500 three times within 15 s)`,
    );
    expect(s.events.at(-1)?.text).toContain(`fleet rollback finished (exit 1): app-01 verified on ${OLD} · app-02 verification failed`);
    s = press(s, '', { escape: true });
    expect(s.fleetRun).toBeNull();
    expect(monochromeFrame(s, 80, 24)).toMatch(/Hosts +10/);
  });

  it('a run refused before any host changed says why in full, and the keys work again', () => {
    const message = `prod: the plan changed since you confirmed: live moved on app-03 (now ${OLD}); nothing was done`;
    let s = apply(midRun(), { type: 'fleetRun/failed', message, at: NOW + 1000 });
    expect(isRunning(s)).toBe(false);
    for (const f of at80and120(s)) expect(f.replace(/[║\n]/g, ' ').replace(/ +/g, ' ')).toContain(`✗ Fleet rollback not done: ${message}`);
    expect(s.events.at(-1)).toMatchObject({ level: 'error', text: message });
    s = press(s, 'r');
    expect(s.dialog).toMatchObject({ type: 'rollback', stage: 'loading' });
    expect(s.fleetRun).toBeNull();
  });

  it('with NO_COLOR the grid and the result carry no colour, and every cell still reads by its mark', () => {
    const plain = [midRun(), finished(midRun())].map((state) => monochromeFrame(state, 80, 24).replace(SGR, ''));
    const level = chalk.level;
    chalk.level = 1;
    try {
      const draw = (state: AppState, theme: typeof DEFAULT_THEME): string =>
        renderAt(React.createElement(ThemeProvider, { theme, children: React.createElement(Screen, { state, width: 80, height: 24 }) }), 80, 24).lastFrame() ?? '';
      const noColor = loadTheme({ env: { NO_COLOR: '1' } }).theme;
      [midRun(), finished(midRun())].forEach((state, i) => {
        expect(draw(state, DEFAULT_THEME)).toMatch(COLOUR);
        const f = draw(state, noColor);
        expect(f).not.toMatch(COLOUR);
        expect(f.replace(SGR, '')).toBe(plain[i]);
      });
      expect(draw(midRun(), noColor)).toMatch(/app-03.*✓.*✓.*✗.*·/);
    } finally {
      chalk.level = level;
    }
  });
});
