/**
 * The events pane: focusing it selects the newest event (the selection counts back from the newest),
 * the selected line is marked and kept in view, even at 80x24 where the pane has a single row.
 */
import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { Screen } from '../../src/ui/components/Screen.js';
import { EventsPanel } from '../../src/ui/components/EventsPanel.js';
import { ThemeProvider } from '../../src/ui/components/ThemeContext.js';
import { DEFAULT_THEME } from '../../src/ui/theme.js';
import { reducer } from '../../src/ui/state/reducer.js';
import type { Action, AppState, LogLine } from '../../src/ui/state/types.js';
import { NOW, dashboardState } from './fixtures.js';
import { renderAt } from './render.js';

afterEach(() => cleanup());

const line = (text: string): LogLine => ({ at: NOW, level: 'info', source: 'console', text });
const LINES = Array.from({ length: 30 }, (_, i) => line(`event ${String(i).padStart(2, '0')}`));

function draw(tree: React.ReactElement, width: number, height: number): string {
  return renderAt(<ThemeProvider theme={DEFAULT_THEME}>{tree}</ThemeProvider>, width, height).lastFrame() ?? '';
}

const panel = (props: { selected: number; focused: boolean; height: number }): string =>
  draw(<EventsPanel events={LINES} width={80} {...props} />, 80, props.height);

describe('events pane', () => {
  it('unfocused, it follows the newest lines, unmarked', () => {
    const f = panel({ selected: 5, focused: false, height: 6 });
    expect(f).toContain('event 29');
    expect(f).toContain('event 27');
    expect(f).not.toContain('event 26');
    expect(f).not.toContain('›');
  });

  it('focused, selection 0 is the newest line, marked', () => {
    const f = panel({ selected: 0, focused: true, height: 6 });
    expect(f).toMatch(/›\d\d:\d\d:\d\d · event 29/);
    expect(f).toContain('event 27');
  });

  it('a selection scrolled back is kept in view and marked, with how far back it is', () => {
    const f = panel({ selected: 10, focused: true, height: 6 });
    expect(f).toMatch(/›\d\d:\d\d:\d\d · event 19/);
    expect(f).not.toContain('event 29');
    expect(f).toContain('30 · 10 back from the newest');
  });

  it('at 80x24: Shift-Tab to the events pane shows the newest event, k goes back one, j returns', () => {
    let s: AppState = dashboardState();
    for (const l of LINES) s = reducer(s, { type: 'log', line: l });
    const screen = (...actions: Action[]): string => {
      s = actions.reduce(reducer, s);
      return draw(<Screen state={s} width={80} height={24} />, 80, 24);
    };
    let f = screen({ type: 'focus/prev' });
    expect(f).toContain('▶ Events');
    expect(f).toMatch(/›\d\d:\d\d:\d\d · event 29/);
    f = screen({ type: 'select/move', delta: -1 });
    expect(f).toMatch(/›\d\d:\d\d:\d\d · event 28/);
    expect(f).not.toContain('event 29');
    f = screen({ type: 'select/move', delta: 1 });
    expect(f).toMatch(/›\d\d:\d\d:\d\d · event 29/);
  });
});
