/** The log of monitor and engine events, newest at the bottom. */
import React, { memo } from 'react';
import { Text } from 'ink';
import type { LogLevel, LogLine } from '../state/types.js';
import { color, type ColorToken } from '../theme.js';
import { clock } from '../format.js';
import { Panel } from './Panel.js';
import { useTheme } from './ThemeContext.js';

const LEVEL: Record<LogLevel, { sym: string; token: ColorToken }> = {
  info: { sym: '·', token: 'muted' },
  success: { sym: '✓', token: 'ok' },
  warning: { sym: '!', token: 'warning' },
  error: { sym: '✗', token: 'breached' },
};

export const EventsPanel = memo(function EventsPanel({
  events,
  selected,
  focused,
  width,
  height,
}: {
  events: LogLine[];
  selected: number;
  focused: boolean;
  width: number;
  height: number;
}): React.JSX.Element {
  const theme = useTheme();
  const rows = Math.max(0, height - 3);
  // Focused, the selection scrolls back from the newest line (selection 0 = newest).
  const back = focused ? Math.max(0, events.length - 1 - selected) : 0;
  const end = events.length - (focused ? Math.min(back, Math.max(0, events.length - rows)) : 0);
  const shown = events.slice(Math.max(0, end - rows), end);
  return (
    <Panel title="Events" note={`${events.length}`} focused={focused} width={width} height={height}>
      {shown.length === 0 ? <Text color={color(theme, 'muted')}>  nothing yet</Text> : null}
      {shown.map((l, i) => (
        <Text key={`${l.at}-${i}`} wrap="truncate">
          <Text color={color(theme, 'muted')}> {clock(l.at)} </Text>
          <Text color={color(theme, LEVEL[l.level].token)}>{LEVEL[l.level].sym} </Text>
          <Text color={l.level === 'info' ? undefined : color(theme, LEVEL[l.level].token)}>
            {l.source === 'console' ? '' : `${l.source}: `}
            {l.text}
          </Text>
        </Text>
      ))}
    </Panel>
  );
});
