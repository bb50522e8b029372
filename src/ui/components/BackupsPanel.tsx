/** Backups newest first: live (●), known-good (★) and bad (✗) marked in symbols and words; selectable. */
import React, { memo } from 'react';
import { Text } from 'ink';
import type { Backup } from '../../core/stores/types.js';
import { color } from '../theme.js';
import { age, bytes, pad, shortName } from '../format.js';
import { Panel } from './Panel.js';
import { useTheme } from './ThemeContext.js';
import { windowOf } from './lists.js';

export interface BackupsPanelProps {
  backups: Backup[];
  loaded: boolean;
  selected: number;
  focused: boolean;
  /** For the ages. */
  now: number;
  width: number;
  height: number;
}

export const BackupsPanel = memo(function BackupsPanel({ backups, loaded, selected: sel, focused, now, width, height }: BackupsPanelProps): React.JSX.Element {
  const theme = useTheme();
  const rows = Math.max(0, height - 3);
  const { start, items } = windowOf(backups, sel, rows);
  const inner = width - 2;
  const narrow = inner < 50;
  return (
    <Panel
      title="Backups"
      note={narrow ? '● live ★ good ✗ bad' : `${backups.length} · newest first · ● live ★ known-good ✗ bad`}
      focused={focused}
      width={width}
      height={height}
    >
      {!loaded ? <Text color={color(theme, 'muted')}>  loading…</Text> : null}
      {loaded && backups.length === 0 ? <Text color={color(theme, 'muted')}>  no backups</Text> : null}
      {items.map((b, i) => {
        const selected = start + i === sel;
        const marks = [b.current ? (narrow ? '●' : '● live') : '', b.knownGood ? (narrow ? '★' : '★ good') : '', b.bad ? (narrow ? '✗' : '✗ bad') : '']
          .filter(Boolean)
          .join(narrow ? '' : ' ');
        const token = b.bad ? 'breached' : b.current ? 'accent' : b.knownGood ? 'ok' : undefined;
        const meta = `${age(b.createdMs, now)}${b.sizeBytes !== null ? ` ${bytes(b.sizeBytes)}` : ''}`;
        const markW = narrow ? 3 : 14;
        const nameW = Math.max(8, inner - 2 - markW - 1 - 10);
        return (
          <Text key={b.name} inverse={selected && focused} bold={selected} wrap="truncate">
            {selected ? '›' : ' '} <Text color={token ? color(theme, token) : undefined}>{pad(marks, markW)}</Text> {pad(shortName(b.name, narrow), nameW)}
            <Text color={color(theme, 'muted')}>{meta}</Text>
          </Text>
        );
      })}
    </Panel>
  );
});
