/**
 * Recent rollbacks and operator actions, one row each: time, kind, result, trigger, who, duration, and
 * from -> to last (without the "backup_" prefix; cut first when the panel is narrow: Enter shows all).
 */
import React, { memo } from 'react';
import { Text } from 'ink';
import type { HistoryEntry } from '../../core/engine/types.js';
import { color } from '../theme.js';
import { duration, pad, shortName, shortTime } from '../format.js';
import { Panel } from './Panel.js';
import { useTheme } from './ThemeContext.js';
import { windowOf } from './lists.js';

export function resultWord(e: HistoryEntry): { text: string; brief: string; short: string; token: 'ok' | 'warning' | 'breached' | 'muted' } {
  if (e.kind === 'automation_paused' || e.kind === 'automation_resumed' || e.kind === 'lock_broken' || e.kind === 'escalation') {
    return { text: 'recorded', brief: '· noted', short: '·', token: 'muted' };
  }
  if (e.success) return { text: '✓ ok', brief: '✓ ok', short: '✓', token: 'ok' };
  if (e.verification === 'failed' && e.to) return { text: '! verify fail', brief: '! verify', short: '!', token: 'warning' };
  return { text: '✗ failed', brief: '✗ failed', short: '✗', token: 'breached' };
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

/** Triggers in at most 7 letters, for narrow panels. */
const SHORT_TRIGGER: Record<string, string> = { error_rate: 'errors', health_check: 'health', log_errors: 'logs', database: 'db' };

/** "alice" of "alice@ops-1 from 10.0.0.5". */
function whoOf(e: HistoryEntry): string {
  return e.initiated_by.split(/[@\s]/)[0] || e.initiated_by;
}

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
  const narrow = width < 60;
  // Columns as wide as the rows on screen need (within limits), to leave the route what is left.
  const whoW = Math.min(10, Math.max(0, ...items.map((e) => whoOf(e).length)));
  const triggerW = narrow ? 7 : Math.min(12, Math.max(0, ...items.map((e) => e.trigger.length)));
  return (
    <Panel title="History" note={focused ? 'Enter opens' : `${history.length}`} focused={focused} width={width} height={height}>
      {history.length === 0 ? <Text color={color(theme, 'muted')}>  no rollbacks recorded</Text> : null}
      {items.map((e, i) => {
        const selected = start + i === sel;
        const r = resultWord(e);
        const route = e.to || e.from ? `${shortName(e.from, true)}->${shortName(e.to, true)}` : '';
        const trigger = pad(narrow ? (SHORT_TRIGGER[e.trigger] ?? e.trigger) : e.trigger, triggerW);
        return (
          <Text key={e.id} inverse={selected && focused} bold={selected} wrap="truncate">
            {selected ? '›' : ' '} <Text color={color(theme, 'muted')}>{shortTime(e.timestamp)}</Text> {pad(narrow ? SHORT_KIND[e.kind] : e.kind, narrow ? 6 : 10)}{' '}
            <Text color={color(theme, r.token)}>{narrow ? r.short : pad(r.brief, 9)}</Text> {trigger}{' '}
            <Text color={color(theme, 'muted')}>
              {pad(whoOf(e), whoW)} {pad(duration(e.duration_ms), 6)}
            </Text>
            {route}
          </Text>
        );
      })}
    </Panel>
  );
});
