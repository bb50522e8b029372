/** `?`: every binding of the table, where it applies, and which ones change production. */
import React from 'react';
import { Box, Text } from 'ink';
import { keysLabel, type KeyBinding } from '../keybindings.js';
import { color } from '../theme.js';
import { pad } from '../format.js';
import { useTheme } from './ThemeContext.js';

/** `bindings`: the whole table of this console (bindingsOf), extra actions included. */
export function HelpOverlay({ bindings, width, height }: { bindings: readonly KeyBinding[]; width: number; height: number }): React.JSX.Element {
  const theme = useTheme();
  const rows = bindings.slice(0, Math.max(1, height - 4));
  return (
    <Box flexDirection="column" borderStyle="double" borderColor={color(theme, 'focus')} width={width} height={height} paddingX={1}>
      <Text bold>Keys{'  '}<Text color={color(theme, 'muted')}>(⚠ = changes the environment; Esc or ? closes)</Text></Text>
      {rows.map((b) => (
        <Text key={b.id} wrap="truncate">
          <Text bold color={b.dangerous ? color(theme, 'dangerous') : color(theme, 'accent')}>
            {pad(keysLabel(b), 10)}
          </Text>
          <Text color={b.dangerous ? color(theme, 'dangerous') : undefined}>{b.dangerous ? '⚠ ' : '  '}</Text>
          <Text color={color(theme, 'muted')}>{pad(b.where, 14)}</Text>
          <Text>{b.description}</Text>
        </Text>
      ))}
    </Box>
  );
}
