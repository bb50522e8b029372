/**
 * A bordered panel. The focused one is drawn with a double border in the focus colour and a "▶" before
 * its title, so focus is visible without colour too.
 */
import React from 'react';
import { Box, Text } from 'ink';
import { color } from '../theme.js';
import { useTheme } from './ThemeContext.js';

export interface PanelProps {
  title: string;
  focused?: boolean;
  width?: number | string;
  height?: number;
  /** Extra text after the title (counts, hints). */
  note?: string;
  children: React.ReactNode;
}

export function Panel({ title, focused = false, width, height, note, children }: PanelProps): React.JSX.Element {
  const theme = useTheme();
  return (
    <Box
      flexDirection="column"
      borderStyle={focused ? 'double' : 'single'}
      borderColor={focused ? color(theme, 'focus') : color(theme, 'border')}
      {...(width !== undefined ? { width } : {})}
      {...(height !== undefined ? { height } : {})}
      paddingX={0}
      overflow="hidden"
    >
      <Box height={1} overflow="hidden">
        <Text bold color={focused ? color(theme, 'focus') : undefined} wrap="truncate">
          {focused ? '▶ ' : '  '}
          {title}
        </Text>
        {note ? (
          <Text color={color(theme, 'muted')} wrap="truncate">
            {'  '}
            {note}
          </Text>
        ) : null}
      </Box>
      {children}
    </Box>
  );
}
