/**
 * The console's one keybinding table. The input handler resolves keys through it, the footer lists the
 * bindings that work right now, and the `?` overlay prints all of them: one source, so what the screen
 * says and what the keys do cannot drift apart.
 */

/** A key as ink reports it, reduced to what the table matches on. */
export interface KeyPress {
  input: string;
  key: {
    upArrow?: boolean;
    downArrow?: boolean;
    return?: boolean;
    escape?: boolean;
    tab?: boolean;
    shift?: boolean;
    ctrl?: boolean;
    backspace?: boolean;
    delete?: boolean;
    pageUp?: boolean;
    pageDown?: boolean;
  };
}

export type KeyName = 'up' | 'down' | 'enter' | 'esc' | 'tab' | 'shift-tab' | 'ctrl-c' | 'pageup' | 'pagedown';
/** A printable character ("r", "?") or a named key. */
export type KeySpec = string;

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
  | 'back'
  | 'quit'
  | 'quit.confirm'
  | 'dialog.submit'
  | 'dialog.yes'
  | 'dialog.no';

/** Actions appended to the table at runtime (the demo's "deploy the sick release again"). */
export type ExtraActionId = `extra.${string}`;
export type ActionId = BuiltinActionId | ExtraActionId;

export type PanelId = 'backups' | 'history' | 'events';

/** What the table needs to know to decide whether a binding is live. */
export interface KeyContext {
  focus: PanelId;
  /** The open dialog's type, if any. */
  dialog: 'rollback' | 'help' | 'history' | 'quit' | null;
  /** The rollback dialog's stage (only when dialog === 'rollback'). */
  dialogStage?: 'loading' | 'preview' | 'reason' | 'confirm' | 'blocked' | undefined;
  /** The confirm stage takes a typed name (type-name envs, emergency) instead of y. */
  typeName?: boolean;
  running: boolean;
  /** An automatic rollback is counting down and can be cancelled. */
  pendingAuto: boolean;
  automation: 'armed' | 'paused' | 'disabled' | 'unknown';
  /** Something can be selected in the focused panel. */
  hasSelection: boolean;
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
  when: (c: KeyContext) => boolean;
}

const noDialog = (c: KeyContext): boolean => c.dialog === null;
const canStart = (c: KeyContext): boolean => c.dialog === null && !c.running;

export const KEYBINDINGS: readonly KeyBinding[] = [
  {
    id: 'rollback.standard',
    keys: ['r'],
    label: 'rollback',
    description: 'Standard rollback: newest older backup not marked bad',
    dangerous: true,
    where: 'global',
    footer: true,
    when: canStart,
  },
  {
    id: 'rollback.emergency',
    keys: ['e'],
    label: 'emergency',
    description: 'Emergency rollback: no pre-validation, no verification',
    dangerous: true,
    where: 'global',
    footer: true,
    when: canStart,
  },
  {
    id: 'history.open',
    keys: ['enter'],
    label: 'open',
    description: 'Open the selected entry and its incident report',
    dangerous: false,
    where: 'history',
    footer: true,
    when: (c) => noDialog(c) && c.focus === 'history' && c.hasSelection,
  },
  {
    id: 'rollback.targeted',
    keys: ['enter', 't'],
    label: 'target',
    description: 'Targeted rollback to the selected backup',
    dangerous: true,
    where: 'backups',
    footer: true,
    when: (c) => canStart(c) && c.focus === 'backups' && c.hasSelection,
  },
  {
    id: 'rollback.dryRun',
    keys: ['d'],
    label: 'dry run',
    description: 'Dry run of the default target (changes nothing)',
    dangerous: false,
    where: 'global',
    footer: true,
    when: canStart,
  },
  {
    id: 'automation.cancelPending',
    keys: ['c'],
    label: 'cancel auto',
    description: 'Cancel the pending automatic rollback (grace countdown)',
    dangerous: false,
    where: 'global',
    footer: true,
    when: (c) => c.pendingAuto && (c.dialog === null || c.dialog === 'help'),
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
    when: (c) => noDialog(c) && c.automation !== 'disabled' && c.automation !== 'unknown',
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
    when: noDialog,
  },
  {
    id: 'focus.prev',
    keys: ['shift-tab'],
    label: 'previous panel',
    description: 'Move focus to the previous panel',
    dangerous: false,
    where: 'global',
    footer: false,
    when: noDialog,
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
    when: noDialog,
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
    when: noDialog,
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
  },
];

const extraTables = new WeakMap<readonly ExtraAction[], readonly KeyBinding[]>();

/** The binding of an extra action: live when a rollback could start (no dialog, nothing running). */
export function extraBinding(a: ExtraAction): KeyBinding {
  return {
    id: `extra.${a.id}`,
    keys: [...a.keys],
    label: a.label,
    description: a.description,
    dangerous: a.dangerous ?? true,
    where: a.where ?? 'extra',
    footer: true,
    when: canStart,
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

/** The key names a press matches ("r", "enter", "shift-tab" ...). */
export function keyNamesOf(press: KeyPress): KeySpec[] {
  const { input, key } = press;
  const names: KeySpec[] = [];
  if (key.ctrl && input === 'c') names.push('ctrl-c');
  else if (key.tab && key.shift) names.push('shift-tab');
  else if (key.tab) names.push('tab');
  else if (key.return) names.push('enter');
  else if (key.escape) names.push('esc');
  else if (key.upArrow) names.push('up');
  else if (key.downArrow) names.push('down');
  else if (key.pageUp) names.push('pageup');
  else if (key.pageDown) names.push('pagedown');
  else if (!key.ctrl && input.length === 1) names.push(input);
  return names;
}

/** The live binding for a key press, or null. Earlier rows win (the table's order is the precedence). */
export function resolveKey(press: KeyPress, ctx: KeyContext): KeyBinding | null {
  const names = keyNamesOf(press);
  if (names.length === 0) return null;
  for (const b of bindingsOf(ctx)) {
    if (b.keys.some((k) => names.includes(k)) && b.when(ctx)) return b;
  }
  return null;
}

/** The footer text of a binding in this context. */
export function footerLabel(b: KeyBinding, ctx: KeyContext): string {
  return b.footerLabel ? b.footerLabel(ctx) : b.label;
}

/** Bindings to show in the footer now, one per action. */
export function footerBindings(ctx: KeyContext): KeyBinding[] {
  return bindingsOf(ctx).filter((b) => b.footer && b.when(ctx));
}

const KEY_LABELS: Record<string, string> = {
  enter: 'Enter',
  esc: 'Esc',
  tab: 'Tab',
  'shift-tab': 'S-Tab',
  'ctrl-c': '^C',
  up: '↑',
  down: '↓',
  pageup: 'PgUp',
  pagedown: 'PgDn',
};

export function keyLabel(k: KeySpec): string {
  return KEY_LABELS[k] ?? k;
}

/** "Enter/t", "↑/k" */
export function keysLabel(b: KeyBinding, forFooter = false): string {
  if (forFooter && b.footerKeys) return b.footerKeys;
  return b.keys.map(keyLabel).join('/');
}
