/**
 * The controller: monitor events are applied together, at most once per frame (one monitor check costs
 * one state update and one render); a slow plan never previews another dialog's target; marks the
 * monitor writes reach the backups panel.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEnvironment, type EnvironmentHandle } from '../../src/core/environment.js';
import { RollbackEngine } from '../../src/core/engine/engine.js';
import type { RollbackRequest, RollbackResult } from '../../src/core/engine/types.js';
import type { MonitorEvent, MonitorState } from '../../src/core/monitor/types.js';
import { ConsoleController, type ControllerDeps } from '../../src/ui/controller.js';
import type { KeyPress } from '../../src/ui/keybindings.js';
import { makeReleaseLayout, resolvedEnv, type ReleaseLayout } from '../helpers/releases.js';
import { CountingExecutor } from '../helpers/counting-executor.js';
import { monitorState, sample, staticMonitor, trigger } from './fixtures.js';

let layout: ReleaseLayout;
let handle: EnvironmentHandle;

beforeEach(() => {
  layout = makeReleaseLayout({ count: 3 });
  handle = openEnvironment(envOf());
});

afterEach(async () => {
  await handle.close();
  layout.cleanup();
});

function envOf() {
  return resolvedEnv('demo', { confirm: 'yes-no', executor: { type: 'local' }, target: layout.symlinkTarget(), state_dir: layout.stateDir });
}

/** A monitor stand-in reporting `state`; `emit` sends it events as the real one would. */
function scriptedMonitor(state: MonitorState) {
  let listener: (e: MonitorEvent) => void = () => undefined;
  const monitor = {
    ...staticMonitor(state),
    on: (l: (e: MonitorEvent) => void) => {
      listener = l;
      return () => undefined;
    },
  };
  return { monitor, emit: (e: MonitorEvent) => listener(e) };
}

function makeController(over: Partial<ControllerDeps> = {}): ConsoleController {
  return new ConsoleController({
    env: envOf(),
    handle,
    engine: new RollbackEngine(handle),
    monitor: staticMonitor(monitorState({ env: 'demo', live: layout.names[2] ?? null })),
    actor: 'tester',
    lockPollMs: 60_000,
    ...over,
  });
}

/** Started, with the start-up reads (backups, history, lock) settled. */
async function started(controller: ConsoleController): Promise<ConsoleController> {
  controller.start();
  await controller.refresh();
  await new Promise((r) => setImmediate(r));
  return controller;
}

