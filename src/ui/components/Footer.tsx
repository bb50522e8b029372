/**
 * The keys that work now, from the keybinding table; dangerous ones in the dangerous colour. Wraps onto
 * a second line on narrow terminals; when even two lines are too few, the charts view's key and the
 * navigation keys go first, then
 * the others from the end of the table, but never the way out (Esc, q), the help (?) or the keys that
 * answer the question on screen.
 */
import React, { memo } from 'react';
import { Box, Text } from 'ink';
import { footerBindings, footerLabel, keysLabel, type ActionId, type KeyBinding, type KeyContext } from '../keybindings.js';
import { color } from '../theme.js';
import { useTheme } from './ThemeContext.js';

const GAP = 2;

/** A key chip (" r ", inverse) directly followed by its label. */
function itemWidth(b: KeyBinding, ctx: KeyContext): number {
  return keysLabel(b, true).length + 2 + footerLabel(b, ctx).length;
}

/** Never dropped. */
const ESSENTIAL = new Set<ActionId>(['quit', 'help.toggle', 'back', 'automation.cancelPending', 'dialog.submit', 'dialog.yes', 'dialog.no', 'quit.confirm']);
/** Dropped first when space is short, in this order (the ? overlay still lists them). */
const EXPENDABLE: readonly ActionId[] = ['view.charts', 'select.down', 'focus.next'];

function pack(bindings: KeyBinding[], ctx: KeyContext, width: number, maxLines: number): KeyBinding[][] | null {
  const lines: KeyBinding[][] = [[]];
  let used = 0;
  for (const b of bindings) {
    const w = itemWidth(b, ctx);
    const line = lines[lines.length - 1] as KeyBinding[];
    if (line.length > 0 && used + GAP + w > width) {
      if (lines.length >= maxLines) return null;
      lines.push([b]);
      used = w;
    } else {
      line.push(b);
      used += (line.length > 1 ? GAP : 0) + w;
    }
  }
  return lines;
}

/** Pack the live bindings into at most `maxLines` lines of `width` columns. */
export function footerLines(ctx: KeyContext, width: number, maxLines = 2): KeyBinding[][] {
  let bindings = footerBindings(ctx);
  for (;;) {
    const packed = pack(bindings, ctx, width, maxLines);
    if (packed) return packed;
    const expendable = EXPENDABLE.map((id) => bindings.find((b) => b.id === id)).find((b) => b !== undefined);
    const drop = expendable ?? [...bindings].reverse().find((b) => !ESSENTIAL.has(b.id));
    if (!drop) return pack(bindings, ctx, width, Number.MAX_SAFE_INTEGER)?.slice(0, maxLines) ?? [[]];
    bindings = bindings.filter((b) => b !== drop);
  }
}

export function footerHeight(ctx: KeyContext, width: number): number {
  return footerLines(ctx, width).length;
}

/** Same context field by field (keyContextOf builds a new object on every state change). */
function sameFooter(a: { ctx: KeyContext; width: number }, b: { ctx: KeyContext; width: number }): boolean {
  if (a.width !== b.width) return false;
  const keys = new Set([...Object.keys(a.ctx), ...Object.keys(b.ctx)]) as Set<keyof KeyContext>;
  for (const k of keys) if (a.ctx[k] !== b.ctx[k]) return false;
  return true;
}

export const Footer = memo(function Footer({ ctx, width }: { ctx: KeyContext; width: number }): React.JSX.Element {
  const theme = useTheme();
  const lines = footerLines(ctx, width);
  return (
    <Box flexDirection="column" width={width} height={lines.length} overflow="hidden">
      {lines.map((line, n) => (
        <Text key={n} wrap="truncate">
          {line.map((b, i) => (
            <Text key={b.id}>
              {i > 0 ? ' '.repeat(GAP) : ''}
              <Text bold inverse color={b.dangerous ? color(theme, 'dangerous') : color(theme, 'accent')}>
                {` ${keysLabel(b, true)} `}
              </Text>
              <Text color={b.dangerous ? color(theme, 'dangerous') : undefined}>{footerLabel(b, ctx)}</Text>
            </Text>
          ))}
        </Text>
      ))}
    </Box>
  );
}, sameFooter);
