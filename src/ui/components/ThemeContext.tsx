/** The active theme, provided once at the root; components read tokens, never raw colours. */
import React, { createContext, useContext } from 'react';
import { DEFAULT_THEME, type Theme } from '../theme.js';

const ThemeContext = createContext<Theme>(DEFAULT_THEME);

export function ThemeProvider({ theme, children }: { theme: Theme; children: React.ReactNode }): React.JSX.Element {
  return <ThemeContext.Provider value={theme}>{children}</ThemeContext.Provider>;
}

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
