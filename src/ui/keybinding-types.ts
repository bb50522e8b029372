/**
 * The vocabulary of the keybinding table (keybindings.ts): action ids, panels, the context a binding
 * is judged in, the console's extra actions, and the binding row itself.
 */
import type { AppState } from './state/types.js';
import type { Intent } from './intent.js';
import type { KeySpec } from './keys.js';

export type BuiltinActionId =
  | 'rollback.standard'
  | 'rollback.emergency'
  | 'rollback.targeted'
  | 'rollback.dryRun'
  | 'automation.toggle'
  | 'automation.cancelPending'
  | 'focus.next'
  | 'focus.prev'
  | 'select.up'
  | 'select.down'
  | 'history.open'
  | 'help.toggle'
  | 'view.charts'
  | 'back'
  | 'quit'
  | 'quit.confirm'
  | 'dialog.submit'
  | 'dialog.yes'
  | 'dialog.no';

/** Actions appended to the table at runtime (the demo's "deploy the sick release again"). */
export type ExtraActionId = `extra.${string}`;
export type ActionId = BuiltinActionId | ExtraActionId;

/** `hosts` only on a fleet (the Hosts panel); focus skips it elsewhere. */
export type PanelId = 'hosts' | 'backups' | 'history' | 'events';

/** What the table needs to know to decide whether a binding is live. */
export interface KeyContext {
  /** Panel keys act only in the main view, where the panels are. */
  view: 'main' | 'charts';
  focus: PanelId;
  dialog: 'rollback' | 'help' | 'history' | 'quit' | null;
  dialogStage?: 'loading' | 'preview' | 'reason' | 'confirm' | 'blocked' | undefined;
  /** The confirm stage takes a typed name (type-name envs, emergency) instead of y. */
  typeName?: boolean;
  running: boolean;
  /** An automatic rollback is counting down (cancellable). */
  pendingAuto: boolean;
  automation: 'armed' | 'paused' | 'disabled' | 'unknown';
  hasSelection: boolean;
  /** The environment is a fleet: its rollback keys roll every host back to one target. */
  fleet?: boolean | undefined;
  /** Extra actions of this console (appended to the table; absent = none). */
  extra?: readonly ExtraAction[] | undefined;
}

/** An action the embedding program adds to the console (data only; the controller holds what it runs). */
export interface ExtraAction {
  /** Unique among the extra actions; the binding's id is `extra.<id>`. */
  id: string;
  keys: KeySpec[];
  label: string;
  description: string;
  /** Where it applies, for the help overlay (default "extra"). */
  where?: string;
  /** Changes the environment (default true). */
  dangerous?: boolean;
}

export interface KeyBinding {
  id: ActionId;
  keys: KeySpec[];
  /** Short footer label. */
  label: string;
  /** Footer label that depends on the context (e.g. "pause" or "resume"); else `label`. */
  footerLabel?: (c: KeyContext) => string;
  /** Longer help-overlay text. */
  description: string;
  /** Changes production: drawn in the dangerous colour, never bound to a key that is also text input. */
  dangerous: boolean;
  /** Where it applies, for the help overlay ("global", "backups", "dialog"); a word or two. */
  where: string;
  /** Shown in the footer when live. */
  footer: boolean;
  /** Footer key text when it differs from the keys (e.g. "↑↓/jk" for a pair of bindings). */
  footerKeys?: string;
  /**
   * Help overlay: this binding and the next one of the table share one row, with these keys and this
   * text (e.g. Tab and Shift-Tab as "Tab/S-Tab"), so the whole table fits on an 80x24 terminal.
   */
  helpPair?: { keys: string; description: string };
  /** Where the key means this action (the table's order decides between rows that share a key). */
  when: (c: KeyContext) => boolean;
  /** Why it cannot act now although it applies here (null: it can); shown instead of doing nothing. */
  disabledReason?: (c: KeyContext) => string | null;
  /** What pressing it asks for, given the state (e.g. the selected backup). */
  intent: (s: AppState) => Intent;
}
