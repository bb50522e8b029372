/** The navigation slice on its own: focus cycling, selections inside their lists, events counted back from the newest. */
import { describe, expect, it } from 'vitest';
import { clampSelection, followNewEvent, initialNavigation, reduceNavigation, type PanelLengths } from '../../../src/ui/state/slices/navigation.js';

const lengths: PanelLengths = { hosts: 0, backups: 4, history: 2, events: 10 };

describe('navigation slice', () => {
  it('Tab and Shift-Tab cycle through the panels', () => {
    let s = reduceNavigation(initialNavigation, { type: 'focus/next' }, lengths);
    expect(s.focus).toBe('history');
    s = reduceNavigation(reduceNavigation(s, { type: 'focus/next' }, lengths), { type: 'focus/next' }, lengths);
    expect(s.focus).toBe('backups');
    expect(reduceNavigation(s, { type: 'focus/prev' }, lengths).focus).toBe('events');
  });

  it('on a fleet the Hosts panel is in the cycle, before backups; with no hosts it is skipped', () => {
    const fleet = { ...lengths, hosts: 10 };
    expect(reduceNavigation(initialNavigation, { type: 'focus/prev' }, fleet).focus).toBe('hosts');
    const hosts = { ...initialNavigation, focus: 'hosts' as const };
    expect(reduceNavigation(hosts, { type: 'focus/next' }, fleet).focus).toBe('backups');
    const moved = reduceNavigation(reduceNavigation(hosts, { type: 'select/move', delta: 1 }, fleet), { type: 'select/move', delta: 1 }, fleet);
    expect(moved.selection.hosts).toBe(2);
    expect(reduceNavigation(initialNavigation, { type: 'focus/prev' }, lengths).focus).toBe('events');
  });

  it('selection moves inside the focused list and stops at its ends (same state when it cannot move)', () => {
    let s = initialNavigation;
    for (let i = 0; i < 6; i++) s = reduceNavigation(s, { type: 'select/move', delta: 1 }, lengths);
    expect(s.selection.backups).toBe(3);
    const atEnd = reduceNavigation(s, { type: 'select/move', delta: 1 }, lengths);
    expect(atEnd).toBe(s);
    expect(reduceNavigation(initialNavigation, { type: 'select/move', delta: -1 }, lengths)).toBe(initialNavigation);
  });

  it('events count back from the newest: up selects an older line', () => {
    const events = { ...initialNavigation, focus: 'events' as const };
    expect(reduceNavigation(events, { type: 'select/move', delta: -1 }, lengths).selection.events).toBe(1);
    expect(reduceNavigation(events, { type: 'select/move', delta: 1 }, lengths)).toBe(events);
  });

  it('a new event keeps a scrolled-back selection on its line; 0 keeps following the newest', () => {
    expect(followNewEvent(initialNavigation, 11)).toBe(initialNavigation);
    const back = { ...initialNavigation, selection: { hosts: 0, backups: 0, history: 0, events: 3 } };
    expect(followNewEvent(back, 11).selection.events).toBe(4);
    expect(followNewEvent({ ...back, selection: { ...back.selection, events: 9 } }, 10).selection.events).toBe(9);
  });

  it('clamps selections when lists shrink, and changes nothing when they fit', () => {
    const s = { ...initialNavigation, selection: { hosts: 0, backups: 3, history: 1, events: 9 } };
    expect(clampSelection(s, lengths)).toBe(s);
    expect(clampSelection(s, { hosts: 0, backups: 1, history: 0, events: 2 }).selection).toEqual({ hosts: 0, backups: 0, history: 0, events: 1 });
  });
});
