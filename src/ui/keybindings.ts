/**
 * The console's one keybinding table. Each row holds the keys, where they apply (`when`), why they
 * cannot act right now (`disabledReason`), whether they change the environment (`dangerous`) and what
 * they do (`intent`). The input handler resolves keys through it and, for a key that applies but
 * cannot act, says why instead of doing nothing; the footer lists the bindings that work right now, and
 * the `?` overlay prints all of them: one source, so what the screen says and what the keys do cannot
 * drift apart.
 */
import type { Action, AppState } from './state/types.js';
import type { Intent } from './intent.js';
import { keyLabel, keyNamesOf, type KeyPress } from './keys.js';

export type { Intent };

export { keyLabel, keyNamesOf, type KeyName, type KeyPress, type KeySpec } from './keys.js';

export type { ActionId, BuiltinActionId, ExtraAction, ExtraActionId, KeyBinding, KeyContext, PanelId } from './keybinding-types.js';
import type { ExtraAction, KeyBinding, KeyContext } from './keybinding-types.js';

const noDialog = (c: KeyContext): boolean => c.dialog === null;
/** Keys of the panels (backups, history, events), which only the main view shows. */
const onPanels = (c: KeyContext): boolean => c.dialog === null && c.view === 'main';
const whileRunning = (c: KeyContext): string | null => (c.running ? 'a rollback is already running; wait for its result' : null);
/**
 * Rollback keys: refused while a rollback runs. On a fleet they roll every host back to one target (the
 * fleet's preview, grid and per-host result); a targeted pick is the fleet's explicit target.
 */
const rollbackRefusal = whileRunning;
const dispatch =
  (action: Action) =>
  (): Intent => ({ kind: 'dispatch', action });
const openRollback =
  (rollback: 'standard' | 'emergency', dryRun: boolean) =>
  (): Intent => ({ kind: 'openRollback', rollback, dryRun });

