/** One history entry in full, with its incident report. */
import React from 'react';
import { Box, Text } from 'ink';
import type { HistoryEntry } from '../../core/engine/types.js';
import { color } from '../theme.js';
import { displayName, duration } from '../format.js';
import { resultWord } from './HistoryPanel.js';
import { useTheme } from './ThemeContext.js';

/** A path in at most `room` columns: whole, else "…/dir/file", else its end. */
export function elidePath(path: string, room: number): string {
  if (path.length <= room) return path;
  const tail = `…/${path.split('/').slice(-2).join('/')}`;
  if (tail.length <= room) return tail;
  return `…${path.slice(path.length - Math.max(0, room - 1))}`;
}

export function HistoryDetail({
  entry,
  report,
  reportError,
  width,
  height,
}: {
  entry: HistoryEntry;
  report: string | null;
  reportError: string | null;
  width: number;
  height: number;
}): React.JSX.Element {
  const theme = useTheme();
  const r = resultWord(entry);
  const head = [
    `${entry.timestamp}  ${entry.kind}  trigger ${entry.trigger}`,
    `${entry.from === null ? '?' : displayName(entry.from)} -> ${entry.to === null ? '?' : displayName(entry.to)}  by ${displayName(entry.initiated_by)}  ${duration(entry.duration_ms)}  verification ${entry.verification}`,
    `reason: ${entry.reason || '(none)'}`,
    ...(entry.explanation ? [`why: ${entry.explanation}`] : []),
    ...(entry.error ? [`error: ${entry.error}`] : []),
    `steps: ${entry.steps.map((s) => `${s.name} ${s.status}`).join(', ') || '(none)'}`,
  ];
  const reportLines = report === null ? [] : report.split('\n');
  const rows = Math.max(0, height - 4 - head.length - 1);
  return (
    <Box flexDirection="column" borderStyle="double" borderColor={color(theme, 'focus')} width={width} height={height} paddingX={1} overflow="hidden">
      <Text bold>
        History entry {entry.id} <Text color={color(theme, r.token)}>{r.text}</Text>
        <Text color={color(theme, 'muted')}>  (Esc closes)</Text>
      </Text>
      {head.map((l, i) => (
        <Text key={i} wrap="truncate">
          {l}
        </Text>
      ))}
      {/* One row, as counted above: a long path loses its middle. */}
      <Text bold wrap="truncate">
        Incident report{entry.incident_report ? ` (${elidePath(entry.incident_report, width - 4 - 'Incident report ():'.length)})` : ''}:
      </Text>
      {reportError ? <Text color={color(theme, 'warning')}>{reportError}</Text> : null}
      {report === null && !reportError ? <Text color={color(theme, 'muted')}>{entry.incident_report ? 'loading…' : 'no incident report for this entry'}</Text> : null}
      {reportLines.slice(0, rows).map((l, i) => (
        <Text key={`r${i}`} wrap="truncate">
          {l}
        </Text>
      ))}
    </Box>
  );
}
