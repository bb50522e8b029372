import { describe, expect, it } from 'vitest';
import { initialState, reducer } from '../../src/ui/state/reducer.js';
import { keyContextOf, routeKey } from '../../src/ui/state/input.js';
import { EVENTS_LIMIT, SERIES_LIMIT, type Action, type AppState } from '../../src/ui/state/types.js';
import type { KeyPress } from '../../src/ui/keybindings.js';
import { NOW, dashboardState, envInfo, monitorState, plan, sample, trigger } from './fixtures.js';

const run = (s: AppState, ...actions: Action[]): AppState => actions.reduce(reducer, s);

/** Press keys through the real input router, applying dispatch intents. */
function keys(s: AppState, ...presses: (string | KeyPress)[]): AppState {
  for (const p of presses) {
    const kp: KeyPress = typeof p === 'string' ? { input: p, key: {} } : p;
    const intent = routeKey(s, kp);
    if (intent.kind === 'dispatch') s = reducer(s, intent.action);
    else if (intent.kind === 'openRollback') s = reducer(s, { type: 'dialog/openRollback', kind: intent.rollback, dryRun: intent.dryRun, target: intent.target });
  }
  return s;
}
const ENTER: KeyPress = { input: '', key: { return: true } };
const ESC: KeyPress = { input: '', key: { escape: true } };

describe('series and events', () => {
  it('keeps the chart series and the events log bounded', () => {
    let s = initialState(envInfo(), NOW);
    for (let i = 0; i < SERIES_LIMIT + 50; i++) s = reducer(s, { type: 'monitor/event', event: { type: 'sample', env: 'prod', sample: sample(i) }, at: NOW });
    expect(s.series).toHaveLength(SERIES_LIMIT);
    for (let i = 0; i < EVENTS_LIMIT + 20; i++) s = reducer(s, { type: 'log', line: { at: NOW, level: 'info', source: 'console', text: `e${i}` } });
    expect(s.events).toHaveLength(EVENTS_LIMIT);
    expect(s.events.at(-1)?.text).toBe(`e${EVENTS_LIMIT + 19}`);
  });

  it('logs a baseline once: one the monitor establishes is its own alert; one it loads is logged here', () => {
    const baseline = monitorState().baseline!;
    const event = { type: 'monitor/event', event: { type: 'baseline', env: 'prod', baseline }, at: NOW } as const;
    const establishing = reducer(dashboardState(), {
      type: 'monitor/state',
      state: monitorState({ phase: 'baseline', baseline: null, baselineProgress: { observedSeconds: 290, neededSeconds: 300 } }),
    });
    expect(reducer(establishing, event).events).toBe(establishing.events);
    const loaded = reducer(dashboardState(), event);
    expect(loaded.events.length - dashboardState().events.length).toBe(1);
    expect(loaded.events.at(-1)?.text).toMatch(/^baseline of backup_20261124_110000 loaded \(30 samples\): p95 100ms/);
  });

  it('logs trigger transitions with the explanation', () => {
    const t = trigger('error_rate', { status: 'breached', explanation: 'error rate 5/min > 1/min' });
    const s = reducer(dashboardState(), { type: 'monitor/event', event: { type: 'trigger', env: 'prod', trigger: t, previous: 'ok' }, at: NOW });
    expect(s.events.at(-1)).toMatchObject({ level: 'error', text: 'error_rate: ok -> breached: error rate 5/min > 1/min' });
  });
});

