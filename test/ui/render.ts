/**
 * ink-testing-library with a chosen terminal size: its fake stdout reports 100 columns, so for frames at
 * 80x24 and 140x40 the columns are set on the instance and the tree rendered again.
 */
import React from 'react';
import { render } from 'ink-testing-library';
import { Screen } from '../../src/ui/components/Screen.js';
import { ThemeProvider } from '../../src/ui/components/ThemeContext.js';
import { MONOCHROME_THEME } from '../../src/ui/theme.js';
import type { AppState } from '../../src/ui/state/types.js';

export type Rendered = ReturnType<typeof render>;

export function renderAt(tree: React.ReactElement, columns: number, rows: number): Rendered {
  const r = render(tree);
  Object.defineProperty(r.stdout, 'columns', { get: () => columns, configurable: true });
  Object.defineProperty(r.stdout, 'rows', { get: () => rows, configurable: true });
  r.rerender(tree);
  return r;
}

/** The whole screen for `state` in the monochrome theme: plain text, so lines can be measured and matched. */
export function monochromeFrame(state: AppState, width = 80, height = 24): string {
  const tree = React.createElement(ThemeProvider, { theme: MONOCHROME_THEME, children: React.createElement(Screen, { state, width, height }) });
  return renderAt(tree, width, height).lastFrame() ?? '';
}

/**
 * Wait until the last frame satisfies `pred` (ink renders asynchronously after input). The deadline is
 * for a loaded machine: what a frame waits for can be the environment's real executor.
 */
export async function waitForFrame(r: Rendered, pred: (frame: string) => boolean, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const f = r.lastFrame() ?? '';
    if (pred(f)) return f;
    if (Date.now() > deadline) throw new Error(`frame did not match within ${timeoutMs}ms; last frame:\n${f}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