/** Deadline for a loaded machine: a plan, a run or a mark goes through the real local executor. */
async function until(pred: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

const press = (input: string, key: KeyPress['key'] = {}): KeyPress => ({ input, key });
const ESC = press('', { escape: true });
const ENTER = press('\r', { return: true });

describe('ConsoleController', () => {
  it('takes the listing of the backups already under way for its first refresh (started while the console loads), and lists anew after', async () => {
    const counting = new CountingExecutor(handle.executor);
    const h = openEnvironment(envOf(), { executor: counting });
    const firstBackups = h.store.list({ sizes: true });
    const controller = makeController({ handle: h, firstBackups });
    await controller.refreshBackups();
    expect(controller.getState().backups.map((b) => b.name)).toEqual([...layout.names].reverse());
    expect(counting.calls).toBe(1);
    await controller.refreshBackups();
    expect(counting.calls).toBe(2);
    controller.stop();
  });

  it('applies a burst of monitor events as one state update', async () => {
    const state = monitorState({ env: 'demo', live: layout.names[2] ?? null });
    const { monitor, emit } = scriptedMonitor(state);
    const controller = await started(makeController({ monitor, frameMs: 50 }));
    const seen: number[] = [];
    const unsubscribe = controller.subscribe(() => seen.push(controller.getState().series.length));
    const before = controller.getState();
    emit({ type: 'sample', env: 'demo', sample: sample(1) });
    await Promise.resolve();
    emit({ type: 'sample', env: 'demo', sample: sample(2) });
    emit({ type: 'state', env: 'demo', state });
    expect(controller.getState()).toBe(before);
    await until(() => controller.getState().series.length >= 2, 'the samples');
    expect(controller.getState().series).toHaveLength(2);
    await new Promise((r) => setImmediate(r));
    // Never a state with one of the two samples: they arrived as one update (other start-up reads may notify too).
    expect(seen.filter((n) => n > 0)).toEqual([2]);
    unsubscribe();
    controller.stop();
  });

  it('requestQuit exits at once when nothing runs (no question)', async () => {
    const controller = makeController();
    controller.start();
    controller.requestQuit();
    await expect(controller.waitForExit()).resolves.toBe(0);
    expect(controller.getState().dialog).toBeNull();
  });

  it("quitting during the monitor's own rollback asks first; confirmed, it stops the monitor and exits only once its loop has ended", async () => {
    const state = monitorState({ env: 'demo', live: layout.names[2] ?? null });
    const { monitor, emit } = scriptedMonitor(state);
    // The loop ends only after stop(): the aborted rollback finishes its current step first.
    let endLoop: () => void = () => undefined;
    let stopped = false;
    const loop = new Promise<void>((resolve) => (endLoop = resolve));
    const controller = await started(
      makeController({
        monitor: {
          ...monitor,
          start: () => loop,
          stop: () => {
            stopped = true;
          },
        },
      }),
    );
    emit({ type: 'rollback', env: 'demo', phase: 'started', trigger: trigger('memory'), target: layout.names[1] ?? null, attempt: 1 });
    await until(() => controller.getState().banners.auto?.phase === 'running', 'the automatic rollback banner');
    controller.handleKey(press('q'));
    expect(controller.getState().dialog).toEqual({ type: 'quit' });
    let exited = false;
    void controller.waitForExit().then(() => (exited = true));
    controller.handleKey(press('y'));
    await until(() => stopped, 'the monitor to be stopped');
    await new Promise((r) => setImmediate(r));
    expect(exited).toBe(false);
    expect(controller.getState().events.map((e) => e.text)).toContain('quitting: waiting for the automatic rollback to stop safely…');
    endLoop();
    await expect(controller.waitForExit()).resolves.toBe(0);
  });

  it('a slow plan for a dialog backed out of never shows in the next one; the run goes where the preview says', async () => {
    const real = new RollbackEngine(handle);
    // Each plan is held until the test releases it (with the real engine's plan) or fails it.
    const plans: { req: RollbackRequest; release: () => Promise<void>; fail: (err: Error) => void }[] = [];
    const runs: RollbackRequest[] = [];
    const engine: ControllerDeps['engine'] = {
      plan: (req) =>
        new Promise((resolve, reject) => {
          plans.push({ req, release: async () => resolve(await real.plan(req)), fail: reject });
        }),
      run: (req, onEvent) => {
        runs.push(req);
        const result: RollbackResult = { ok: true, env: 'demo', kind: req.kind, dry_run: false, from: null, to: req.to ?? '', steps: [], verification: 'passed', duration_ms: 1, exit_code: 0 };
        onEvent?.({ type: 'result', result });
        return Promise.resolve(result);
      },
      lockOwner: () => Promise.resolve(null),
      interrupted: () => Promise.resolve(null),
    };
    const controller = await started(makeController({ engine }));
    const [oldest, middle] = layout.names;
    const dialog = () => {
      const d = controller.getState().dialog;
      if (d?.type !== 'rollback') throw new Error('no rollback dialog');
      return d;
    };

    // Backups are newest first (the live one on top): `t` on the middle one, Esc, `t` on the oldest.
    for (const p of [press('j'), press('t'), ESC, press('j'), press('t')]) controller.handleKey(p);
    expect(plans.map((p) => p.req.to)).toEqual([middle, oldest]);
    expect(dialog()).toMatchObject({ target: oldest, stage: 'loading' });
    await plans[0]?.release();
    await new Promise((r) => setImmediate(r));
    expect(dialog()).toMatchObject({ target: oldest, stage: 'loading', plan: null });
    await plans[1]?.release();
    await until(() => dialog().stage !== 'loading', 'the plan');
    expect(dialog()).toMatchObject({ stage: 'reason', plan: { to: { name: oldest } } });
    for (const ch of 'wrong one') controller.handleKey(press(ch));
    controller.handleKey(ENTER);
    controller.handleKey(press('y'));
    await until(() => runs.length > 0, 'the run');
    expect(runs[0]).toMatchObject({ kind: 'targeted', to: oldest, reason: 'wrong one' });

    // `r`, Esc, `e`: the standard rollback's late failure does not block the emergency dialog.
    await until(() => controller.getState().banners.result !== null, 'the result');
    for (const p of [press('r'), ESC, press('e')]) controller.handleKey(p);
    expect(plans.slice(2).map((p) => p.req.kind)).toEqual(['standard', 'emergency']);
    plans[2]?.fail(new Error('standard plan failed late'));
    await new Promise((r) => setImmediate(r));
    expect(dialog()).toMatchObject({ kind: 'emergency', stage: 'loading', planError: null });
    await plans[3]?.release();
    await until(() => dialog().stage !== 'loading', 'the emergency plan');
    expect(dialog()).toMatchObject({ kind: 'emergency', stage: 'reason', plan: { kind: 'emergency' } });
    controller.stop();
  });

  it('a key that cannot act now says why in the events pane, and nothing starts', async () => {
    const real = new RollbackEngine(handle);
    const plans: RollbackRequest[] = [];
    let finish: (() => void) | null = null;
    const engine: ControllerDeps['engine'] = {
      plan: (req) => {
        plans.push(req);
        return real.plan(req);
      },
      // The run is held until the test finishes it: a rollback in progress.
      run: (req, onEvent) =>
        new Promise((resolve) => {
          finish = () => {
            const result: RollbackResult = { ok: true, env: 'demo', kind: req.kind, dry_run: false, from: null, to: '', steps: [], verification: 'passed', duration_ms: 1, exit_code: 0 };
            onEvent?.({ type: 'result', result });
            resolve(result);
          };
        }),
      lockOwner: () => Promise.resolve(null),
      interrupted: () => Promise.resolve(null),
    };
    const controller = await started(makeController({ engine }));
    const texts = () => controller.getState().events.map((e) => e.text);
    controller.handleKey(press('c'));
    expect(texts()).toContain('c: no automatic rollback is counting down');

    controller.handleKey(press('r'));
    await until(() => controller.getState().dialog?.type === 'rollback' && (controller.getState().dialog as { stage: string }).stage === 'reason', 'the preview');
    for (const p of [...'bad release'].map((ch) => press(ch))) controller.handleKey(p);
    controller.handleKey(ENTER);
    controller.handleKey(press('y'));
    await until(() => finish !== null, 'the run to start');
    expect(plans).toHaveLength(1);
    controller.handleKey(press('r'));
    controller.handleKey(press('r'));
    expect(texts().filter((t) => t.startsWith('r: '))).toHaveLength(1);
    controller.handleKey(press('e'));
    expect(texts()).toContain('r: a rollback is already running; wait for its result');
    expect(texts()).toContain('e: a rollback is already running; wait for its result');
    expect(controller.getState().dialog).toBeNull();
    expect(plans).toHaveLength(1);
    (finish as unknown as () => void)();
    controller.stop();
  });

  it('shows the known-good mark the monitor writes with a baseline', async () => {
    const live = layout.names[2] ?? '';
    const state = monitorState({ env: 'demo', live });
    const { monitor, emit } = scriptedMonitor(state);
    const controller = await started(makeController({ monitor, frameMs: 10 }));
    const liveBackup = () => controller.getState().backups.find((b) => b.name === live);
    expect(liveBackup()).toMatchObject({ current: true, knownGood: false });
    // What the monitor does once the baseline window is complete and healthy: mark, then report.
    await handle.marks.markKnownGood(live);
    emit({ type: 'baseline', env: 'demo', baseline: { ...state.baseline!, release: live, healthy: true } });
    await until(() => liveBackup()?.knownGood === true, 'the known-good mark');
    controller.stop();
  });
});