describe('focus and selection', () => {
  it('Tab cycles panels and Shift-Tab goes back', () => {
    let s = dashboardState();
    expect(s.focus).toBe('backups');
    s = keys(s, { input: '', key: { tab: true } });
    expect(s.focus).toBe('history');
    s = keys(s, { input: '', key: { tab: true } }, { input: '', key: { tab: true } });
    expect(s.focus).toBe('backups');
    s = keys(s, { input: '', key: { tab: true, shift: true } });
    expect(s.focus).toBe('events');
  });

  it('the events pane selects the newest event (0); k goes older, j newer; a scrolled-back selection keeps its line', () => {
    let s = dashboardState();
    for (let i = 0; i < 5; i++) s = reducer(s, { type: 'log', line: { at: NOW, level: 'info', source: 'console', text: `e${i}` } });
    const selectedText = (x: AppState): string | undefined => x.events[x.events.length - 1 - x.selection.events]?.text;
    s = keys(s, { input: '', key: { tab: true, shift: true } });
    expect(s.focus).toBe('events');
    expect(s.selection.events).toBe(0);
    expect(selectedText(s)).toBe('e4');
    s = keys(s, 'j');
    expect(selectedText(s)).toBe('e4');
    s = keys(s, 'k', { input: '', key: { upArrow: true } });
    expect(selectedText(s)).toBe('e2');
    // New events arrive: the line being read stays selected ...
    s = run(s, { type: 'log', line: { at: NOW, level: 'info', source: 'console', text: 'e5' } });
    s = run(s, { type: 'monitor/event', event: { type: 'alert', env: 'prod', severity: 'info', message: 'e6' }, at: NOW });
    expect(selectedText(s)).toBe('e2');
    s = keys(s, 'j', { input: '', key: { downArrow: true } }, 'j', 'j', 'j', 'j');
    expect(s.selection.events).toBe(0);
    // ... and at the newest, the selection follows new events.
    s = run(s, { type: 'log', line: { at: NOW, level: 'info', source: 'console', text: 'e7' } });
    expect(selectedText(s)).toBe('e7');
    // Scrolled back to the oldest line of a full log: it stays in bounds as lines drop off.
    for (let i = 0; i < EVENTS_LIMIT; i++) s = keys(s, 'k');
    expect(s.selection.events).toBe(s.events.length - 1);
    for (let i = 0; i < EVENTS_LIMIT; i++) s = run(s, { type: 'log', line: { at: NOW, level: 'info', source: 'console', text: `f${i}` } });
    expect(s.selection.events).toBe(EVENTS_LIMIT - 1);
  });

  it('j/k and arrows move the selection within bounds', () => {
    let s = keys(dashboardState(), 'j', 'j', { input: '', key: { downArrow: true } }, 'j', 'j');
    expect(s.selection.backups).toBe(3);
    s = keys(s, 'k', { input: '', key: { upArrow: true } });
    expect(s.selection.backups).toBe(1);
  });
});

