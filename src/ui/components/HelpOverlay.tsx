/**
 * `?`: every binding of the table, where it applies, and which ones change production. One row per
 * binding (pairs such as Tab / Shift-Tab share a row); when the rows do not fit the height, two columns
 * of keys and shortened texts; only on a terminal too small even for that, the rest is counted.
 */
import React from 'react';
import { Box, Text } from 'ink';
import { keysLabel, type ActionId, type KeyBinding } from '../keybindings.js';
import { color } from '../theme.js';
import { pad } from '../format.js';
import { useTheme } from './ThemeContext.js';

export interface HelpRow {
  /** The bindings this row stands for. */
  ids: ActionId[];
  keys: string;
  dangerous: boolean;
  where: string;
  description: string;
}

/** The table as help rows: one per binding, a binding with `helpPair` and the next one sharing a row. */
export function helpRows(bindings: readonly KeyBinding[]): HelpRow[] {
  const rows: HelpRow[] = [];
  for (let i = 0; i < bindings.length; i++) {
    const b = bindings[i] as KeyBinding;
    const next = bindings[i + 1];
    if (b.helpPair && next) {
      rows.push({ ids: [b.id, next.id], keys: b.helpPair.keys, dangerous: b.dangerous || next.dangerous, where: b.where, description: b.helpPair.description });
      i++;
    } else {
      rows.push({ ids: [b.id], keys: keysLabel(b), dangerous: b.dangerous, where: b.where, description: b.description });
    }
  }
  return rows;
}

export interface HelpLayout {
  /** table: one row per line; columns: two rows per line, shorter texts. */
  mode: 'table' | 'columns';
  /** Lines of rows (one or two rows each). */
  lines: HelpRow[][];
  /** Rows left out (only when even two columns do not fit). */
  hidden: number;
}

/** Rows inside the overlay of `height` (border and the title line take 3). */
export function helpLayout(rows: readonly HelpRow[], width: number, height: number): HelpLayout {
  const avail = Math.max(1, height - 3);
  if (rows.length <= avail) return { mode: 'table', lines: rows.map((r) => [r]), hidden: 0 };
  const perLine = width >= 60 ? 2 : 1;
  let shown = rows.slice(0, avail * perLine);
  let hidden = rows.length - shown.length;
  // The last line says how many are left out.
  if (hidden > 0) {
    shown = rows.slice(0, Math.max(0, (avail - 1) * perLine));
    hidden = rows.length - shown.length;
  }
  const half = Math.ceil(shown.length / perLine);
  const lines: HelpRow[][] = [];
  for (let i = 0; i < half; i++) lines.push(perLine === 2 && shown[i + half] ? [shown[i] as HelpRow, shown[i + half] as HelpRow] : [shown[i] as HelpRow]);
  return { mode: perLine === 2 ? 'columns' : 'table', lines, hidden };
}

function HelpCell({ row, keysW, whereW, textW }: { row: HelpRow; keysW: number; whereW: number; textW: number }): React.JSX.Element {
  const theme = useTheme();
  return (
    <>
      <Text bold color={row.dangerous ? color(theme, 'dangerous') : color(theme, 'accent')}>
        {pad(row.keys, keysW)}
      </Text>
      <Text color={row.dangerous ? color(theme, 'dangerous') : undefined}>{row.dangerous ? '⚠ ' : '  '}</Text>
      {whereW > 0 ? <Text color={color(theme, 'muted')}>{pad(row.where, whereW)}</Text> : null}
      <Text>{pad(row.description, textW)}</Text>
    </>
  );
}

/** `bindings`: the whole table of this console (bindingsOf), extra actions included. */
export function HelpOverlay({ bindings, width, height }: { bindings: readonly KeyBinding[]; width: number; height: number }): React.JSX.Element {
  const theme = useTheme();
  const rows = helpRows(bindings);
  const layout = helpLayout(rows, width, height);
  const inner = width - 4;
  const keysW = Math.max(...rows.map((r) => r.keys.length)) + 1;
  const whereW = Math.min(14, Math.max(...rows.map((r) => r.where.length)) + 1);
  const cellW = layout.mode === 'columns' ? Math.floor((inner - 2) / 2) : inner;
  const columns = layout.mode === 'columns';
  return (
    <Box flexDirection="column" borderStyle="double" borderColor={color(theme, 'focus')} width={width} height={height} paddingX={1} overflow="hidden">
      <Text bold wrap="truncate">
        Keys{'  '}
        <Text color={color(theme, 'muted')}>(⚠ = changes the environment; Esc or ? closes)</Text>
      </Text>
      {layout.lines.map((line) => (
        <Text key={line[0]?.ids.join() ?? ''} wrap="truncate">
          {line.map((row, i) => (
            <Text key={row.ids.join()}>
              {i > 0 ? '  ' : ''}
              <HelpCell row={row} keysW={keysW} whereW={columns ? 0 : whereW} textW={Math.max(1, cellW - keysW - 2 - (columns ? 0 : whereW))} />
            </Text>
          ))}
        </Text>
      ))}
      {layout.hidden > 0 ? (
        <Text color={color(theme, 'muted')} wrap="truncate">
          … {layout.hidden} more: a larger terminal shows them
        </Text>
      ) : null}
    </Box>
  );
}
