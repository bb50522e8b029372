/**
 * The dialog slice: the open dialog (rollback, help, history entry, quit), the rollback dialog's stages
 * (loading, preview, reason, confirm, blocked), and its outbox: a confirmed rollback is left in
 * `pendingRun` for the controller to start, a confirmed quit sets `quitting`. How the operator confirms
 * comes from the engine's one confirmation rule.
 */
import { confirmationFor } from '../../../core/engine/confirmation.js';
import type { HistoryEntry, RollbackKind, RollbackPlan } from '../../../core/engine/types.js';
import type { FleetPreview } from '../../fleet-run.js';
import type { Dialog, EnvInfo, RollbackDialog, RunRequest } from '../types.js';

export interface DialogState {
  dialog: Dialog | null;
  /** Rollback dialogs opened so far: the next one's requestId. */
  rollbackRequests: number;
  /** A confirmed request the controller must start (taken with run/taken). */
  pendingRun: RunRequest | null;
  /** The operator has asked to quit and nothing is running: the app exits. */
  quitting: boolean;
}

export type DialogAction =
  | { type: 'dialog/openRollback'; kind: RollbackKind; dryRun: boolean; target?: string | undefined }
  /**
   * The plan of the rollback dialog `requestId` (the controller always says which; a plan or an error
   * for any other dialog is dropped). Without it, the plan is for the dialog loading now: for callers
   * that plan synchronously (tests).
   */
  | { type: 'dialog/plan'; plan: RollbackPlan; requestId?: number }
  | { type: 'dialog/planError'; message: string; requestId?: number }
  /** A fleet's preview for the rollback dialog `requestId`: its plan, or each host's problems. */
  | { type: 'dialog/fleetPlan'; preview: FleetPreview; requestId?: number }
  | { type: 'dialog/type'; text: string }
  | { type: 'dialog/backspace' }
  | { type: 'dialog/submit' }
  | { type: 'dialog/yes' }
  | { type: 'dialog/no' }
  | { type: 'dialog/openHelp' }
  | { type: 'dialog/openHistory'; entry: HistoryEntry }
  | { type: 'dialog/report'; report: string | null; error: string | null }
  | { type: 'back' }
  | { type: 'quit' }
  | { type: 'run/taken' };

/** What the dialog needs to know of the rest of the console. */
export interface DialogContext {
  env: EnvInfo;
  /** A rollback is running (ours or the monitor's). */
  running: boolean;
}

export const initialDialog: DialogState = { dialog: null, rollbackRequests: 0, pendingRun: null, quitting: false };

/** The confirmation takes the typed environment name rather than y. */
export function typesName(d: RollbackDialog): boolean {
  return d.confirmation.kind === 'type-name';
}

const withDialog = (s: DialogState, dialog: Dialog | null): DialogState => ({ ...s, dialog });

/** The dialog is waiting for the plan of request `requestId` (undefined: of whichever request is open). */
function awaitsPlan(d: RollbackDialog, requestId: number | undefined): boolean {
  return d.stage === 'loading' && (requestId === undefined || requestId === d.requestId);
}

function updateRollback(s: DialogState, f: (d: RollbackDialog) => RollbackDialog): DialogState {
  const d = s.dialog;
  if (d?.type !== 'rollback') return s;
  const next = f(d);
  return next === d ? s : withDialog(s, next);
}

function confirmRun(s: DialogState, d: RollbackDialog, ctx: DialogContext): DialogState {
  if (ctx.running) return withDialog(s, { ...d, error: 'A rollback is already running.' });
  return {
    ...s,
    dialog: null,
    pendingRun: {
      kind: d.kind,
      target: d.target,
      // The live release the preview was planned from: a deploy while the dialog was open makes the
      // engine refuse rather than roll back from a release the operator never saw.
      ...(d.plan?.from ? { expectFrom: d.plan.from } : {}),
      ...(d.fleet?.plan ? { fleetPlan: d.fleet.plan } : {}),
      reason: d.reason.trim(),
      dryRun: d.dryRun,
    },
  };
}

