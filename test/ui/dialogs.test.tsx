/**
 * Dialogs rendered with ink-testing-library and driven by key presses through the real input router and
 * reducer (the harness holds the state; no engine is involved: nothing may run from these keys).
 */
import React, { useRef, useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { useInput } from 'ink';
import { Screen } from '../../src/ui/components/Screen.js';
import { ThemeProvider } from '../../src/ui/components/ThemeContext.js';
import { DEFAULT_THEME } from '../../src/ui/theme.js';
import { reducer } from '../../src/ui/state/reducer.js';
import { routeKey, splitChunk } from '../../src/ui/state/input.js';
import type { AppState, RunRequest } from '../../src/ui/state/types.js';
import type { RollbackResult } from '../../src/core/engine/types.js';
import { NOW, dashboardState, envInfo, plan } from './fixtures.js';
import { renderAt, waitForFrame } from './render.js';

afterEach(() => cleanup());

function Harness({ initial, onRun }: { initial: AppState; onRun: (r: RunRequest) => void }): React.JSX.Element {
  // The latest state in a ref, as the controller's store does: key presses arrive faster than renders.
  const ref = useRef(initial);
  const [, render] = useState(0);
  const dispatch = (a: Parameters<typeof reducer>[1]): void => {
    let next = reducer(ref.current, a);
    if (next.pendingRun) {
      onRun(next.pendingRun);
      next = reducer(next, { type: 'run/taken' });
    }
    ref.current = next;
    render((n) => n + 1);
  };
  useInput((input, key) => {
    for (const press of splitChunk(ref.current, { input, key })) {
      const intent = routeKey(ref.current, press);
      if (intent.kind === 'dispatch') dispatch(intent.action);
      if (intent.kind === 'openRollback') {
        dispatch({ type: 'dialog/openRollback', kind: intent.rollback, dryRun: intent.dryRun, target: intent.target });
        // What the controller does with engine.plan(), here with a fixed plan.
        dispatch({ type: 'dialog/plan', plan: plan({ kind: intent.rollback }) });
      }
    }
  });
  return (
    <ThemeProvider theme={DEFAULT_THEME}>
      <Screen state={ref.current} width={100} height={30} />
    </ThemeProvider>
  );
}

function setup(initial = dashboardState()) {
  const runs: RunRequest[] = [];
  const r = renderAt(<Harness initial={initial} onRun={(x) => runs.push(x)} />, 100, 30);
  const type = async (text: string) => {
    for (const ch of text) {
      r.stdin.write(ch);
      await new Promise((res) => setImmediate(res));
    }
  };
  return { r, runs, type };
}

const ENTER = '\r';
const ESC = '\x1b';

describe('rollback dialog', () => {
  it('shows the preview: current -> target, age and marks, steps, then asks for a reason', async () => {
    const { r, type } = setup();
    await waitForFrame(r, (f) => f.includes('Backups'));
    await type('r');
    const f = await waitForFrame(r, (x) => x.includes('Standard rollback'));
    expect(f).toContain('backup_20261124_110000 -> backup_20261123_090000');
    expect(f).toContain('created 27h ago');
    expect(f).toContain('★ known-good');
    expect(f).toContain('stop the service');
    expect(f).toContain('systemctl stop app');
    expect(f).toContain('Reason:');
    expect(f).toContain('Type why (required)');
  });

  it('refuses to continue without a reason', async () => {
    const { r, type, runs } = setup();
    await waitForFrame(r, (f) => f.includes('Backups'));
    await type('r');
    await waitForFrame(r, (x) => x.includes('Reason:'));
    await type(ENTER);
    const f = await waitForFrame(r, (x) => x.includes('A reason is required'));
    expect(f).not.toContain('Type prod to roll back');
    expect(runs).toEqual([]);
  });

  it('type-name confirmation refuses a wrong name, then accepts the right one', async () => {
    const { r, type, runs } = setup();
    await waitForFrame(r, (f) => f.includes('Backups'));
    await type('r');
    await waitForFrame(r, (x) => x.includes('Reason:'));
    await type(`error spike${ENTER}`);
    await waitForFrame(r, (x) => x.includes('Type prod to roll back'));
    await type(`y${ENTER}`);
    let f = await waitForFrame(r, (x) => x.includes('not the environment'));
    expect(f).toContain('You typed "y"');
    expect(runs).toEqual([]);
    await type(`staging${ENTER}`);
    f = await waitForFrame(r, (x) => x.includes('You typed "staging"'));
    expect(runs).toEqual([]);
    await type(`prod${ENTER}`);
    await waitForFrame(r, (x) => !x.includes('Standard rollback'));
    expect(runs).toEqual([{ kind: 'standard', target: undefined, expectFrom: 'backup_20261124_110000', reason: 'error spike', dryRun: false }]);
  });

  it('emergency warns that verification will be skipped and always asks for the name', async () => {
    const { r, type } = setup({ ...dashboardState(), env: envInfo({ name: 'staging', confirm: 'yes-no', isProd: false }) });
    await waitForFrame(r, (f) => f.includes('Backups'));
    await type('e');
    const f = await waitForFrame(r, (x) => x.includes('EMERGENCY rollback'));
    expect(f).toContain('verification will be skipped');
    await type(`fire${ENTER}`);
    await waitForFrame(r, (x) => x.includes('Type staging to roll back'));
  });

  it('Esc cancels at each step and nothing runs', async () => {
    const { r, type, runs } = setup({ ...dashboardState(), env: envInfo({ name: 'staging', confirm: 'yes-no', isProd: false }) });
    await waitForFrame(r, (f) => f.includes('Backups'));
    await type('r');
    await waitForFrame(r, (x) => x.includes('Reason:'));
    await type(ESC);
    await waitForFrame(r, (x) => x.includes('▶ Backups'));
    await type(`r`);
    await waitForFrame(r, (x) => x.includes('Reason:'));
    await type(`why${ENTER}`);
    await waitForFrame(r, (x) => x.includes('Roll back staging now?'));
    await type(ESC);
    const f = await waitForFrame(r, (x) => x.includes('▶ Backups'));
    expect(f).not.toContain('Roll back staging now?');
    expect(runs).toEqual([]);
  });

  it('yes-no environments confirm with y', async () => {
    const { r, type, runs } = setup({ ...dashboardState(), env: envInfo({ name: 'staging', confirm: 'yes-no', isProd: false }) });
    await waitForFrame(r, (f) => f.includes('Backups'));
    await type(`r`);
    await waitForFrame(r, (x) => x.includes('Reason:'));
    await type(`why${ENTER}`);
    await waitForFrame(r, (x) => x.includes('y = yes'));
    await type('y');
    await waitForFrame(r, (x) => x.includes('▶ Backups'));
    expect(runs).toHaveLength(1);
  });

  it('a reason and Enter in one read (slow SSH, paste) submit the reason; what follows never confirms', async () => {
    const { r, runs } = setup({ ...dashboardState(), env: envInfo({ name: 'staging', confirm: 'yes-no', isProd: false }) });
    await waitForFrame(r, (f) => f.includes('Backups'));
    r.stdin.write('r');
    await waitForFrame(r, (x) => x.includes('Reason:'));
    // One chunk, as a terminal delivers type-ahead: the reason, Enter, and a stray "y".
    r.stdin.write(`bad deploy${ENTER}y`);
    const f = await waitForFrame(r, (x) => x.includes('Roll back staging now?'));
    expect(f).toContain('y = yes');
    expect(runs).toEqual([]);
    r.stdin.write('y');
    await waitForFrame(r, (x) => x.includes('▶ Backups'));
    expect(runs).toEqual([{ kind: 'standard', target: undefined, expectFrom: 'backup_20261124_110000', reason: 'bad deploy', dryRun: false }]);
  });

  it('the help overlay lists the table and marks dangerous keys', async () => {
    const { r, type } = setup();
    await waitForFrame(r, (f) => f.includes('Backups'));
    await type('?');
    const f = await waitForFrame(r, (x) => x.includes('Keys'));
    expect(f).toContain('⚠');
    expect(f).toContain('Emergency rollback');
    expect(f).toContain('Pause or resume automatic rollback');
    await type(ESC);
    await waitForFrame(r, (x) => x.includes('▶ Backups'));
  });
});

describe('progress view and result banner', () => {
  it('shows each step with its state, elapsed time, live output and the total', () => {
    let s = dashboardState();
    s = reducer(s, { type: 'engine/started', kind: 'standard', dryRun: false, auto: false, trigger: 'manual', at: NOW - 3000 });
    s = reducer(s, { type: 'engine/event', event: { type: 'plan', plan: plan() }, at: NOW });
    s = reducer(s, { type: 'engine/event', event: { type: 'step-start', step: 'lock', title: 'take the lock', at: NOW - 2900 }, at: NOW });
    s = reducer(s, { type: 'engine/event', event: { type: 'step-end', step: 'lock', status: 'ok', ms: 40 }, at: NOW });
    s = reducer(s, { type: 'engine/event', event: { type: 'step-start', step: 'stop', title: 'stop the service', at: NOW - 1500 }, at: NOW });
    s = reducer(s, { type: 'engine/event', event: { type: 'step-output', step: 'stop', line: 'app stopping (pid 42)', stream: 'stdout' }, at: NOW });
    const f = renderAt(
      <ThemeProvider theme={DEFAULT_THEME}>
        <Screen state={s} width={100} height={30} />
      </ThemeProvider>,
      100,
      30,
    ).lastFrame() ?? '';
    // At 100 columns the names lose their "backup_" prefix to keep the total and the trigger on the line.
    expect(f).toContain('standard rollback 20261124_110000 -> 20261123_090000  total 3.0s · trigger manual');
    expect(f).toMatch(/✓ ok\s+take the lock\s+40ms/);
    expect(f).toMatch(/running\s+stop the service\s+1\.5s/);
    expect(f).toMatch(/waiting\s+switch current/);
    expect(f).toContain('app stopping (pid 42)');
    expect(f).not.toMatch(/r\s+rollback/);
  });

  /** The full screen after the engine reports this result. */
  const frameAfter = (result: RollbackResult): string => {
    const s = reducer(dashboardState(), { type: 'engine/event', event: { type: 'result', result }, at: NOW });
    return (
      renderAt(
        <ThemeProvider theme={DEFAULT_THEME}>
          <Screen state={s} width={140} height={40} />
        </ThemeProvider>,
        140,
        40,
      ).lastFrame() ?? ''
    );
  };

  it('verification failure says what state things are in and what to do next', () => {
    const f = frameAfter({ ok: false, env: 'prod', kind: 'standard', dry_run: false, from: 'a', to: 'b', steps: [], verification: 'failed', duration_ms: 9000, exit_code: 2 });
    expect(f).toContain('verification FAILED');
    expect(f).toContain('Next:');
  });

  it('a failed rollback points at what the screen already shows, not at `verify` (which answers another question)', () => {
    const f = frameAfter({
      ok: false,
      env: 'prod',
      kind: 'standard',
      dry_run: false,
      from: 'a',
      to: 'b',
      steps: [{ name: 'stop', status: 'failed', ms: 120, error: 'service.stop exited 1' }],
      verification: 'skipped',
      duration_ms: 900,
      exit_code: 1,
      error: 'service.stop exited 1',
    });
    expect(f).toContain('Rollback FAILED at stop: service.stop exited 1');
    expect(f).toContain('Next: the header shows what is live, the events pane why it failed');
    expect(f).not.toContain('rollback-tui verify');
  });
});
