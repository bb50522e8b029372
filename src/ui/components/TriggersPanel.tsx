/** One row per policy trigger: state in words and colour, value vs threshold vs baseline, window fill. */
import React, { memo } from 'react';
import { Box, Text } from 'ink';
import type { TriggerState, TriggerStatus } from '../../core/monitor/types.js';
import { color, type ColorToken } from '../theme.js';
import { STATUS_WORD, num, pad } from '../format.js';
import { useTheme } from './ThemeContext.js';

export const STATUS_TOKEN: Record<TriggerStatus, ColorToken> = {
  ok: 'ok',
  warning: 'warning',
  breached: 'breached',
  inconclusive: 'inconclusive',
  collecting: 'collecting',
  disabled: 'disabled',
};

const NAMES: Record<string, string> = {
  error_rate: 'error rate',
  latency: 'latency',
  memory: 'memory',
  health_check: 'health checks',
  database: 'database',
  log_errors: 'log errors',
};

function unitOf(t: TriggerState): string {
  if (t.unit === '%' || t.unit === 'ms' || t.unit === '/min') return t.unit;
  return t.unit ? ` ${t.unit}` : '';
}

/** "12/30 samples" while the window fills; once full "45 (need 30)", which does not read as over 100%. */
export function windowFill(t: Pick<TriggerState, 'samplesInWindow' | 'samplesNeeded'>): string {
  return t.samplesInWindow < t.samplesNeeded ? `${t.samplesInWindow}/${t.samplesNeeded} samples` : `${t.samplesInWindow} (need ${t.samplesNeeded})`;
}

export const TriggerRow = memo(function TriggerRow({ t, width }: { t: TriggerState; width: number }): React.JSX.Element {
  const theme = useTheme();
  const u = unitOf(t);
  const wide = width >= 100;
  return (
    <Text wrap="truncate">
      <Text>{'  '}{pad(NAMES[t.name] ?? t.name, 14)}</Text>
      <Text bold={t.status === 'breached'} color={color(theme, STATUS_TOKEN[t.status])}>
        {pad(STATUS_WORD[t.status], 15)}
      </Text>
      <Text>{pad(`${num(t.value, u)}`, 12)}</Text>
      <Text>{pad(num(t.threshold, u), 12)}</Text>
      <Text color={color(theme, 'muted')}>{pad(num(t.baseline, u), 11)}</Text>
      <Text color={color(theme, 'muted')}>{pad(windowFill(t), wide ? 16 : 14)}</Text>
      {wide ? <Text color={color(theme, 'muted')}>{t.explanation}</Text> : null}
    </Text>
  );
});

export const TriggersPanel = memo(function TriggersPanel({
  triggers: all,
  width,
  maxRows,
}: {
  triggers: readonly TriggerState[];
  width: number;
  maxRows: number;
}): React.JSX.Element {
  const theme = useTheme();
  // Triggers the policy does not use are summarised in the title, not given rows.
  const triggers = all.filter((t) => t.status !== 'disabled');
  const disabled = all.length - triggers.length;
  return (
    <Box flexDirection="column" width={width} height={1 + Math.max(1, Math.min(maxRows, triggers.length))} overflow="hidden">
      <Text bold wrap="truncate">
        {'  Triggers'}
        <Text color={color(theme, 'muted')}>
          {'      state          value       threshold   baseline   window'}
          {disabled > 0 ? `      (${disabled} disabled)` : ''}
        </Text>
      </Text>
      {triggers.length === 0 ? (
        <Text color={color(theme, 'muted')}>{'  waiting for the monitor…'}</Text>
      ) : (
        triggers.slice(0, maxRows).map((t) => (
          <TriggerRow key={t.name} t={t} width={width} />
        ))
      )}
    </Box>
  );
});
