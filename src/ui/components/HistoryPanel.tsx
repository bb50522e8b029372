/** Recent rollbacks and operator actions: time, kind, trigger, from -> to, who, result, duration. */
import React, { memo } from 'react';
import { Text } from 'ink';
import type { HistoryEntry } from '../../core/engine/types.js';
import { color } from '../theme.js';
import { duration, pad, shortName, shortTime } from '../format.js';
import { Panel } from './Panel.js';
import { useTheme } from './ThemeContext.js';
import { windowOf } from './lists.js';

export function resultWord(e: HistoryEntry): { text: string; short: string; token: 'ok' | 'warning' | 'breached' | 'muted' } {
  if (e.kind === 'automation_paused' || e.kind === 'automation_resumed' || e.kind === 'lock_broken' || e.kind === 'escalation') {
    return { text: 'recorded', short: '·', token: 'muted' };
  }
  if (e.success) return { text: '✓ ok', short: '✓', token: 'ok' };
  if (e.verification === 'failed' && e.to) return { text: '! verify fail', short: '!', token: 'warning' };
  return { text: '✗ failed', short: '✗', token: 'breached' };
}

const SHORT_KIND: Record<HistoryEntry['kind'], string> = {
  standard: 'std',
  emergency: 'EMERG',
  targeted: 'target',
  lock_broken: 'lock-brk',
  automation_paused: 'paused',
  automation_resumed: 'resumed',
  escalation: 'escalate',
};

export const HistoryPanel = memo(function HistoryPanel({
  history,
  selected: sel,
  focused,
  width,
  height,
}: {
  history: HistoryEntry[];
  selected: number;
  focused: boolean;
  width: number;
  height: number;
}): React.JSX.Element {
  const theme = useTheme();
  const rows = Math.max(0, height - 3);
  const { start, items } = windowOf(history, sel, rows);
  const wide = width >= 70;
  const narrow = width < 60;
  return (
    <Panel title="History" note={focused ? 'Enter opens' : `${history.length}`} focused={focused} width={width} height={height}>
      {history.length === 0 ? <Text color={color(theme, 'muted')}>  no rollbacks recorded</Text> : null}
      {items.map((e, i) => {
        const selected = start + i === sel;
        const r = resultWord(e);
        const route = e.to || e.from ? `${shortName(e.from, narrow)}->${shortName(e.to, narrow)}` : '';
        return (
          <Text key={e.id} inverse={selected && focused} bold={selected} wrap="truncate">
            {selected ? '›' : ' '} <Text color={color(theme, 'muted')}>{shortTime(e.timestamp)}</Text> {pad(narrow ? SHORT_KIND[e.kind] : e.kind, narrow ? 6 : 10)}{' '}
            <Text color={color(theme, r.token)}>{narrow ? r.short : pad(r.text, 13)}</Text> {wide ? `${pad(e.trigger, 10)} ` : ''}
            {route} {wide ? <Text color={color(theme, 'muted')}>{e.initiated_by.split(' ')[0]} </Text> : null}
            <Text color={color(theme, 'muted')}>{duration(e.duration_ms)}</Text>
          </Text>
        );
      })}
    </Panel>
  );
});
