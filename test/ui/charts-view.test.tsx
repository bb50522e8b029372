/**
 * The charts: the main view's metric rows at 80x24 (also under a banner) and the charts view (`g`) at
 * 80x24, 120x40 and 200x60, in colour and under NO_COLOR (the monochrome theme), as frame text.
 */
import React from 'react';
import { describe, expect, it } from 'vitest';
import { Screen } from '../../src/ui/components/Screen.js';
import { ThemeProvider } from '../../src/ui/components/ThemeContext.js';
import { reducer } from '../../src/ui/state/reducer.js';
import type { AppState } from '../../src/ui/state/types.js';
import { DEFAULT_THEME, MONOCHROME_THEME, type Theme } from '../../src/ui/theme.js';
import { intentOf, type KeyPress } from '../../src/ui/keybindings.js';
import { keyContextOf } from '../../src/ui/state/input.js';
import { HISTORY, NOW, dashboardState, monitorState, sample, trigger } from './fixtures.js';
import { renderAt } from './render.js';

const ESC = String.fromCharCode(27);
const BRAILLE = /[\u2801-\u28ff]/;

function frame(state: AppState, width: number, height: number, theme: Theme = DEFAULT_THEME): string {
  const tree = (
    <ThemeProvider theme={theme}>
      <Screen state={state} width={width} height={height} />
    </ThemeProvider>
  );
  return renderAt(tree, width, height).lastFrame() ?? '';
}

/** The dashboard with a latency breach in the last minute and a rollback a minute ago. */
function incidentState(): AppState {
  let s = dashboardState();
  for (let i = 0; i < 60; i++) {
    s = reducer(s, {
      type: 'monitor/event',
      event: { type: 'sample', env: 'prod', sample: sample(100 + i, { at: NOW + i * 1000, p95_latency_ms: i > 20 && i < 40 ? 240 : 90 }) },
      at: NOW + i * 1000,
    });
  }
  const rolledBack = { ...HISTORY[0]!, id: 'h2', timestamp: new Date(NOW + 40_000).toISOString() };
  s = reducer(s, { type: 'history/loaded', history: [rolledBack, ...HISTORY] });
  return s;
}

const toCharts = (s: AppState): AppState => reducer(s, { type: 'view/charts' });

describe('main view at 80x24', () => {
  it('shows all four metrics with their threshold and baseline blocks', () => {
    const f = frame(dashboardState(), 80, 24, MONOCHROME_THEME);
    for (const label of ['health', 'p95 latency', 'error rate', 'memory']) expect(f).toMatch(new RegExp(`^${label}\\s+\\S`, 'm'));
    expect(f).toMatch(/thr▇150ms base[▁▂▃▄▅▆▇█]100ms/);
    expect(f).toMatch(/thr▇90%/);
    expect(f.split('\n').length).toBeLessThanOrEqual(24);
  });

  it('keeps the four metric rows while the automatic-rollback countdown is on screen', () => {
    const t = trigger('memory', { status: 'breached', value: 93, threshold: 90, unit: '%' });
    let s = reducer(dashboardState(), { type: 'monitor/state', state: monitorState({ phase: 'grace' }) });
    s = reducer(s, { type: 'monitor/event', event: { type: 'grace', env: 'prod', trigger: t, remainingSeconds: 4 }, at: NOW });
    const f = frame(s, 80, 24, MONOCHROME_THEME);
    expect(f).toMatch(/auto-rollback in 4s/);
    for (const label of ['health', 'p95 latency', 'error rate', 'memory']) expect(f).toMatch(new RegExp(`^${label}\\s+\\S`, 'm'));
    expect(f).toMatch(/thr▇150ms/);
    expect(f.split('\n').length).toBeLessThanOrEqual(24);
  });

  it('draws health as distinct up / down cells without colour', () => {
    const f = frame(dashboardState(), 80, 24, MONOCHROME_THEME);
    const row = f.split('\n').find((l) => l.startsWith('health')) ?? '';
    expect(row).toContain('█');
    expect(row).toContain('▁');
    expect(row).not.toContain(ESC);
  });
});

describe.each([
  [80, 24],
  [120, 40],
  [200, 60],
])('charts view at %ix%i', (width, height) => {
  const state = toCharts(incidentState());

  it('fits, with braille charts, y ticks, labelled lines and a time axis', () => {
    const f = frame(state, width, height);
    const lines = f.split('\n');
    expect(lines.length).toBeLessThanOrEqual(height);
    expect(f).toContain('Charts');
    expect(f).toMatch(BRAILLE);
    expect(f).toMatch(/\d+ms┤/);
    expect(f).toContain('thr 150ms');
    expect(f).toMatch(/└[─━▲]+/);
    expect(f).toMatch(/-\d+[sm]\b.*now/);
    for (const label of ['p95 latency', 'error rate', 'memory', 'health']) expect(f).toContain(label);
  });

  it('marks the breach window and the rollback on the time axis, also without colour', () => {
    const f = frame(state, width, height, MONOCHROME_THEME);
    expect(f).not.toContain(ESC);
    const axis = f.split('\n').find((l) => l.includes('└') && l.includes('━')) ?? '';
    expect(axis).toContain('━');
    expect(f).toContain('▲');
  });
});

describe('the g key', () => {
  it('opens the charts view, and g or Esc goes back; panel keys do not act there', () => {
    let s = dashboardState();
    const press = (input: string, key: KeyPress['key'] = {}) => {
      const intent = intentOf({ input, key }, keyContextOf(s), s);
      if (intent.kind === 'dispatch') s = reducer(s, intent.action);
      return intent;
    };
    press('g');
    expect(s.view).toBe('charts');
    expect(frame(s, 80, 24)).toContain('Charts');
    // Tab and the arrows move nothing in the charts view.
    expect(press('', { tab: true }).kind).toBe('none');
    press('g');
    expect(s.view).toBe('main');
    press('g');
    s = reducer(s, { type: 'back' });
    expect(s.view).toBe('main');
    expect(frame(s, 80, 24)).not.toContain('Charts  prod');
  });

  it('is in the footer and the help', () => {
    const f = frame(dashboardState(), 120, 40);
    expect(f).toMatch(/g\s+charts/);
    const help = frame(reducer(dashboardState(), { type: 'dialog/openHelp' }), 120, 40);
    expect(help).toContain('Charts view');
  });
});
