/**
 * Input routing, pure: a key press and the state in, an intent out. A dialog with a text field consumes
 * printable keys first (so typing "y" or "q" into a reason never confirms or quits); everything else is
 * resolved through the keybinding table: the binding's intent, or its reason for not acting now.
 */
import { intentOf, type Intent, type KeyContext, type KeyPress } from '../keybindings.js';
import { isRunning, typesName } from './reducer.js';
import type { Action, AppState } from './types.js';

export type { Intent };

export function keyContextOf(state: AppState): KeyContext {
  const d = state.dialog;
  const lengths = { hosts: state.fleet?.hosts.length ?? 0, backups: state.backups.length, history: state.history.length, events: state.events.length };
  const focusLen = lengths[state.focus];
  return {
    view: state.view,
    focus: state.focus,
    dialog: d ? d.type : null,
    dialogStage: d?.type === 'rollback' ? d.stage : undefined,
    typeName: d?.type === 'rollback' ? typesName(d) : undefined,
    running: isRunning(state),
    // Once the automatic rollback runs there is nothing left to cancel, even before the monitor's next
    // state report leaves 'grace'.
    pendingAuto: state.progress?.auto !== true && (state.banners.auto?.phase === 'grace' || state.monitor?.phase === 'grace'),
    automation: state.monitor?.automation ?? (state.env.automationEnabled ? 'unknown' : 'disabled'),
    hasSelection: focusLen > 0,
    ...(state.fleet !== null ? { fleet: true } : {}),
    ...(state.extraActions.length > 0 ? { extra: state.extraActions } : {}),
  };
}

/** The dialog takes free text right now (reason, or the typed environment name). */
export function isTextEntry(state: AppState): boolean {
  const d = state.dialog;
  return d?.type === 'rollback' && (d.stage === 'reason' || (d.stage === 'confirm' && typesName(d)));
}

const dispatch = (action: Action): Intent => ({ kind: 'dispatch', action });

/**
 * The presses one input chunk stands for. A terminal delivers whatever arrived in one read, so over a
 * slow SSH link "bad deploy<Enter>" comes as one chunk, and ink reports it as text with no `return`.
 * In a text field we split it: the text, then Enter. Whatever follows the first line break is dropped:
 * a chunk that runs on past Enter is a paste or type-ahead, and it must never answer the next stage
 * (a stray "y" would confirm a production rollback). Everything else passes through unchanged.
 */
export function splitChunk(state: AppState, press: KeyPress): KeyPress[] {
  const { input, key } = press;
  if (!isTextEntry(state) || input.length < 2 || key.ctrl || key.escape || key.return) return [press];
  const lineBreak = input.search(/[\r\n]/);
  if (lineBreak < 0) return [press];
  const before = input.slice(0, lineBreak);
  const enter: KeyPress = { input: '\r', key: { return: true } };
  return before.length > 0 ? [{ input: before, key }, enter] : [enter];
}

export function routeKey(state: AppState, press: KeyPress): Intent {
  const { input, key } = press;
  if (key.ctrl && input === 'c') return dispatch({ type: 'quit' });
  if (isTextEntry(state)) {
    if (key.escape) return dispatch({ type: 'back' });
    if (key.return) return dispatch({ type: 'dialog/submit' });
    if (key.backspace || key.delete) return dispatch({ type: 'dialog/backspace' });
    if (key.ctrl || key.tab || key.upArrow || key.downArrow) return { kind: 'none' };
    if (input.length > 0) return dispatch({ type: 'dialog/type', text: input });
    return { kind: 'none' };
  }
  return intentOf(press, keyContextOf(state), state);
}
