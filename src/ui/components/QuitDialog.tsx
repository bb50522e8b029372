/** Asked when quitting while a rollback runs. Sized from its wrapped text, so the screen can make room. */
import React from 'react';
import { Box, Text } from 'ink';
import { color } from '../theme.js';
import { useTheme } from './ThemeContext.js';
import { wrappedLines } from './lists.js';

const HEADING = 'A rollback is running.';
const BODY = 'Quitting stops it after the current step (the journal records where).';
const QUESTION = 'Quit anyway? y = quit, n or Esc = keep watching';

/** Rows of the dialog at `width`: the border and the lines as they wrap inside it. */
export function quitDialogHeight(width: number): number {
  const inner = width - 4;
  return 2 + [HEADING, BODY, QUESTION].reduce((n, t) => n + wrappedLines(t, inner), 0);
}

export function QuitDialog({ width }: { width: number }): React.JSX.Element {
  const theme = useTheme();
  return (
    <Box flexDirection="column" borderStyle="double" borderColor={color(theme, 'dangerous')} width={width} height={quitDialogHeight(width)} paddingX={1} flexShrink={0}>
      <Text bold wrap="wrap" color={color(theme, 'dangerous')}>
        {HEADING}
      </Text>
      <Text wrap="wrap">{BODY}</Text>
      <Text bold wrap="wrap">
        {QUESTION}
      </Text>
    </Box>
  );
}
