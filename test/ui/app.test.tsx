/**
 * The console through the real controller, the real App and a real environment (a temp symlink store,
 * the real engine): extra (demo) actions, the history detail dialog, and runConsole on a fake terminal
 * (the quit signal, a component crash, a theme warning). Except in runConsole, the monitor is a stand-in
 * that only reports a state: these tests are about keys, dialogs, footer, help and quitting, not sampling.
 */
// runConsole below draws to a fake terminal: hide CI from ink first, as the bin's loadConsoleUi does.
import './no-ci.js';
import { Console } from 'node:console';
import { appendFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import React from 'react';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { openEnvironment, type EnvironmentHandle } from '../../src/core/environment.js';
import { RollbackEngine } from '../../src/core/engine/engine.js';
import type { MonitorState } from '../../src/core/monitor/types.js';
import type { Backup } from '../../src/core/stores/types.js';
import { App } from '../../src/ui/app.js';
import { ConsoleController, type ConsoleAction } from '../../src/ui/controller.js';
import { bindingsOf, footerBindings, resolveKey, validateExtraActions, type KeyContext } from '../../src/ui/keybindings.js';
import { runConsole, type RunConsoleOptions } from '../../src/ui/run.js';
import { DEFAULT_THEME } from '../../src/ui/theme.js';
import { makeReleaseLayout, resolvedEnv, type ReleaseLayout } from '../helpers/releases.js';
import { monitorState, staticMonitor } from './fixtures.js';
import { waitForFrame } from './render.js';

let layout: ReleaseLayout;
let handle: EnvironmentHandle;

beforeEach(() => {
  layout = makeReleaseLayout({ count: 3 });
  handle = openEnvironment(envOf(layout));
});

afterEach(async () => {
  cleanup();
  await handle.close();
  layout.cleanup();
});

function envOf(l: ReleaseLayout) {
  return resolvedEnv('demo', { confirm: 'yes-no', executor: { type: 'local' }, target: l.symlinkTarget(), state_dir: l.stateDir });
}

/** A monitor that reports one state and does nothing else. */
function fakeMonitor(state: Partial<MonitorState> = {}) {
  return staticMonitor(monitorState({ env: 'demo', live: layout.names[2] ?? null, ...state }));
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function redeploy(run: () => Promise<void>): ConsoleAction {
  return { id: 'redeploy', keys: ['R'], label: 'redeploy sick', description: 'Demo: deploy the leaking release again', where: 'demo', run };
}

function setup(extraActions?: ConsoleAction[]) {
  const controller = new ConsoleController({
    env: envOf(layout),
    handle,
    engine: new RollbackEngine(handle),
    monitor: fakeMonitor(),
    actor: 'tester@test',
    lockPollMs: 60_000,
    ...(extraActions ? { extraActions } : {}),
  });
  const r = render(<App controller={controller} theme={DEFAULT_THEME} size={{ columns: 100, rows: 40 }} />);
  controller.start();
  const press = async (key: string): Promise<void> => {
    r.stdin.write(key);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { controller, r, press };
}

const footerShowsR = (f: string): boolean => /\bR\s+redeploy sick/.test(f);

describe('extra (demo) actions', () => {
  it('without demo actions: no R in the footer or the help, and R does nothing', async () => {
    const { controller, r, press } = setup();
    const f = await waitForFrame(r, (x) => x.includes('Backups') && x.includes(layout.names[0]?.slice(7) ?? '?'));
    expect(f).toMatch(/r\s+rollback/);
    expect(footerShowsR(f)).toBe(false);
    await press('?');
    const help = await waitForFrame(r, (x) => x.includes('Show or hide this help'));
    expect(help).not.toContain('deploy the leaking release');
    await press('?');
    await waitForFrame(r, (x) => !x.includes('Show or hide this help'));
    const before = controller.getState().events.length;
    await press('R');
    expect(controller.getState().events.length).toBe(before);
    controller.stop();
  });

  it('with a demo action: R in the footer and the help; pressing R runs it and logs in the events pane', async () => {
    const gate = deferred();
    let runs = 0;
    const { controller, r, press } = setup([
      redeploy(() => {
        runs++;
        return gate.promise;
      }),
    ]);
    const f = await waitForFrame(r, (x) => x.includes('Backups') && footerShowsR(x));
    expect(f).toMatch(/r\s+rollback/);
    await press('?');
    const help = await waitForFrame(r, (x) => x.includes('Show or hide this help'));
    expect(help).toMatch(/R\s+⚠\s+demo\s+Demo: deploy the leaking release again/);
    await press('\x1b');
    await waitForFrame(r, (x) => !x.includes('Show or hide this help'));

    await press('R');
    expect(runs).toBe(1);
    await waitForFrame(r, (x) => x.includes('redeploy sick: started'));
    // A second R while the first runs is refused, not run twice.
    await press('R');
    expect(runs).toBe(1);
    gate.resolve();
    await waitForFrame(r, (x) => x.includes('redeploy sick: done'));
    controller.stop();
  });

  it('is refused while a rollback runs: no R in the footer, the key does nothing, a racing call is refused', async () => {
    let runs = 0;
    const { controller, r, press } = setup([redeploy(() => Promise.resolve(void runs++))]);
    await waitForFrame(r, footerShowsR);
    controller.dispatch({ type: 'engine/started', kind: 'standard', dryRun: false, auto: true, trigger: 'memory', at: Date.now() });
    await waitForFrame(r, (x) => !footerShowsR(x));
    await press('R');
    expect(runs).toBe(0);
    await controller.runExtra('redeploy');
    expect(runs).toBe(0);
    // The progress view has the screen; the refusal is in the events log.
    expect(controller.getState().events.map((e) => e.text)).toContainEqual(expect.stringContaining('redeploy sick: refused, a rollback is running'));
    controller.stop();
  });
});

describe('a rollback while the demo redeploy runs', () => {
  it('is refused with a warning and nothing is switched', async () => {
    let release: () => void = () => undefined;
    const { controller, r, press } = setup([redeploy(() => new Promise<void>((resolve) => (release = resolve)))]);
    await waitForFrame(r, footerShowsR);
    const live = readlinkSync(layout.current);
    const pending = controller.runExtra('redeploy');
    await press('r');
    await waitForFrame(r, (x) => x.includes('Reason:'));
    for (const ch of 'race') await press(ch);
    await press('\r');
    await waitForFrame(r, (x) => x.includes('y = yes'));
    await press('y');
    await waitForFrame(r, () => controller.getState().events.some((e) => e.text.includes('rollback refused: redeploy sick is still running')));
    expect(readlinkSync(layout.current)).toBe(live);
    release();
    await pending;
    controller.stop();
  });
});

describe('extra actions in the keybinding table', () => {
  const base: KeyContext = { view: 'main', focus: 'backups', dialog: null, running: false, pendingAuto: false, automation: 'armed', hasSelection: true };
  const extra = [{ id: 'redeploy', keys: ['R'], label: 'redeploy sick', description: 'Demo: deploy it again' }];

  it('appends them after the built-in bindings, the same table for input, footer and help', () => {
    const ctx = { ...base, extra };
    expect(bindingsOf(base).some((b) => b.id.startsWith('extra.'))).toBe(false);
    expect(bindingsOf(ctx).at(-1)?.id).toBe('extra.redeploy');
    expect(bindingsOf(ctx)).toBe(bindingsOf({ extra }));
    expect(resolveKey({ input: 'R', key: {} }, ctx)?.id).toBe('extra.redeploy');
    expect(resolveKey({ input: 'R', key: {} }, base)).toBeNull();
    expect(footerBindings(ctx).map((b) => b.id)).toContain('extra.redeploy');
    expect(footerBindings({ ...ctx, running: true }).map((b) => b.id)).not.toContain('extra.redeploy');
    expect(resolveKey({ input: 'R', key: {} }, { ...ctx, dialog: 'help' })).toBeNull();
  });

  it('refuses a key the table already uses, and duplicate ids', () => {
    expect(() => validateExtraActions([{ ...extra[0]!, keys: ['r'] }])).toThrow(/already bound to rollback.standard/);
    expect(() => validateExtraActions([...extra, { ...extra[0]!, keys: ['X'] }])).toThrow(/defined twice/);
    expect(() => validateExtraActions(extra)).not.toThrow();
  });
});

/** Streams good enough for ink: a TTY-like stdin (raw mode accepted) and a sized stdout. */
function fakeTerminal() {
  const stdin = Object.assign(new EventEmitter(), {
    isTTY: true,
    setRawMode: () => undefined,
    setEncoding: () => undefined,
    read: () => null,
    ref: () => undefined,
    unref: () => undefined,
  });
  const stdout = Object.assign(new PassThrough(), { columns: 100, rows: 30, isTTY: true });
  let written = '';
  stdout.on('data', (c: Buffer) => (written += c.toString()));
  return { stdin, stdout, stderr: new PassThrough(), written: () => written };
}

describe('history detail', () => {
  /** A real standard rollback (history line and incident report: an emergency writes none), then the console on top of it. */
  async function afterRollback() {
    const result = await new RollbackEngine(handle, { version: 'test' }).run({ env: 'demo', kind: 'standard', reason: 'checkout 500s', trigger: 'manual' });
    expect(result.ok).toBe(true);
    return setup();
  }

  /** Move the focus to the history panel with Tab (its title gets the ▶ marker). */
  async function focusHistory(r: ReturnType<typeof render>, press: (k: string) => Promise<void>): Promise<void> {
    for (let i = 0; i < 5 && !(r.lastFrame() ?? '').includes('▶ History'); i++) await press('\t');
    await waitForFrame(r, (x) => x.includes('▶ History'));
  }

  it('Enter on a history entry shows it with its incident report; Esc closes it', async () => {
    const { controller, r, press } = await afterRollback();
    await waitForFrame(r, (x) => x.includes('History  1'));
    await focusHistory(r, press);
    await press('\r');
    const f = await waitForFrame(r, (x) => x.includes('History entry') && x.includes('# Incident: rollback of demo'));
    expect(f).toContain(`${layout.names[2]} -> ${layout.names[1]}`);
    expect(f).toContain('reason: checkout 500s');
    expect(f).toMatch(/Incident report \(.*incidents\/.*\.md\)/);
    expect(f).toContain('**Kind:** standard');
    await press('\x1b');
    const back = await waitForFrame(r, (x) => !x.includes('History entry'));
    expect(back).toContain('▶ History');
    controller.stop();
  });

  it('a history line pointing outside the state directory is never read; the dialog says why', async () => {
    const { controller, r, press } = await afterRollback();
    await waitForFrame(r, (x) => x.includes('History  1'));
    const forged = {
      id: 'rb-forged',
      timestamp: new Date().toISOString(),
      env: 'demo',
      kind: 'standard',
      trigger: 'manual',
      from: layout.names[1],
      to: layout.names[0],
      reason: 'hand-edited line',
      initiated_by: 'mallory@test',
      success: true,
      verification: 'passed',
      duration_ms: 5,
      steps: [],
      incident_report: '/etc/passwd',
    };
    appendFileSync(path.join(layout.stateDir, 'history.jsonl'), `${JSON.stringify(forged)}\n`);
    await controller.refresh();
    await waitForFrame(r, (x) => x.includes('History  2'));
    await focusHistory(r, press);
    // The newest entry is first and selected.
    await press('\r');
    const f = await waitForFrame(r, (x) => x.includes('History entry rb-forged') && x.includes('outside the state directory'));
    expect(f).toContain('cannot read /etc/passwd');
    expect(f).not.toContain('root:');
    controller.stop();
  });
});

/**
 * runConsole on a fake terminal (`over` replaces options). Resolves once the first full frame is drawn:
 * `done` is runConsole's promise.
 */
async function startConsole(over: Partial<RunConsoleOptions> = {}) {
  // ink patches the console with `new console.Console(...)`; vitest's console has no Console.
  const patched = console as { Console?: typeof Console };
  const saved = patched.Console;
  patched.Console ??= Console;
  onTestFinished(() => {
    patched.Console = saved;
  });
  const t = fakeTerminal();
  let errors = '';
  t.stderr.on('data', (c: Buffer) => (errors += c.toString()));
  // What stdout held when each stderr write was made (the theme warning must come before the alternate screen).
  const stdoutAtStderrWrite: string[] = [];
  const write = t.stderr.write.bind(t.stderr);
  t.stderr.write = ((chunk: string, ...rest: never[]) => {
    stdoutAtStderrWrite.push(t.written());
    return write(chunk, ...rest);
  }) as typeof t.stderr.write;
  const done = runConsole({
    env: envOf(layout),
    handle,
    stdin: t.stdin as unknown as NodeJS.ReadStream,
    stdout: t.stdout as unknown as NodeJS.WriteStream,
    stderr: t.stderr as unknown as NodeJS.WriteStream,
    processEnv: {},
    ...over,
  });
  const deadline = Date.now() + 30_000;
  while (!t.written().includes('Backups')) {
    if (Date.now() > deadline) throw new Error('the console did not draw');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { done, written: t.written, errors: () => errors, stdoutAtStderrWrite };
}

describe('runConsole', () => {
  it('quits when the signal is aborted, without asking, and restores the terminal', async () => {
    const ac = new AbortController();
    const c = await startConsole({ signal: ac.signal });
    ac.abort();
    await expect(c.done).resolves.toBe(0);
    expect(c.written()).toContain('\x1b[?1049l');
  });

  it('a component that throws ends the console (exit 1, not a headless monitor): terminal restored, the error on stderr', async () => {
    // A backup whose name cannot be read: the backups panel throws when it draws it.
    const broken = {
      created: '2024-11-12T10:00:00Z',
      createdMs: Date.parse('2024-11-12T10:00:00Z'),
      sizeBytes: null,
      current: false,
      knownGood: false,
      bad: false,
      get name(): string {
        throw new Error('boom: a backup without a name');
      },
    } satisfies Backup;
    const store = new Proxy(handle.store, {
      get: (target, prop) => (prop === 'list' ? () => Promise.resolve([broken]) : (Reflect.get(target, prop) as unknown)),
    });
    const c = await startConsole({ handle: { ...handle, store } });
    await expect(c.done).resolves.toBe(1);
    expect(c.written().lastIndexOf('\x1b[?1049l')).toBeGreaterThan(c.written().lastIndexOf('\x1b[?1049h'));
    expect(c.errors()).toContain('rollback-tui: console crashed: Error: boom: a backup without a name');
  });

  it('a broken theme is also a warning on stderr, written before the alternate screen', async () => {
    const ac = new AbortController();
    const c = await startConsole({ signal: ac.signal, theme: { flag: 'no-such-theme' } });
    ac.abort();
    await expect(c.done).resolves.toBe(0);
    expect(c.errors()).toMatch(/^warning: theme "no-such-theme" not found .*; using the default theme\n/);
    expect(c.stdoutAtStderrWrite[0]).toBe('');
    expect(c.written()).toContain('theme "no-such-theme" not found');
  });
});
