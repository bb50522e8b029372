/**
 * The Hosts panel of a fleet: one row per host with its live release, health, p95, memory and lock, and
 * a drift mark (≠) on a host that runs another release than most of the fleet. The selected host is the
 * one the charts and triggers show. Scrolls when the fleet has more hosts than rows.
 */
import React, { memo } from 'react';
import { Text } from 'ink';
import type { HostRow } from '../state/slices/fleet.js';
import { color } from '../theme.js';
import { num, pad, shortName } from '../format.js';
import { Panel } from './Panel.js';
import { useTheme } from './ThemeContext.js';
import { windowOf } from './lists.js';

export interface HostsPanelProps {
  hosts: readonly HostRow[];
  selected: number;
  focused: boolean;
  width: number;
  height: number;
}

const HEALTH: Record<HostRow['health'], { text: string; token: 'ok' | 'breached' | 'warning' | 'muted' }> = {
  up: { text: 'up', token: 'ok' },
  down: { text: 'DOWN', token: 'breached' },
  unreachable: { text: 'UNREACH', token: 'warning' },
  unknown: { text: '?', token: 'muted' },
};

export const HostsPanel = memo(function HostsPanel({ hosts, selected: sel, focused, width, height }: HostsPanelProps): React.JSX.Element {
  const theme = useTheme();
  const rows = Math.max(0, height - 3);
  const { start, items } = windowOf(hosts, sel, rows);
  const inner = width - 2;
  const narrow = inner < 90;
  const nameW = Math.min(12, Math.max(6, ...hosts.map((h) => h.name.length)));
  const releaseW = narrow ? 16 : 24;
  const scroll = hosts.length > rows ? ` ${start + 1}-${start + items.length}/${hosts.length}` : '';
  return (
    <Panel title="Hosts" note={`${hosts.length}${scroll} · ≠ drift · ↑↓ charts a host`} focused={focused} width={width} height={height}>
      {items.map((h, i) => {
        const selected = start + i === sel;
        const health = h.breached.length > 0 && h.health === 'up' ? { text: 'SICK', token: 'breached' as const } : HEALTH[h.health];
        const lock = h.lock ? `🔒 ${h.lock}` : '';
        return (
          <Text key={h.name} inverse={selected && focused} bold={selected} wrap="truncate">
            {selected ? '›' : ' '}
            {pad(h.name, nameW)} <Text color={h.drift ? color(theme, 'warning') : undefined}>{h.drift ? '≠' : ' '}</Text>
            {pad(shortName(h.live, narrow) || '(none)', releaseW)} <Text color={color(theme, health.token)}>{pad(health.text, 7)}</Text>
            {pad(`p95 ${num(h.p95, 'ms')}`, 13)}
            {pad(`mem ${num(h.memory, '%')}`, 10)}
            <Text color={color(theme, h.breached.length > 0 ? 'breached' : 'warning')}>{[h.breached.join(','), lock].filter(Boolean).join(' ')}</Text>
          </Text>
        );
      })}
    </Panel>
  );
});
