/** Asked when quitting while a rollback runs. Sized from its wrapped text, so the screen can make room. */
import React from 'react';
import { Box, Text } from 'ink';
import { color } from '../theme.js';
import { useTheme } from './ThemeContext.js';
import { wrappedLines } from './lists.js';

const HEADING = 'A rollback is running.';
const BODY = 'Quitting stops it after the current step (the journal records where).';
const FLEET_HEADING = 'A fleet rollback is running.';
const FLEET_BODY = 'Quitting lets each host in flight finish its current step; no new host starts, untouched hosts stay untouched, every lock is released (each journal records where).';
const QUESTION = 'Quit anyway? y = quit, n or Esc = keep watching';

/** Rows of the dialog at `width`: the border and the lines as they wrap inside it. */
export function quitDialogHeight(width: number, fleet = false): number {
  const inner = width - 4;
  return 2 + [fleet ? FLEET_HEADING : HEADING, fleet ? FLEET_BODY : BODY, QUESTION].reduce((n, t) => n + wrappedLines(t, inner), 0);
}

export function QuitDialog({ width, fleet = false }: { width: number; fleet?: boolean }): React.JSX.Element {
  const theme = useTheme();
  return (
    <Box flexDirection="column" borderStyle="double" borderColor={color(theme, 'dangerous')} width={width} height={quitDialogHeight(width, fleet)} paddingX={1} flexShrink={0}>
      <Text bold wrap="wrap" color={color(theme, 'dangerous')}>
        {fleet ? FLEET_HEADING : HEADING}
      </Text>
      <Text wrap="wrap">{fleet ? FLEET_BODY : BODY}</Text>
      <Text bold wrap="wrap">
        {QUESTION}
      </Text>
    </Box>
  );
}
