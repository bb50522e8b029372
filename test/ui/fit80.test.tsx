/**
 * The console at 80x24, the size it must work at: every part that the layout squeezes (help, quit
 * dialog over a running rollback, progress title, rollback preview, footer, history rows, header) shows
 * what it is for, and nothing is drawn over anything else.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { helpLayout, helpRows } from '../../src/ui/components/HelpOverlay.js';
import { quitDialogHeight } from '../../src/ui/components/QuitDialog.js';
import { wrappedLines } from '../../src/ui/components/lists.js';
import { windowFill } from '../../src/ui/components/TriggersPanel.js';
import { knownGoodNote } from '../../src/ui/components/Header.js';
import { bindingsOf, type ExtraAction } from '../../src/ui/keybindings.js';
import { reducer } from '../../src/ui/state/reducer.js';
import { keyContextOf, routeKey } from '../../src/ui/state/input.js';
import type { AppState } from '../../src/ui/state/types.js';
import type { HistoryEntry } from '../../src/core/engine/types.js';
import { main } from '../../src/cli/main.js';
import { BufferWriter } from '../../src/cli/output.js';
import { BACKUPS, HISTORY, NOW, dashboardState, monitorState, plan, trigger } from './fixtures.js';
import { monochromeFrame } from './render.js';

afterEach(() => cleanup());

// Monochrome: the frames are plain text, so lines can be measured and matched.
const frame = monochromeFrame;

function fits(f: string, width = 80, height = 24): void {
  const lines = f.split('\n');
  expect(lines.length).toBeLessThanOrEqual(height);
  for (const l of lines) expect([...l].length).toBeLessThanOrEqual(width);
}

const REDEPLOY: ExtraAction = { id: 'redeploy', keys: ['R'], label: 'redeploy sick', description: 'Demo: deploy the leaking release again', where: 'demo' };

/** The demo's console: prod-like, with the extra R action. */
const withDemo = (s: AppState = dashboardState()): AppState => ({ ...s, extraActions: [REDEPLOY] });

function running(auto: boolean, s: AppState = withDemo()): AppState {
  let r = reducer(s, { type: 'engine/started', kind: 'standard', dryRun: false, auto, trigger: auto ? 'health_check' : 'manual', at: NOW - 3000 });
  r = reducer(r, { type: 'engine/event', event: { type: 'plan', plan: plan() }, at: NOW });
  r = reducer(r, { type: 'engine/event', event: { type: 'step-start', step: 'lock', title: 'take the lock', at: NOW - 2900 }, at: NOW });
  return r;
}

const result = (s: AppState): AppState =>
  reducer(s, {
    type: 'engine/event',
    event: {
      type: 'result',
      result: { ok: true, env: 'prod', kind: 'standard', dry_run: false, from: 'backup_20261124_110000', to: 'backup_20261123_090000', steps: [], verification: 'passed', duration_ms: 9000, exit_code: 0 },
    },
    at: NOW,
  });

