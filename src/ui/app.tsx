/**
 * The console's root component: reads the controller's store, follows the terminal's size, and hands
 * every key press to the controller's input router. It renders; it decides nothing.
 */
import React, { useEffect, useState, useSyncExternalStore } from 'react';
import { useInput, useStdout } from 'ink';
import type { ConsoleController } from './controller.js';
import { Screen } from './components/Screen.js';
import { ClockContext } from './components/Header.js';
import { ThemeProvider } from './components/ThemeContext.js';
import type { Theme } from './theme.js';

export interface Size {
  columns: number;
  rows: number;
}

/** The terminal's size, following 'resize' events. */
export function useTerminalSize(fallback: Size = { columns: 80, rows: 24 }): Size {
  const { stdout } = useStdout();
  const read = (): Size => ({ columns: stdout.columns || fallback.columns, rows: stdout.rows || fallback.rows });
  const [size, setSize] = useState<Size>(read);
  useEffect(() => {
    const onResize = (): void => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return size;
}

export interface AppProps {
  controller: ConsoleController;
  theme: Theme;
  /** Fixed size (tests); otherwise the terminal's. */
  size?: Size;
}

export function App({ controller, theme, size }: AppProps): React.JSX.Element {
  const state = useSyncExternalStore(controller.subscribe, controller.getState);
  const terminal = useTerminalSize();
  const { columns, rows } = size ?? terminal;
  useInput((input, key) => controller.handleKey({ input, key }));
  // One row short of the terminal: a frame that fills the screen makes ink clear and redraw everything
  // on each update (flicker over SSH); one row less keeps updates incremental.
  const height = Math.max(10, rows - 1);
  const width = Math.max(40, columns);
  return (
    <ThemeProvider theme={theme}>
      <ClockContext.Provider value={controller.clock}>
        <Screen state={state} width={width} height={height} />
      </ClockContext.Provider>
    </ThemeProvider>
  );
}
