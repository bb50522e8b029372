import { describe, expect, it } from 'vitest';
import { KEYBINDINGS, footerBindings, footerLabel, intentOf, keyNamesOf, lookupKey, resolveKey, type KeyContext } from '../../src/ui/keybindings.js';
import { dashboardState } from './fixtures.js';

const base: KeyContext = {
  view: 'main',
  focus: 'backups',
  dialog: null,
  running: false,
  pendingAuto: false,
  automation: 'armed',
  hasSelection: true,
};

const press = (input: string, key: Record<string, boolean> = {}) => ({ input, key });

describe('keybinding table', () => {
  it('has unique action ids, a description and keys for every action', () => {
    const ids = KEYBINDINGS.map((b) => b.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const b of KEYBINDINGS) {
      expect(b.keys.length).toBeGreaterThan(0);
      expect(b.description.length).toBeGreaterThan(10);
    }
  });

  it('flags exactly the actions that change the environment as dangerous', () => {
    const dangerous = KEYBINDINGS.filter((b) => b.dangerous).map((b) => b.id).sort();
    expect(dangerous).toEqual(['dialog.yes', 'rollback.emergency', 'rollback.standard', 'rollback.targeted']);
  });

  it('covers every documented key', () => {
    const keyOf = (id: string) => KEYBINDINGS.find((b) => b.id === id)?.keys;
    expect(keyOf('rollback.standard')).toEqual(['r']);
    expect(keyOf('rollback.emergency')).toEqual(['e']);
    expect(keyOf('rollback.targeted')).toEqual(['enter', 't']);
    expect(keyOf('rollback.dryRun')).toEqual(['d']);
    expect(keyOf('automation.toggle')).toEqual(['p']);
    expect(keyOf('automation.cancelPending')).toEqual(['c']);
    expect(keyOf('focus.next')).toEqual(['tab']);
    expect(keyOf('focus.prev')).toEqual(['shift-tab']);
    expect(keyOf('select.up')).toEqual(['up', 'k']);
    expect(keyOf('select.down')).toEqual(['down', 'j']);
    expect(keyOf('help.toggle')).toEqual(['?']);
    expect(keyOf('back')).toEqual(['esc']);
    expect(keyOf('quit')).toEqual(['q', 'ctrl-c']);
    expect(keyOf('quit.confirm')).toEqual(['y']);
  });

  it('names keys from ink key events', () => {
    expect(keyNamesOf(press('c', { ctrl: true }))).toEqual(['ctrl-c']);
    expect(keyNamesOf(press('', { tab: true, shift: true }))).toEqual(['shift-tab']);
    expect(keyNamesOf(press('', { return: true }))).toEqual(['enter']);
    expect(keyNamesOf(press('r'))).toEqual(['r']);
  });

  it('Enter is a targeted rollback on backups and opens the entry on history', () => {
    expect(resolveKey(press('', { return: true }), base)?.id).toBe('rollback.targeted');
    expect(resolveKey(press('', { return: true }), { ...base, focus: 'history' })?.id).toBe('history.open');
    expect(resolveKey(press('t'), { ...base, focus: 'history' })).toBeNull();
  });

  it('no rollback key works while a rollback runs or a dialog is open', () => {
    for (const k of ['r', 'e', 'd', 't']) {
      expect(resolveKey(press(k), { ...base, running: true })).toBeNull();
      expect(resolveKey(press(k), { ...base, dialog: 'help' })).toBeNull();
    }
  });

  it('c works only while an automatic rollback is pending; p not when automation is disabled', () => {
    expect(resolveKey(press('c'), base)).toBeNull();
    expect(resolveKey(press('c'), { ...base, pendingAuto: true })?.id).toBe('automation.cancelPending');
    expect(resolveKey(press('p'), { ...base, automation: 'disabled' })).toBeNull();
    expect(resolveKey(press('p'), base)?.id).toBe('automation.toggle');
  });

  it('y confirms only in the yes-no confirmation step', () => {
    expect(resolveKey(press('y'), base)).toBeNull();
    expect(resolveKey(press('y'), { ...base, dialog: 'rollback', dialogStage: 'reason', typeName: false })).toBeNull();
    expect(resolveKey(press('y'), { ...base, dialog: 'rollback', dialogStage: 'confirm', typeName: true })).toBeNull();
    expect(resolveKey(press('y'), { ...base, dialog: 'rollback', dialogStage: 'confirm', typeName: false })?.id).toBe('dialog.yes');
  });

  it('y on the quit dialog is its own binding: "quit anyway", not "yes, roll back"', () => {
    const quit = { ...base, running: true, dialog: 'quit' as const };
    expect(resolveKey(press('y'), quit)?.id).toBe('quit.confirm');
    expect(resolveKey(press('n'), quit)?.id).toBe('dialog.no');
    expect(footerBindings(quit).map((b) => [b.id, b.label])).toEqual([
      ['quit.confirm', 'quit anyway'],
      ['dialog.no', 'no'],
      ['back', 'back'],
    ]);
  });

  it('the footer says pause or resume, whichever p does now', () => {
    const p = KEYBINDINGS.find((b) => b.id === 'automation.toggle');
    expect(p && footerLabel(p, base)).toBe('pause');
    expect(p && footerLabel(p, { ...base, automation: 'paused' })).toBe('resume');
  });

  it('every description fits the help overlay at 80 columns', () => {
    // 76 inside the border, less the keys (10), the ⚠ column (2) and where (8).
    for (const b of KEYBINDINGS) {
      expect(b.description.length).toBeLessThanOrEqual(56);
      expect(b.helpPair?.description.length ?? 0).toBeLessThanOrEqual(56);
    }
  });

  it('the footer lists what works now', () => {
    const ids = (c: KeyContext) => footerBindings(c).map((b) => b.id);
    expect(ids(base)).toContain('rollback.standard');
    expect(ids({ ...base, running: true })).not.toContain('rollback.standard');
    expect(ids({ ...base, dialog: 'rollback', dialogStage: 'confirm', typeName: false })).toEqual(['dialog.yes', 'dialog.no', 'back']);
    expect(ids({ ...base, pendingAuto: true })).toContain('automation.cancelPending');
  });

  it('a key that applies but cannot act says why instead of doing nothing', () => {
    const state = dashboardState();
    const refused = (k: string, c: KeyContext, key: Record<string, boolean> = {}) => {
      const i = intentOf(press(k, key), c, state);
      return i.kind === 'refused' ? i.text : `not refused: ${i.kind}`;
    };
    expect(refused('r', { ...base, running: true })).toBe('r: a rollback is already running; wait for its result');
    expect(refused('e', { ...base, running: true })).toMatch(/^e: a rollback is already running/);
    expect(refused('t', { ...base, running: true })).toMatch(/^t: a rollback is already running/);
    expect(refused('', { ...base, hasSelection: false }, { return: true })).toBe('Enter: there is no backup to roll back to');
    expect(refused('', { ...base, focus: 'history', hasSelection: false }, { return: true })).toBe('Enter: the history is empty');
    expect(refused('c', base)).toBe('c: no automatic rollback is counting down');
    expect(refused('p', { ...base, automation: 'disabled' })).toMatch(/^p: automatic rollback is off for this environment/);
    expect(refused('p', { ...base, automation: 'unknown' })).toBe('p: the monitor has not reported yet');
    // Keys that mean nothing here stay silent: no reason to give.
    expect(intentOf(press('t'), { ...base, focus: 'history' }, state).kind).toBe('none');
    expect(intentOf(press('r'), { ...base, dialog: 'help' }, state).kind).toBe('none');
  });

  it('each binding carries its intent: r opens a standard rollback, Enter the selected backup', () => {
    const state = dashboardState();
    expect(intentOf(press('r'), base, state)).toEqual({ kind: 'openRollback', rollback: 'standard', dryRun: false });
    expect(intentOf(press('d'), base, state)).toEqual({ kind: 'openRollback', rollback: 'standard', dryRun: true });
    const selected = state.backups[state.selection.backups]?.name;
    expect(selected).toBeDefined();
    expect(intentOf(press('', { return: true }), base, state)).toEqual({ kind: 'openRollback', rollback: 'targeted', dryRun: false, target: selected });
    expect(intentOf(press('', { tab: true }), base, state)).toEqual({ kind: 'dispatch', action: { type: 'focus/next' } });
  });

  it('the footer leaves out what cannot act now; lookupKey still finds it with the reason', () => {
    const running = { ...base, running: true };
    expect(footerBindings(running).map((b) => b.id)).not.toContain('rollback.emergency');
    expect(footerBindings(base).map((b) => b.id)).not.toContain('automation.cancelPending');
    expect(resolveKey(press('r'), running)).toBeNull();
    expect(lookupKey(press('r'), running)).toMatchObject({ binding: { id: 'rollback.standard' }, disabledReason: expect.stringContaining('already running') });
  });
});
