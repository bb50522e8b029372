/**
 * The log of monitor and engine events, newest at the bottom. Unfocused it follows the newest lines;
 * focused, the selected line (counted back from the newest: 0 = newest) is marked and kept in view.
 */
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
  const back = focused ? Math.max(0, Math.min(selected, events.length - 1)) : 0;
  const selectedIndex = focused && events.length > 0 ? events.length - 1 - back : -1;
  // The newest lines fill the pane until the selection scrolls back past its top row.
  const end = events.length - Math.max(0, back - Math.max(0, rows - 1));
  const start = Math.max(0, end - rows);
  const shown = events.slice(start, end);
  return (
    <Panel title="Events" note={focused && back > 0 ? `${events.length} · ${back} back from the newest` : `${events.length}`} focused={focused} width={width} height={height}>
      {shown.length === 0 ? <Text color={color(theme, 'muted')}>  nothing yet</Text> : null}
      {shown.map((l, i) => {
        const selected = start + i === selectedIndex;
        return (
          <Text key={`${l.at}-${start + i}`} inverse={selected} bold={selected} wrap="truncate">
            {selected ? '›' : ' '}
            <Text color={color(theme, 'muted')}>{clock(l.at)} </Text>
            <Text color={color(theme, LEVEL[l.level].token)}>{LEVEL[l.level].sym} </Text>
            <Text color={l.level === 'info' ? undefined : color(theme, LEVEL[l.level].token)}>
              {l.source === 'console' ? '' : `${l.source}: `}
              {l.text}
            </Text>
          </Text>
        );
      })}
    </Panel>
  );
});
