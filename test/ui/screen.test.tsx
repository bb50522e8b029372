import React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { Screen, computeLayout } from '../../src/ui/components/Screen.js';
import { ThemeProvider } from '../../src/ui/components/ThemeContext.js';
import { DEFAULT_THEME, MONOCHROME_THEME, type Theme } from '../../src/ui/theme.js';
import { reducer } from '../../src/ui/state/reducer.js';
import type { AppState } from '../../src/ui/state/types.js';
import { NOW, dashboardState, monitorState, trigger } from './fixtures.js';
import { renderAt } from './render.js';

afterEach(() => cleanup());

function frame(width: number, height: number, state: AppState = dashboardState(), theme: Theme = DEFAULT_THEME): string {
  const tree = (
    <ThemeProvider theme={theme}>
      <Screen state={state} width={width} height={height} />
    </ThemeProvider>
  );
  return renderAt(tree, width, height).lastFrame() ?? '';
}

const BRAILLE = /[\u2801-\u28ff]/;
const ESC = String.fromCharCode(27);
const stripAnsi = (s: string): string => s.split(ESC).map((part, i) => (i === 0 ? part : part.replace(/^\[[0-9;]*m/, ''))).join('');

describe.each([
  [80, 24],
  [140, 40],
])('dashboard at %ix%i', (width, height) => {
  const f = frame(width, height);
  const lines = f.split('\n');

  it('fits the terminal', () => {
    expect(lines.length).toBeLessThanOrEqual(height);
    for (const l of lines) expect([...stripAnsi(l)].length).toBeLessThanOrEqual(width);
  });

  it('has the header: environment, host, live release, automation, monitor state, clock', () => {
    expect(f).toContain('PROD');
    expect(f).toContain('deploy@app-1:22');
    expect(f).toMatch(/live backup_20261124_110000/);
    expect(f).toContain('auto ARMED');
    expect(f).toContain('watching');
    // The clock at minute granularity: hh:mm at the end of the first line, no seconds.
    expect(stripAnsi(lines[0] ?? '').trimEnd()).toMatch(/ \d\d:\d\d$/);
  });

  it('has the charts with their labels', () => {
    expect(f).toContain('health');
    expect(f).toContain('p95 latency');
    expect(f).toContain('error rate');
    expect(f).toContain('memory');
    // Rows: each line's number carries the block at its height on the row's scale; plots: labelled lines.
    expect(f).toMatch(/base[▁▂▃▄▅▆▇█]100ms|┈ base 100ms/);
    expect(f).toMatch(/thr▇150ms|╍ thr 150ms/);
    expect(f).toMatch(/thr▇90%|╍ thr 90%/);
  });

  it('has one row per trigger with state in words and window fill', () => {
    expect(f).toContain('✓ ok');
    expect(f).toContain('! warning');
    expect(f).toContain('✗ BREACHED');
    expect(f).toContain('12/30 samples');
    expect(f).toContain('health checks');
  });

  it('marks backups: live, known-good, bad', () => {
    expect(f).toContain('●');
    expect(f).toContain('★');
    expect(f).toContain('✗');
    expect(f).toMatch(/20261123_090000/);
  });

  it('lists history and the footer keys from the table', () => {
    expect(f).toContain('History');
    expect(f).toMatch(/r\s+rollback/);
    expect(f).toMatch(/e\s+emergency/);
    expect(f).toMatch(/d\s+dry run/);
    expect(f).toMatch(/\?\s+help/);
    expect(f).toMatch(/q\/\^C\s+quit/);
  });

  it('shows the focused panel with a marker', () => {
    expect(f).toContain('▶ Backups');
  });
});

describe('chart modes', () => {
  it('uses braille charts with labelled lines and time axes on a large terminal', () => {
    const f = frame(140, 40);
    expect(f).toMatch(BRAILLE);
    expect(f).toContain('╍ thr 150ms');
    expect(f).toContain('┈ base 100ms');
    expect(f).toMatch(/└─+/);
    expect(f).toContain('now');
  });

  it('degrades to sparklines at 80x24', () => {
    const f = frame(80, 24);
    expect(f).toMatch(/[▁▂▃▄▅▆▇█]{10}/);
    expect(computeLayout(80, 24, 0, 4).chartMode).toBe('sparkline');
  });

  it('keeps the metric rows at 80x24 with a three-line banner', () => {
    expect(computeLayout(80, 24, 3, 4).chartMode).toBe('sparkline');
  });

  it('degrades to one line of numbers when tiny', () => {
    expect(computeLayout(60, 12, 0, 4).chartMode).toBe('numbers');
    const f = frame(60, 12);
    expect(f).toMatch(/p95 [\d.]+ms\/150ms/);
  });
});

describe('header states', () => {
  it('shows baseline progress, pause and the lock owner', () => {
    let s = dashboardState();
    s = reducer(s, {
      type: 'monitor/state',
      state: monitorState({ phase: 'baseline', automation: 'paused', baselineProgress: { observedSeconds: 180, neededSeconds: 300 } }),
    });
    s = reducer(s, { type: 'lock/owner', owner: 'prod is locked by bob@ops-2' });
    const f = frame(140, 40, s);
    expect(f).toContain('establishing baseline 3/5 min');
    expect(f).toContain('auto PAUSED');
    expect(f).toContain('bob@ops-2');
    expect(f).toContain('Lock held');
  });

  it('during the grace countdown the header counts down from the grace events, not TRIGGERED', () => {
    const t = trigger('memory', { status: 'breached', value: 93, threshold: 90, unit: '%' });
    let s = reducer(dashboardState(), { type: 'monitor/state', state: monitorState({ phase: 'triggered' }) });
    expect(frame(100, 30, s).split('\n')[1]).toContain('TRIGGERED');
    s = reducer(s, { type: 'monitor/events', events: [{ event: { type: 'grace', env: 'prod', trigger: t, remainingSeconds: 5 }, at: NOW }] });
    s = reducer(s, { type: 'monitor/event', event: { type: 'grace', env: 'prod', trigger: t, remainingSeconds: 4 }, at: NOW });
    const header = frame(100, 30, s).split('\n')[1] ?? '';
    expect(header).toContain('auto-rollback in 4s (c cancels)');
    expect(header).not.toContain('TRIGGERED');
    // Cancelled: the banner says so, and the header is back to the monitor's word for it.
    s = reducer(s, { type: 'auto/cancelled' });
    const f = frame(100, 30, s);
    expect(f).toContain('automatic rollback cancelled');
    expect(f.split('\n')[1]).toContain('TRIGGERED');
    expect(f).not.toMatch(/c\s*cancel auto/);
  });

  it('a non-prod environment is not highlighted as prod', () => {
    const f = frame(100, 30, dashboardState({ name: 'staging', isProd: false, confirm: 'yes-no' }));
    expect(f).toContain('STAGING');
    expect(f).not.toContain('▲');
  });
});

describe('banners', () => {
  it('auto-rollback banner explains the trigger and the countdown', () => {
    const t = trigger('error_rate', { status: 'breached', value: 5.2, threshold: 1, baseline: 0.5, explanation: 'error rate 5.2/min > 1/min (baseline 0.5 x 2)' });
    const s = reducer(dashboardState(), { type: 'monitor/event', event: { type: 'grace', env: 'prod', trigger: t, remainingSeconds: 12 }, at: NOW });
    const f = frame(100, 30, s);
    expect(f).toContain('AUTOMATIC ROLLBACK in 12s');
    expect(f).toContain('value 5.2 vs threshold 1 (baseline 0.5)');
    expect(f).toContain('press c to cancel');
    expect(f).toMatch(/c\s*cancel auto/);
  });

  it('blind monitor, unreachable host and interrupted rollback each get a banner', () => {
    let s = dashboardState();
    s = reducer(s, { type: 'monitor/state', state: monitorState({ phase: 'blind', consecutiveInconclusive: 5 }) });
    s = reducer(s, { type: 'banner/unreachable', message: 'app-1: ssh: connect timed out' });
    s = reducer(s, { type: 'banner/interrupted', message: 'interrupted rollback of prod at step switch' });
    const f = frame(140, 40, s);
    expect(f).toContain('Monitor blind');
    expect(f).toContain('Host unreachable');
    expect(f).toContain('Interrupted rollback found');
  });
});

describe('monochrome', () => {
  it('keeps states readable without colour', () => {
    const f = frame(140, 40, dashboardState(), MONOCHROME_THEME);
    expect(f.includes(`${ESC}[3`)).toBe(false);
    expect(f).toContain('✗ BREACHED');
    expect(f).toContain('auto ARMED');
    expect(f).toContain('▶ Backups');
  });
});

describe('unsafe release names', () => {
  it('are shown escaped in the backups panel and the header, never raw (a bidi override cannot disguise a name)', () => {
    const hostile = 'backup_20261124_110000\u202Egpj.exe';
    let s = dashboardState();
    s = reducer(s, { type: 'backups/loaded', backups: s.backups.map((b, i) => (i === 1 ? { ...b, name: hostile, unusable: 'unsafe name' } : b)) });
    const f = frame(140, 40, s);
    expect(f).not.toContain('\u202E');
    expect(f).toContain('\\u202e');
  });
});