describe('rollback dialog', () => {
  const opened = (env = envInfo()) => {
    let s = dashboardState();
    s = { ...s, env };
    s = keys(s, 'r');
    return reducer(s, { type: 'dialog/plan', plan: plan() });
  };

  it('opens on r with the preview, then asks for a reason', () => {
    const s = opened();
    expect(s.dialog).toMatchObject({ type: 'rollback', kind: 'standard', stage: 'reason' });
  });

  it('requires a reason', () => {
    const s = keys(opened(), ENTER);
    expect(s.dialog).toMatchObject({ stage: 'reason', error: expect.stringContaining('reason is required') });
    expect(s.pendingRun).toBeNull();
  });

  it('typed letters go into the reason, not to the key table', () => {
    const s = keys(opened(), 'q', 'y', 'r', 'e');
    expect(s.quitting).toBe(false);
    expect(s.dialog).toMatchObject({ reason: 'qyre' });
  });

  it('type-name confirmation refuses a wrong name and accepts the right one', () => {
    let s = keys(opened(), 'b', 'a', 'd', ENTER);
    expect(s.dialog).toMatchObject({ stage: 'confirm', confirmation: { kind: 'type-name', name: 'prod' } });
    s = keys(s, 'y');
    expect(s.pendingRun).toBeNull();
    s = keys(s, 's', 't', 'a', 'g', 'e', ENTER);
    expect(s.pendingRun).toBeNull();
    expect(s.dialog).toMatchObject({ stage: 'confirm', confirmText: '', error: expect.stringContaining('not the environment') });
    s = keys(s, 'p', 'r', 'o', 'd', ENTER);
    expect(s.dialog).toBeNull();
    // The run is refused if live is no longer the release the preview was planned from.
    expect(s.pendingRun).toEqual({ kind: 'standard', target: undefined, expectFrom: 'backup_20261124_110000', reason: 'bad', dryRun: false });
  });

  it('yes-no environments confirm with y', () => {
    let s = keys(opened(envInfo({ name: 'staging', confirm: 'yes-no', isProd: false })), 'x', ENTER);
    expect(s.dialog).toMatchObject({ stage: 'confirm', confirmation: { kind: 'yes-no' } });
    s = keys(s, 'y');
    expect(s.pendingRun).toMatchObject({ kind: 'standard', reason: 'x' });
  });

  it('emergency always requires the name, even on yes-no environments', () => {
    let s = { ...dashboardState(), env: envInfo({ name: 'staging', confirm: 'yes-no', isProd: false }) };
    s = keys(s, 'e');
    expect(s.dialog).toMatchObject({ kind: 'emergency', confirmation: { kind: 'type-name', why: 'emergency' } });
  });

  it('Esc cancels at every stage and nothing runs', () => {
    for (const s0 of [keys(dashboardState(), 'r'), opened(), keys(opened(), 'w', ENTER)]) {
      const s = keys(s0, ESC);
      expect(s.dialog).toBeNull();
      expect(s.pendingRun).toBeNull();
    }
  });

  it('applies only the plan of the dialog open now: one fetched for a dialog backed out of is dropped', () => {
    // `t` on one backup, Esc, `t` on another: the first plan arrives late.
    let s = keys(dashboardState(), 'j', ENTER);
    const first = s.dialog;
    s = keys(s, ESC, 'j', ENTER);
    const second = s.dialog;
    expect(first).toMatchObject({ type: 'rollback', target: 'backup_20261123_090000' });
    expect(second).toMatchObject({ type: 'rollback', target: 'backup_20261122_090000', stage: 'loading' });
    if (first?.type !== 'rollback' || second?.type !== 'rollback') throw new Error('no rollback dialog');
    expect(second.requestId).not.toBe(first.requestId);
    const stale = plan({ kind: 'targeted', to: { name: 'backup_20261123_090000', created: '2026-11-23T09:00:00Z', knownGood: true, bad: false } });
    expect(reducer(s, { type: 'dialog/plan', plan: stale, requestId: first.requestId })).toBe(s);
    expect(reducer(s, { type: 'dialog/planError', message: 'gone', requestId: first.requestId })).toBe(s);
    const own = plan({ kind: 'targeted', to: { name: 'backup_20261122_090000', created: '2026-11-22T09:00:00Z', knownGood: false, bad: true } });
    s = reducer(s, { type: 'dialog/plan', plan: own, requestId: second.requestId });
    expect(s.dialog).toMatchObject({ stage: 'reason', plan: { to: { name: 'backup_20261122_090000' } } });
    // A plan (or error) arriving after the dialog has moved on changes nothing either.
    expect(reducer(s, { type: 'dialog/planError', message: 'late', requestId: second.requestId })).toBe(s);
  });

  it('a plan with problems blocks the dialog', () => {
    let s = keys(dashboardState(), 'r');
    s = reducer(s, { type: 'dialog/plan', plan: plan({ problems: ['nothing to roll back to'] }) });
    expect(s.dialog).toMatchObject({ stage: 'blocked' });
    s = keys(s, ENTER, 'y');
    expect(s.pendingRun).toBeNull();
  });

  it('Enter on a selected backup opens a targeted rollback to it', () => {
    const s = keys(dashboardState(), 'j', ENTER);
    expect(s.dialog).toMatchObject({ kind: 'targeted', target: 'backup_20261123_090000' });
  });

  it('dry run needs no reason and runs with Enter', () => {
    let s = keys(dashboardState(), 'd');
    s = reducer(s, { type: 'dialog/plan', plan: plan() });
    expect(s.dialog).toMatchObject({ stage: 'preview', dryRun: true });
    s = keys(s, ENTER);
    expect(s.pendingRun).toMatchObject({ dryRun: true });
  });
});

