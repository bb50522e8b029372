/** Asked when quitting while a rollback runs. */
import React from 'react';
import { Box, Text } from 'ink';
import { color } from '../theme.js';
import { useTheme } from './ThemeContext.js';

export function QuitDialog({ width }: { width: number }): React.JSX.Element {
  const theme = useTheme();
  return (
    <Box flexDirection="column" borderStyle="double" borderColor={color(theme, 'dangerous')} width={width} paddingX={1}>
      <Text bold color={color(theme, 'dangerous')}>
        A rollback is running.
      </Text>
      <Text wrap="wrap">Quitting now interrupts it; the journal records where it stopped and the next run reports it.</Text>
      <Text bold>Quit anyway? y = quit, n or Esc = keep watching</Text>
    </Box>
  );
}
