/**
 * The navigation slice: which view is shown (the main view or the charts view), which panel has the
 * focus and the selected row of each. Selections stay inside
 * their lists as the lists change; the events selection counts back from the newest line (0 follows the
 * newest, drawn at the bottom), so a line scrolled back to stays selected while new events arrive.
 */
import type { PanelId } from '../../keybindings.js';

/** In focus order; `hosts` (a fleet's Hosts panel) is skipped while it has no rows. */
export const PANELS: readonly PanelId[] = ['hosts', 'backups', 'history', 'events'];

/** The main view (charts as rows, triggers, lists, events) or the charts view (full-size charts). */
export type ViewId = 'main' | 'charts';

export interface NavigationState {
  view: ViewId;
  focus: PanelId;
  selection: Record<PanelId, number>;
}

export type NavigationAction =
  | { type: 'focus/next' }
  | { type: 'focus/prev' }
  | { type: 'select/move'; delta: number }
  | { type: 'view/charts' }
  | { type: 'view/main' };

/** How many rows each panel has now. */
export type PanelLengths = Record<PanelId, number>;

export const initialNavigation: NavigationState = { view: 'main', focus: 'backups', selection: { hosts: 0, backups: 0, history: 0, events: 0 } };

export function reduceNavigation(s: NavigationState, a: NavigationAction, lengths: PanelLengths): NavigationState {
  switch (a.type) {
    case 'view/charts':
      // g toggles: the same key leads back.
      return { ...s, view: s.view === 'charts' ? 'main' : 'charts' };
    case 'view/main':
      return s.view === 'main' ? s : { ...s, view: 'main' };
    case 'focus/next':
    case 'focus/prev': {
      const panels = lengths.hosts > 0 ? PANELS : PANELS.filter((p) => p !== 'hosts');
      const i = panels.indexOf(s.focus);
      const step = a.type === 'focus/next' ? 1 : panels.length - 1;
      return { ...s, focus: panels[(i + step) % panels.length] ?? 'backups' };
    }
    case 'select/move': {
      const cur = s.selection[s.focus];
      // Events count back from the newest line, which is drawn at the bottom: down (+1) is newer.
      const delta = s.focus === 'events' ? -a.delta : a.delta;
      const next = Math.max(0, Math.min(lengths[s.focus] - 1, cur + delta));
      return next === cur ? s : { ...s, selection: { ...s.selection, [s.focus]: next } };
    }
  }
}

/** Every selection inside its list (after a list was replaced). */
export function clampSelection(s: NavigationState, lengths: PanelLengths): NavigationState {
  let changed = false;
  const selection = { ...s.selection };
  for (const p of PANELS) {
    const clamped = Math.max(0, Math.min(selection[p], lengths[p] - 1));
    if (clamped !== selection[p]) changed = true;
    selection[p] = clamped;
  }
  return changed ? { ...s, selection } : s;
}

/** An event line was appended (the log now has `eventCount` lines): a scrolled-back selection moves with its line. */
export function followNewEvent(s: NavigationState, eventCount: number): NavigationState {
  const sel = s.selection.events;
  if (sel === 0) return s;
  return { ...s, selection: { ...s.selection, events: Math.min(sel + 1, eventCount - 1) } };
}