function submit(s: DialogState, d: RollbackDialog, ctx: DialogContext): DialogState {
  switch (d.stage) {
    case 'preview':
      if (d.dryRun) {
        return {
          ...s,
          dialog: null,
          pendingRun: {
            kind: d.kind,
            target: d.target,
            ...(d.fleet?.plan ? { fleetPlan: d.fleet.plan } : {}),
            reason: d.reason.trim() || 'dry run from the console',
            dryRun: true,
          },
        };
      }
      return withDialog(s, { ...d, stage: 'reason', error: null });
    case 'reason':
      if (d.reason.trim() === '') return withDialog(s, { ...d, error: 'A reason is required: say why you are rolling back.' });
      return withDialog(s, { ...d, stage: 'confirm', error: null, confirmText: '' });
    case 'confirm': {
      if (!typesName(d)) return s;
      const name = ctx.env.name;
      if (d.confirmText !== name) {
        const typed = d.confirmText === '' ? 'nothing' : `"${d.confirmText}"`;
        return withDialog(s, { ...d, confirmText: '', error: `You typed ${typed}, not the environment's name. Type ${name} to confirm, or Esc to cancel.` });
      }
      return confirmRun(s, d, ctx);
    }
    default:
      return s;
  }
}

function openRollback(s: DialogState, a: Extract<DialogAction, { type: 'dialog/openRollback' }>, ctx: DialogContext): DialogState {
  if (s.dialog !== null || ctx.running) return s;
  const requestId = s.rollbackRequests + 1;
  return {
    ...s,
    rollbackRequests: requestId,
    dialog: {
      type: 'rollback',
      requestId,
      kind: a.kind,
      dryRun: a.dryRun,
      target: a.target,
      stage: 'loading',
      plan: null,
      planError: null,
      reason: '',
      confirmText: '',
      confirmation: confirmationFor(ctx.env, a.kind),
      error: null,
    },
  };
}

export function reduceDialog(s: DialogState, a: DialogAction, ctx: DialogContext): DialogState {
  switch (a.type) {
    case 'dialog/openRollback':
      return openRollback(s, a, ctx);
    case 'dialog/plan':
      return updateRollback(s, (d) => {
        if (!awaitsPlan(d, a.requestId)) return d;
        const blocked = a.plan.problems.length > 0;
        return { ...d, plan: a.plan, stage: blocked ? 'blocked' : d.dryRun ? 'preview' : 'reason' };
      });
    case 'dialog/fleetPlan':
      return updateRollback(s, (d) => {
        if (!awaitsPlan(d, a.requestId)) return d;
        const stage = a.preview.plan === null ? 'blocked' : d.dryRun ? 'preview' : 'reason';
        return { ...d, fleet: a.preview, stage };
      });
    case 'dialog/planError':
      return updateRollback(s, (d) => (awaitsPlan(d, a.requestId) ? { ...d, stage: 'blocked', planError: a.message } : d));
    case 'dialog/type':
      return updateRollback(s, (d) => {
        const text = a.text.replace(/[\r\n\t]/g, ' ').replace(/\p{Cc}/gu, '');
        if (d.stage === 'reason') return { ...d, reason: (d.reason + text).slice(0, 500), error: null };
        if (d.stage === 'confirm' && typesName(d)) return { ...d, confirmText: (d.confirmText + text).slice(0, 100), error: null };
        return d;
      });
    case 'dialog/backspace':
      return updateRollback(s, (d) => {
        if (d.stage === 'reason') return { ...d, reason: [...d.reason].slice(0, -1).join('') };
        if (d.stage === 'confirm' && typesName(d)) return { ...d, confirmText: [...d.confirmText].slice(0, -1).join('') };
        return d;
      });
    case 'dialog/submit':
      return s.dialog?.type === 'rollback' ? submit(s, s.dialog, ctx) : s;
    case 'dialog/yes': {
      const d = s.dialog;
      if (d?.type === 'quit') return { ...s, dialog: null, quitting: true };
      if (d?.type !== 'rollback' || d.stage !== 'confirm' || typesName(d)) return s;
      return confirmRun(s, d, ctx);
    }
    case 'dialog/no': {
      const d = s.dialog;
      if (d?.type === 'quit') return withDialog(s, null);
      if (d?.type === 'rollback' && d.stage === 'confirm' && !typesName(d)) return withDialog(s, null);
      return s;
    }
    case 'dialog/openHelp':
      if (s.dialog?.type === 'help') return withDialog(s, null);
      return s.dialog === null ? withDialog(s, { type: 'help' }) : s;
    case 'dialog/openHistory':
      return s.dialog === null ? withDialog(s, { type: 'history', entry: a.entry, report: null, reportError: null }) : s;
    case 'dialog/report':
      return s.dialog?.type === 'history' ? withDialog(s, { ...s.dialog, report: a.report, reportError: a.error }) : s;
    case 'back':
      // Esc closes whatever is open, the confirmation step included: nothing runs.
      return s.dialog ? withDialog(s, null) : s;
    case 'quit':
      if (ctx.running) return withDialog(s, { type: 'quit' });
      return { ...s, dialog: null, quitting: true };
    case 'run/taken':
      return s.pendingRun ? { ...s, pendingRun: null } : s;
  }
}