describe('progress and results', () => {
  it('tracks steps, output and the result', () => {
    let s = run(dashboardState(), { type: 'engine/started', kind: 'standard', dryRun: false, auto: false, trigger: 'manual', at: NOW });
    s = run(
      s,
      { type: 'engine/event', event: { type: 'plan', plan: plan() }, at: NOW },
      { type: 'engine/event', event: { type: 'step-start', step: 'stop', title: 'stop the service', at: NOW }, at: NOW },
      { type: 'engine/event', event: { type: 'step-output', step: 'stop', line: 'stopping…', stream: 'stdout' }, at: NOW },
    );
    expect(s.progress?.steps.find((x) => x.name === 'stop')).toMatchObject({ status: 'running' });
    expect(s.progress?.output).toEqual(['stopping…']);
    expect(keys(s, 'r').dialog).toBeNull();
    s = run(s, { type: 'engine/event', event: { type: 'step-end', step: 'stop', status: 'ok', ms: 120 }, at: NOW });
    expect(s.progress?.steps.find((x) => x.name === 'stop')).toMatchObject({ status: 'ok', ms: 120 });
    s = run(s, {
      type: 'engine/event',
      event: {
        type: 'result',
        result: { ok: true, env: 'prod', kind: 'standard', dry_run: false, from: 'a', to: 'b', steps: [], verification: 'passed', duration_ms: 1000, exit_code: 0 },
      },
      at: NOW,
    });
    expect(s.progress).toBeNull();
    expect(s.banners.result?.result.ok).toBe(true);
    expect(keys(s, ESC).banners.result).toBeNull();
  });

  it('q while running asks first; n keeps watching, y quits', () => {
    let s = run(dashboardState(), { type: 'engine/started', kind: 'standard', dryRun: false, auto: false, trigger: 'manual', at: NOW });
    s = keys(s, 'q');
    expect(s.dialog).toEqual({ type: 'quit' });
    expect(s.quitting).toBe(false);
    expect(keys(s, 'n').dialog).toBeNull();
    expect(keys(s, 'y').quitting).toBe(true);
    expect(keys(dashboardState(), 'q').quitting).toBe(true);
    expect(keys(dashboardState(), { input: 'c', key: { ctrl: true } }).quitting).toBe(true);
  });

  it('automatic rollback: grace banner, running, finished', () => {
    const t = trigger('error_rate', { status: 'breached' });
    let s = run(dashboardState(), { type: 'monitor/event', event: { type: 'grace', env: 'prod', trigger: t, remainingSeconds: 5 }, at: NOW });
    expect(s.banners.auto).toMatchObject({ phase: 'grace', remainingSeconds: 5 });
    expect(routeKey(s, { input: 'c', key: {} })).toEqual({ kind: 'cancelPending' });
    s = run(s, { type: 'monitor/event', event: { type: 'rollback', env: 'prod', phase: 'started', trigger: t, target: 'b', attempt: 1 }, at: NOW });
    expect(s.banners.auto).toMatchObject({ phase: 'running', target: 'b' });
    expect(s.progress?.auto).toBe(true);
    // the monitor's last state report still says 'grace': nothing is left to cancel, so no 'c' either
    s = run(s, { type: 'monitor/event', event: { type: 'state', env: 'prod', state: monitorState({ phase: 'grace', graceRemainingSeconds: 0 }) }, at: NOW });
    expect(keyContextOf(s).pendingAuto).toBe(false);
    expect(routeKey(s, { input: 'c', key: {} })).not.toEqual({ kind: 'cancelPending' });
    s = run(s, {
      type: 'monitor/event',
      event: {
        type: 'rollback',
        env: 'prod',
        phase: 'finished',
        attempt: 1,
        result: { ok: true, env: 'prod', kind: 'standard', dry_run: false, from: 'a', to: 'b', steps: [], verification: 'passed', duration_ms: 10, exit_code: 0 },
      },
      at: NOW,
    });
    expect(s.banners.auto).toBeNull();
    expect(s.progress).toBeNull();
    expect(s.banners.result).toMatchObject({ auto: true });
  });

  it('an action that changes nothing returns the same state (the controller then renders nothing)', () => {
    const s = dashboardState();
    for (const a of [
      { type: 'select/move', delta: -1 },
      { type: 'back' },
      { type: 'dialog/submit' },
      { type: 'run/taken' },
      { type: 'auto/cancelled' },
      { type: 'monitor/event', event: { type: 'stopped', env: 'prod', reason: 'x' }, at: NOW },
    ] as Action[]) {
      const next = run(s, a);
      if (a.type === 'monitor/event') expect(next.events.at(-1)?.text).toBe('monitor stopped: x');
      else expect(next).toBe(s);
    }
  });

  it('slices meet: a new rollback dialog clears the last result banner; an automatic start clears it too', () => {
    const result = { ok: true, env: 'prod', kind: 'standard' as const, dry_run: false, from: 'a', to: 'b', steps: [], verification: 'passed' as const, duration_ms: 10, exit_code: 0 };
    let s = run(dashboardState(), { type: 'engine/started', kind: 'standard', dryRun: false, auto: false, trigger: 'manual', at: NOW });
    s = run(s, { type: 'engine/event', event: { type: 'result', result }, at: NOW });
    expect(s.banners.result).not.toBeNull();
    expect(s.events.at(-1)?.text).toBe('rolled back a -> b in 10ms, verification passed');
    expect(run(s, { type: 'dialog/openRollback', kind: 'standard', dryRun: false }).banners.result).toBeNull();
    const t = trigger('error_rate', { status: 'breached' });
    expect(run(s, { type: 'monitor/event', event: { type: 'rollback', env: 'prod', phase: 'started', trigger: t, target: 'b', attempt: 1 }, at: NOW }).banners.result).toBeNull();
  });
});
