/** What a key press asks the console for, as the keybinding table resolves it for the controller. */
import type { ActionId } from './keybindings.js';
import type { Action } from './state/types.js';

/** What a key asks for: a state change, or a side effect that the controller carries out. */
export type Intent =
  | { kind: 'dispatch'; action: Action }
  /** Open a rollback dialog and fetch its plan. */
  | { kind: 'openRollback'; rollback: 'standard' | 'emergency' | 'targeted'; dryRun: boolean; target?: string | undefined }
  /** Open a history entry and read its incident report. */
  | { kind: 'openHistory'; index: number }
  | { kind: 'toggleAutomation' }
  | { kind: 'cancelPending' }
  /** Run an extra action (by its own id, without the `extra.` prefix). */
  | { kind: 'extraAction'; id: string }
  /** A key that applies here but cannot act now: the controller shows `text` ("r: a rollback is already running"). */
  | { kind: 'refused'; id: ActionId; text: string }
  | { kind: 'none' };