export const KEYBINDINGS: readonly KeyBinding[] = [
  {
    id: 'rollback.standard',
    keys: ['r'],
    label: 'rollback',
    description: 'Standard rollback: newest older backup not marked bad',
    dangerous: true,
    where: 'global',
    footer: true,
    when: noDialog,
    disabledReason: rollbackRefusal,
    intent: openRollback('standard', false),
  },
  {
    id: 'rollback.emergency',
    keys: ['e'],
    label: 'emergency',
    description: 'Emergency rollback: no pre-validation, no verification',
    dangerous: true,
    where: 'global',
    footer: true,
    when: noDialog,
    disabledReason: rollbackRefusal,
    intent: openRollback('emergency', false),
  },
  {
    id: 'history.open',
    keys: ['enter'],
    label: 'open',
    description: 'Open the selected entry and its incident report',
    dangerous: false,
    where: 'history',
    footer: true,
    when: (c) => onPanels(c) && c.focus === 'history',
    disabledReason: (c) => (c.hasSelection ? null : 'the history is empty'),
    intent: (s) => ({ kind: 'openHistory', index: s.selection.history }),
  },
  {
    id: 'rollback.targeted',
    keys: ['enter', 't'],
    label: 'target',
    description: 'Targeted rollback to the selected backup',
    dangerous: true,
    where: 'backups',
    footer: true,
    when: (c) => onPanels(c) && c.focus === 'backups',
    disabledReason: (c) => rollbackRefusal(c) ?? (c.hasSelection ? null : 'there is no backup to roll back to'),
    intent: (s) => {
      const b = s.backups[s.selection.backups];
      return b ? { kind: 'openRollback', rollback: 'targeted', dryRun: false, target: b.name } : { kind: 'none' };
    },
  },
  {
    id: 'rollback.dryRun',
    keys: ['d'],
    label: 'dry run',
    description: 'Dry run of the default target (changes nothing)',
    dangerous: false,
    where: 'global',
    footer: true,
    when: noDialog,
    disabledReason: rollbackRefusal,
    intent: openRollback('standard', true),
  },
  {
    id: 'automation.cancelPending',
    keys: ['c'],
    label: 'cancel auto',
    description: 'Cancel the pending automatic rollback (grace countdown)',
    dangerous: false,
    where: 'global',
    footer: true,
    when: (c) => c.dialog === null || c.dialog === 'help',
    disabledReason: (c) => (c.pendingAuto ? null : 'no automatic rollback is counting down'),
    intent: () => ({ kind: 'cancelPending' }),
  },
  {
    id: 'automation.toggle',
    keys: ['p'],
    label: 'pause/resume',
    footerLabel: (c) => (c.automation === 'paused' ? 'resume' : 'pause'),
    description: 'Pause or resume automatic rollback (recorded in history)',
    dangerous: false,
    where: 'global',
    footer: true,
    when: noDialog,
    disabledReason: (c) =>
      c.automation === 'disabled'
        ? 'automatic rollback is off for this environment (rollback_policy.enabled)'
        : c.automation === 'unknown'
          ? 'the monitor has not reported yet'
          : null,
    intent: () => ({ kind: 'toggleAutomation' }),
  },
  {
    id: 'focus.next',
    keys: ['tab'],
    label: 'panel',
    description: 'Move focus to the next panel',
    dangerous: false,
    where: 'global',
    footer: true,
    helpPair: { keys: 'Tab/S-Tab', description: 'Move focus to the next / previous panel' },
    when: onPanels,
    intent: dispatch({ type: 'focus/next' }),
  },
  {
    id: 'focus.prev',
    keys: ['shift-tab'],
    label: 'previous panel',
    description: 'Move focus to the previous panel',
    dangerous: false,
    where: 'global',
    footer: false,
    when: onPanels,
    intent: dispatch({ type: 'focus/prev' }),
  },
  {
    id: 'select.up',
    keys: ['up', 'k'],
    label: 'select',
    description: 'Select the previous row of the focused panel',
    dangerous: false,
    where: 'panels',
    footer: false,
    helpPair: { keys: '↑↓/jk', description: 'Select the previous / next row of the focused panel' },
    when: onPanels,
    intent: dispatch({ type: 'select/move', delta: -1 }),
  },
  {
    id: 'select.down',
    keys: ['down', 'j'],
    label: 'select',
    footerKeys: '↑↓/jk',
    description: 'Select the next row of the focused panel',
    dangerous: false,
    where: 'panels',
    footer: true,
    when: onPanels,
    intent: dispatch({ type: 'select/move', delta: 1 }),
  },
  {
    id: 'dialog.submit',
    keys: ['enter'],
    label: 'continue',
    description: 'Next step of a dialog (reason, then confirmation)',
    dangerous: false,
    where: 'dialog',
    footer: true,
    when: (c) =>
      c.dialog === 'rollback' &&
      (c.dialogStage === 'preview' || c.dialogStage === 'reason' || (c.dialogStage === 'confirm' && c.typeName === true)),
    intent: dispatch({ type: 'dialog/submit' }),
  },
  {
    id: 'dialog.yes',
    keys: ['y'],
    label: 'yes, roll back',
    description: 'Confirm a rollback (environments without type-name)',
    dangerous: true,
    where: 'dialog',
    footer: true,
    when: (c) => c.dialog === 'rollback' && c.dialogStage === 'confirm' && c.typeName !== true,
    intent: dispatch({ type: 'dialog/yes' }),
  },
  {
    // Its own binding, not dialog.yes: the footer must say what y does here, and quitting is no rollback.
    id: 'quit.confirm',
    keys: ['y'],
    label: 'quit anyway',
    description: 'Quit while a rollback runs (it stops safely first)',
    dangerous: false,
    where: 'quit',
    footer: true,
    when: (c) => c.dialog === 'quit',
    // The reducer's yes on the quit dialog is "quit anyway".
    intent: dispatch({ type: 'dialog/yes' }),
  },
  {
    id: 'dialog.no',
    keys: ['n'],
    label: 'no',
    description: 'Decline a confirmation (rollback or quit)',
    dangerous: false,
    where: 'dialog',
    footer: true,
    when: (c) => (c.dialog === 'rollback' && c.dialogStage === 'confirm' && c.typeName !== true) || c.dialog === 'quit',
    intent: dispatch({ type: 'dialog/no' }),
  },
  {
    id: 'view.charts',
    keys: ['g'],
    label: 'charts',
    footerLabel: (c) => (c.view === 'charts' ? 'main view' : 'charts'),
    description: 'Charts view: full-size charts (g or Esc: back)',
    dangerous: false,
    where: 'global',
    footer: true,
    when: noDialog,
    intent: dispatch({ type: 'view/charts' }),
  },
  {
    id: 'help.toggle',
    keys: ['?'],
    label: 'help',
    description: 'Show or hide this help',
    dangerous: false,
    where: 'global',
    footer: true,
    when: (c) => c.dialog === null || c.dialog === 'help',
    intent: dispatch({ type: 'dialog/openHelp' }),
  },
  {
    id: 'back',
    keys: ['esc'],
    label: 'back',
    description: 'Close the dialog or banner; nothing runs',
    dangerous: false,
    where: 'global',
    footer: true,
    when: () => true,
    intent: dispatch({ type: 'back' }),
  },
  {
    id: 'quit',
    keys: ['q', 'ctrl-c'],
    label: 'quit',
    description: 'Quit (asks first while a rollback is running)',
    dangerous: false,
    where: 'global',
    footer: true,
    when: (c) => c.dialog === null || c.dialog === 'help' || c.dialog === 'history',
    intent: dispatch({ type: 'quit' }),
  },
];

