/**
 * The controller's batching: monitor events are applied together, at most once per frame, so one
 * monitor check (sample, trigger changes, state) costs one state update and one render.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEnvironment, type EnvironmentHandle } from '../../src/core/environment.js';
import { RollbackEngine } from '../../src/core/engine/engine.js';
import type { MonitorEvent } from '../../src/core/monitor/types.js';
import { ConsoleController } from '../../src/ui/controller.js';
import { makeReleaseLayout, resolvedEnv, type ReleaseLayout } from '../helpers/releases.js';
import { monitorState, sample, staticMonitor } from './fixtures.js';

let layout: ReleaseLayout;
let handle: EnvironmentHandle;

beforeEach(() => {
  layout = makeReleaseLayout({ count: 2 });
  handle = openEnvironment(resolvedEnv('demo', { executor: { type: 'local' }, target: layout.symlinkTarget(), state_dir: layout.stateDir }));
});

afterEach(async () => {
  await handle.close();
  layout.cleanup();
});

describe('ConsoleController', () => {
  it('applies a burst of monitor events as one state update', async () => {
    let emit: (e: MonitorEvent) => void = () => undefined;
    const state = monitorState({ env: 'demo', live: layout.names[1] ?? null });
    const controller = new ConsoleController({
      env: resolvedEnv('demo', { executor: { type: 'local' }, target: layout.symlinkTarget(), state_dir: layout.stateDir }),
      handle,
      engine: new RollbackEngine(handle),
      monitor: {
        ...staticMonitor(state),
        on: (l) => {
          emit = l;
          return () => undefined;
        },
      },
      actor: 'tester',
      lockPollMs: 60_000,
      frameMs: 50,
    });
    controller.start();
    // Let the start-up reads (backups, history, lock) settle so only the monitor changes the state below.
    await controller.refresh();
    await new Promise((r) => setImmediate(r));
    const seen: number[] = [];
    const unsubscribe = controller.subscribe(() => seen.push(controller.getState().series.length));
    const before = controller.getState();
    emit({ type: 'sample', env: 'demo', sample: sample(1) });
    await Promise.resolve();
    emit({ type: 'sample', env: 'demo', sample: sample(2) });
    emit({ type: 'state', env: 'demo', state });
    expect(controller.getState()).toBe(before);
    const deadline = Date.now() + 5000;
    while (controller.getState().series.length < 2 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(controller.getState().series).toHaveLength(2);
    await new Promise((r) => setImmediate(r));
    // Never a state with one of the two samples: they arrived as one update (other start-up reads may notify too).
    expect(seen.filter((n) => n > 0)).toEqual([2]);
    unsubscribe();
    controller.stop();
  });

  it('requestQuit exits at once when nothing runs (no question)', async () => {
    const controller = new ConsoleController({
      env: resolvedEnv('demo', { executor: { type: 'local' }, target: layout.symlinkTarget(), state_dir: layout.stateDir }),
      handle,
      engine: new RollbackEngine(handle),
      monitor: staticMonitor(monitorState({ env: 'demo' })),
      actor: 'tester',
      lockPollMs: 60_000,
    });
    controller.start();
    controller.requestQuit();
    await expect(controller.waitForExit()).resolves.toBe(0);
    expect(controller.getState().dialog).toBeNull();
  });
});