describe('help overlay at 80x24', () => {
  it('shows every binding of the table, descriptions whole, with a result banner on screen', () => {
    const s = reducer(result(withDemo()), { type: 'dialog/openHelp' });
    const f = frame(s);
    fits(f);
    const rows = helpRows(bindingsOf(keyContextOf(s)));
    // Every binding has a row, and every row is on screen with its keys and its whole text.
    expect(new Set(rows.flatMap((r) => r.ids))).toEqual(new Set(bindingsOf(keyContextOf(s)).map((b) => b.id)));
    for (const r of rows) expect(f).toMatch(new RegExp(`${r.keys.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+(⚠ )?\\s*${r.where}\\s+${r.description.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    for (const keys of ['?', 'Esc', 'q/^C', 'R', 'Tab/S-Tab', '↑↓/jk']) expect(f).toContain(`║ ${keys} `);
    expect(f).not.toContain('…');
  });

  it('falls back to two columns, then counts what is left out, but never overflows', () => {
    const rows = helpRows(bindingsOf({ extra: [REDEPLOY] }));
    const cols = helpLayout(rows, 80, 12);
    expect(cols.mode).toBe('columns');
    expect(cols.hidden).toBe(0);
    expect(cols.lines.length).toBeLessThanOrEqual(12 - 3);
    expect(cols.lines.flat()).toHaveLength(rows.length);
    const tiny = helpLayout(rows, 80, 8);
    expect(tiny.lines.length + 1).toBeLessThanOrEqual(8 - 3);
    expect(tiny.lines.flat().length + tiny.hidden).toBe(rows.length);
    const f = frame(reducer(withDemo(), { type: 'dialog/openHelp' }), 80, 16);
    fits(f, 80, 16);
    expect(f).toContain('q/^C');
  });
});

describe('quit while a rollback runs, at 80x24', () => {
  it('asks in a dialog sized to its text, over a progress view whose title stays whole', () => {
    const s = reducer(running(false), { type: 'quit' });
    expect(s.dialog?.type).toBe('quit');
    const f = frame(s);
    fits(f);
    const lines = f.split('\n');
    // The dialog box: from its top border to its bottom border, as many rows as computed.
    const top = lines.findIndex((l) => l.startsWith('╔'));
    const bottom = lines.findIndex((l, i) => i > top && l.startsWith('╚'));
    expect(bottom - top + 1).toBe(quitDialogHeight(80));
    expect(lines[top + 1]).toContain('A rollback is running.');
    expect(lines[bottom - 1]).toContain('Quit anyway?');
    // Right under it, the progress view with its title.
    expect(lines[bottom + 1]?.startsWith('╔')).toBe(true);
    expect(lines[bottom + 2]).toMatch(/standard rollback {2}total 3\.0s · trigger manual/);
    // The footer says what y does here, not "roll back", and not in the dangerous colour.
    const footer = lines.at(-1) ?? '';
    expect(footer).toMatch(/y\s*quit anyway/);
    expect(f).not.toContain('yes, roll back');
    expect(bindingsOf({}).find((b) => b.id === 'quit.confirm')?.dangerous).toBe(false);
  });

  it('y quits, n keeps watching', () => {
    const s = reducer(running(false), { type: 'quit' });
    const yes = routeKey(s, { input: 'y', key: {} });
    expect(yes).toEqual({ kind: 'dispatch', action: { type: 'dialog/yes' } });
    if (yes.kind === 'dispatch') expect(reducer(s, yes.action).quitting).toBe(true);
    const no = routeKey(s, { input: 'n', key: {} });
    if (no.kind === 'dispatch') expect(reducer(s, no.action)).toMatchObject({ quitting: false, dialog: null });
  });

  it('sizes the dialog from how its text wraps', () => {
    expect(wrappedLines('aaa bbb ccc', 7)).toBe(2);
    expect(wrappedLines('aaa bbb ccc', 11)).toBe(1);
    expect(wrappedLines('abcdefghij', 4)).toBe(3);
    expect(quitDialogHeight(80)).toBe(5);
    expect(quitDialogHeight(50)).toBeGreaterThan(5);
    const f = frame(reducer(running(false), { type: 'quit' }), 50, 24);
    expect(f).toContain('A rollback is running.');
  });
});

describe('progress title at 80 columns', () => {
  it('manual and automatic rollbacks show the total, the trigger and both backups', () => {
    for (const [auto, trigger] of [
      [false, 'manual'],
      [true, 'health_check'],
    ] as const) {
      const f = frame(running(auto));
      fits(f);
      expect(f).toMatch(new RegExp(`${auto ? 'AUTOMATIC ' : ''}standard rollback {2}total 3\\.0s · trigger ${trigger}`));
      expect(f).toContain('backup_20261124_110000 -> backup_20261123_090000');
    }
  });

  it('on a wide terminal the title is one line with the full names', () => {
    expect(frame(running(true), 140, 40)).toMatch(/AUTOMATIC standard rollback backup_20261124_110000 -> backup_20261123_090000 {2}total 3\.0s · trigger health_check/);
  });
});

describe('rollback preview at 80x24', () => {
  const steps = Array.from({ length: 16 }, (_, i) => ({ name: 'stop' as const, title: `step ${i}`, commands: [`cmd-${i}`] }));
  const open = (kind: 'standard' | 'emergency', p = plan({ kind, steps })): AppState => {
    const s = reducer(dashboardState(), { type: 'dialog/openRollback', kind, dryRun: false });
    return reducer(s, { type: 'dialog/plan', plan: { ...p, steps: p.steps.map((x, i) => ({ ...x, name: `${x.name}${i}` as never })) } });
  };

  it('uses every row for steps before saying how many more there are', () => {
    const f = frame(open('standard'));
    fits(f);
    const lines = f.split('\n');
    const more = lines.findIndex((l) => /… \d+ more steps/.test(l));
    expect(more).toBeGreaterThan(0);
    expect(lines[more + 1]).toContain('Reason:');
    const shown = lines.filter((l) => /• step \d+/.test(l)).length;
    expect(shown + Number(/… (\d+) more/.exec(lines[more] ?? '')?.[1])).toBe(16);
  });

  it('shows all steps and no "more" when they fit', () => {
    const f = frame(open('standard', plan()));
    expect(f).not.toContain('more steps');
    expect(f).toContain('verify health');
  });

  it('says the emergency warning once, whole', () => {
    const warning = 'EMERGENCY: pre-validation, maintenance and health verification will be skipped';
    const f = frame(open('emergency', plan({ kind: 'emergency', steps, warnings: [warning] })));
    fits(f);
    expect(f.match(/will be\s*║?\s*║?\s*skipped/g)).toHaveLength(1);
    expect(f).toContain('⚠ EMERGENCY: pre-validation');
    const lines = f.split('\n');
    const more = lines.findIndex((l) => /… \d+ more steps/.test(l));
    expect(lines[more + 1]).toContain('Reason:');
  });
});

describe('footer at 80x24', () => {
  it('shows every key that works now on the dashboard, also with the demo action and in the grace countdown', () => {
    const grace = reducer(withDemo(), {
      type: 'monitor/event',
      event: { type: 'grace', env: 'prod', trigger: trigger('memory', { status: 'breached' }), remainingSeconds: 9 },
      at: NOW,
    });
    for (const s of [withDemo(), grace, reducer(withDemo(), { type: 'focus/next' })]) {
      const f = frame(s);
      fits(f);
      const footer = f.split('\n').slice(-2).join('\n');
      for (const k of [/r\s*rollback/, /e\s*emergency/, /d\s*dry run/, /p\s*pause/, /Tab\s*panel/, /↑↓\/jk\s*select/, /\?\s*help/, /Esc\s*back/, /q\/\^C\s*quit/, /R\s*redeploy sick/]) {
        expect(footer).toMatch(k);
      }
    }
    expect(frame(grace).split('\n').slice(-2).join('\n')).toMatch(/c\s*cancel auto/);
  });

  it('below 80 columns gives way with navigation keys first, never with ?, Esc or q', () => {
    for (const width of [70, 60, 50]) {
      const f = frame(withDemo(), width, 24);
      fits(f, width, 24);
      const footer = f.split('\n').slice(-2).join('\n');
      for (const k of [/\?\s*help/, /Esc\s*back/, /q\/\^C\s*quit/]) expect(footer).toMatch(k);
    }
  });

  it('below 80 columns the focused list gets the whole width (no empty stub)', () => {
    const f = frame(reducer(dashboardState(), { type: 'focus/next' }), 70, 24);
    expect(f).toContain('▶ History');
    expect(f).toMatch(/11-23 10:00 standard\s+✓ ok/);
    expect(f).not.toContain('Backups');
  });
});

describe('history rows', () => {
  const entries: HistoryEntry[] = [
    ...HISTORY,
    { ...(HISTORY[0] as HistoryEntry), id: 'h2', kind: 'emergency', trigger: 'error_rate', initiated_by: 'bob@ops-2 from 10.0.0.5', duration_ms: 12_300 },
  ];
  const s = reducer(dashboardState(), { type: 'history/loaded', history: entries });

  it('show who and how long before from -> to at 140x40', () => {
    const f = frame(s, 140, 40);
    expect(f).toMatch(/standard\s+✓ ok\s+manual\s+alice\s+4\.2s\s+20261122_0900/);
    expect(f).toMatch(/emergency\s+✓ ok\s+error_rate\s+bob\s+12\.3s\s+20261122_0900/);
  });

  it('show the trigger at 80x24', () => {
    const f = frame(s);
    expect(f).toMatch(/std\s+✓ manual\s+alice/);
    expect(f).toMatch(/EMERG\s+✓ errors\s+bob/);
  });
});

describe('header and triggers', () => {
  it('names the newest known-good backup when the live release is not known-good', () => {
    const f = frame(dashboardState());
    expect(f.split('\n')[1]).toContain('★good backup_20261123_090000');
    const good = reducer(dashboardState(), { type: 'backups/loaded', backups: BACKUPS.map((b) => ({ ...b, knownGood: b.current })) });
    // At 80 columns the mark fits in full beside the hh:mm clock; a few columns less, it is shortened.
    expect(frame(good).split('\n')[0]).toMatch(/1h old ★known-good +12:00$/);
    expect(frame(good, 77, 24).split('\n')[0]).toMatch(/1h old ★good +12:00$/);
    expect(frame(good, 100, 30).split('\n')[0]).toContain('1h old ★known-good');
    expect(frame(good).split('\n')[1]).not.toContain('★good');
    // Shorter when it must be, nothing when it cannot fit.
    expect(knownGoodNote(BACKUPS, BACKUPS[0], 26)).toBe(' │ ★good 20261123_090000');
    expect(knownGoodNote(BACKUPS, BACKUPS[0], 10)).toBeNull();
  });

  it('a full trigger window does not read like more than 100%', () => {
    expect(windowFill({ samplesInWindow: 12, samplesNeeded: 30 })).toBe('12/30 samples');
    expect(windowFill({ samplesInWindow: 15, samplesNeeded: 12 })).toBe('15 (need 12)');
    const s = reducer(dashboardState(), { type: 'monitor/state', state: monitorState({ triggers: [trigger('error_rate', { samplesInWindow: 15, samplesNeeded: 12 })] }) });
    expect(frame(s)).toContain('15 (need 12)');
  });
});

describe('no terminal', () => {
  it('exits 64 naming the subcommands that work without one, not demo as one of them', async () => {
    const io = { stdout: new BufferWriter(), stderr: new BufferWriter() };
    expect(await main(['node', 'rb'], { ...io, env: {}, cwd: process.cwd(), isTTY: false })).toBe(64);
    const text = io.stderr.text();
    expect(text).toMatch(/use a subcommand: .*\blist\b/);
    expect(text).not.toMatch(/subcommand: [^(]*\bdemo\b/);
    expect(text).toContain('`demo --keep --print-config` sets up an environment to try them on');
  });
});
