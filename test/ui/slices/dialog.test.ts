/** The dialog slice on its own: the rollback dialog's stages, the confirmation rule, the outbox, help and quit. */
import { describe, expect, it } from 'vitest';
import { initialDialog, reduceDialog, type DialogAction, type DialogContext, type DialogState } from '../../../src/ui/state/slices/dialog.js';
import { envInfo, plan } from '../fixtures.js';

const prod: DialogContext = { env: envInfo(), running: false };
const staging: DialogContext = { env: envInfo({ name: 'staging', confirm: 'yes-no', isProd: false }), running: false };

function run(ctx: DialogContext, ...actions: DialogAction[]): DialogState {
  return actions.reduce((s, a) => reduceDialog(s, a, ctx), initialDialog);
}
const typed = (text: string): DialogAction => ({ type: 'dialog/type', text });
const SUBMIT: DialogAction = { type: 'dialog/submit' };

describe('dialog slice', () => {
  it('a yes-no environment: plan, reason, y; the confirmed run waits in the outbox with the planned live release', () => {
    const s = run(staging, { type: 'dialog/openRollback', kind: 'standard', dryRun: false }, { type: 'dialog/plan', plan: plan() }, typed('5xx'), SUBMIT, { type: 'dialog/yes' });
    expect(s.dialog).toBeNull();
    expect(s.pendingRun).toEqual({ kind: 'standard', target: undefined, expectFrom: 'backup_20261124_110000', reason: '5xx', dryRun: false });
    expect(reduceDialog(s, { type: 'run/taken' }, staging).pendingRun).toBeNull();
  });

  it('the confirmation follows the engine rule: emergency asks for the name even on yes-no', () => {
    const open = (ctx: DialogContext, kind: 'standard' | 'emergency') => run(ctx, { type: 'dialog/openRollback', kind, dryRun: false }).dialog;
    expect(open(staging, 'standard')).toMatchObject({ confirmation: { kind: 'yes-no' } });
    expect(open(staging, 'emergency')).toMatchObject({ confirmation: { kind: 'type-name', name: 'staging', why: 'emergency' } });
    expect(open(prod, 'standard')).toMatchObject({ confirmation: { kind: 'type-name', name: 'prod', why: 'environment' } });
    const atName = run(staging, { type: 'dialog/openRollback', kind: 'emergency', dryRun: false }, { type: 'dialog/plan', plan: plan({ kind: 'emergency' }) }, typed('down'), SUBMIT);
    expect(reduceDialog(atName, { type: 'dialog/yes' }, staging)).toBe(atName);
    const wrong = [typed('y'), SUBMIT].reduce((s, a) => reduceDialog(s, a, staging), atName);
    expect(wrong.pendingRun).toBeNull();
    expect(wrong.dialog).toMatchObject({ error: expect.stringContaining('You typed "y"') });
    const right = [typed('staging'), SUBMIT].reduce((s, a) => reduceDialog(s, a, staging), wrong);
    expect(right.pendingRun).toMatchObject({ kind: 'emergency', reason: 'down' });
  });

  it('drops a plan that belongs to an earlier dialog', () => {
    const s = run(prod, { type: 'dialog/openRollback', kind: 'standard', dryRun: false }, { type: 'back' }, { type: 'dialog/openRollback', kind: 'emergency', dryRun: false });
    expect(s.rollbackRequests).toBe(2);
    expect(reduceDialog(s, { type: 'dialog/plan', plan: plan(), requestId: 1 }, prod)).toBe(s);
    expect(reduceDialog(s, { type: 'dialog/plan', plan: plan({ kind: 'emergency' }), requestId: 2 }, prod).dialog).toMatchObject({ stage: 'reason' });
  });

  it('a plan with problems blocks; a dry run goes out from the preview without a reason', () => {
    expect(run(prod, { type: 'dialog/openRollback', kind: 'standard', dryRun: false }, { type: 'dialog/plan', plan: plan({ problems: ['no target'] }) }).dialog).toMatchObject({ stage: 'blocked' });
    const dry = run(prod, { type: 'dialog/openRollback', kind: 'standard', dryRun: true }, { type: 'dialog/plan', plan: plan() }, SUBMIT);
    expect(dry.pendingRun).toMatchObject({ dryRun: true, reason: 'dry run from the console' });
  });

  it('no second dialog while one is open or a rollback runs; quit asks while running', () => {
    expect(run({ ...prod, running: true }, { type: 'dialog/openRollback', kind: 'standard', dryRun: false })).toBe(initialDialog);
    expect(run(prod, { type: 'dialog/openHelp' }, { type: 'dialog/openRollback', kind: 'standard', dryRun: false }).dialog).toEqual({ type: 'help' });
    expect(run({ ...prod, running: true }, { type: 'quit' })).toMatchObject({ dialog: { type: 'quit' }, quitting: false });
    expect(run({ ...prod, running: true }, { type: 'quit' }, { type: 'dialog/yes' })).toMatchObject({ dialog: null, quitting: true });
    expect(run(prod, { type: 'quit' })).toMatchObject({ quitting: true });
  });
});
