/** Key presses as ink reports them, reduced to the names the keybinding table matches on and shows. */

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