const extraTables = new WeakMap<readonly ExtraAction[], readonly KeyBinding[]>();

/** The binding of an extra action: applies without a dialog, refused while a rollback runs. */
export function extraBinding(a: ExtraAction): KeyBinding {
  return {
    id: `extra.${a.id}`,
    keys: [...a.keys],
    label: a.label,
    description: a.description,
    dangerous: a.dangerous ?? true,
    where: a.where ?? 'extra',
    footer: true,
    when: noDialog,
    disabledReason: whileRunning,
    intent: () => ({ kind: 'extraAction', id: a.id }),
  };
}

/**
 * Check extra actions against the table: unique ids, at least one key, and no key the table already
 * uses (the built-in bindings win, so a clash would make the action unreachable). Throws on a clash.
 */
export function validateExtraActions(extra: readonly ExtraAction[]): void {
  const taken = new Map<string, string>();
  for (const b of KEYBINDINGS) for (const k of b.keys) taken.set(k, b.id);
  const ids = new Set<string>();
  for (const a of extra) {
    if (ids.has(a.id)) throw new Error(`console: extra action "${a.id}" is defined twice`);
    ids.add(a.id);
    if (a.keys.length === 0) throw new Error(`console: extra action "${a.id}" has no key`);
    for (const k of a.keys) {
      const owner = taken.get(k);
      if (owner) throw new Error(`console: key ${keyLabel(k)} of extra action "${a.id}" is already bound to ${owner}`);
      taken.set(k, `extra.${a.id}`);
    }
  }
}

/** The whole table for a context: the built-in bindings, then the extra actions (same array each time). */
export function bindingsOf(ctx: Pick<KeyContext, 'extra'>): readonly KeyBinding[] {
  const extra = ctx.extra;
  if (!extra || extra.length === 0) return KEYBINDINGS;
  let table = extraTables.get(extra);
  if (!table) {
    table = [...KEYBINDINGS, ...extra.map(extraBinding)];
    extraTables.set(extra, table);
  }
  return table;
}

/** Why a binding cannot act in this context, or null when it can. */
export function disabledReasonOf(b: KeyBinding, ctx: KeyContext): string | null {
  return b.disabledReason?.(ctx) ?? null;
}

/**
 * The binding a key press means here, live or not, with the reason it cannot act (null: it can).
 * Earlier rows win (the table's order is the precedence); null when the key means nothing here.
 */
export function lookupKey(press: KeyPress, ctx: KeyContext): { binding: KeyBinding; disabledReason: string | null } | null {
  const names = keyNamesOf(press);
  if (names.length === 0) return null;
  for (const b of bindingsOf(ctx)) {
    if (b.keys.some((k) => names.includes(k)) && b.when(ctx)) return { binding: b, disabledReason: disabledReasonOf(b, ctx) };
  }
  return null;
}

/** The live binding for a key press, or null (none applies here, or it cannot act now). */
export function resolveKey(press: KeyPress, ctx: KeyContext): KeyBinding | null {
  const hit = lookupKey(press, ctx);
  return hit && hit.disabledReason === null ? hit.binding : null;
}

/** What a key press asks for: the binding's intent, its refusal with the reason, or nothing. */
export function intentOf(press: KeyPress, ctx: KeyContext, state: AppState): Intent {
  const hit = lookupKey(press, ctx);
  if (!hit) return { kind: 'none' };
  const { binding, disabledReason } = hit;
  if (disabledReason !== null) {
    const key = binding.keys.find((k) => keyNamesOf(press).includes(k)) ?? binding.keys[0] ?? '';
    return { kind: 'refused', id: binding.id, text: `${keyLabel(key)}: ${disabledReason}` };
  }
  return binding.intent(state);
}

/** The footer text of a binding in this context. */
export function footerLabel(b: KeyBinding, ctx: KeyContext): string {
  return b.footerLabel ? b.footerLabel(ctx) : b.label;
}

/** Bindings to show in the footer now (they apply and can act), one per action. */
export function footerBindings(ctx: KeyContext): KeyBinding[] {
  return bindingsOf(ctx).filter((b) => b.footer && b.when(ctx) && disabledReasonOf(b, ctx) === null);
}

/** "Enter/t", "↑/k" */
export function keysLabel(b: KeyBinding, forFooter = false): string {
  if (forFooter && b.footerKeys) return b.footerKeys;
  return b.keys.map(keyLabel).join('/');
}
