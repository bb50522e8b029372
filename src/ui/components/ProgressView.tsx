/** A running rollback: each step with its state and elapsed time, a spinner, live output, the total. */
import React, { memo } from 'react';
import { Box, Text } from 'ink';
import type { Progress, StepProgress } from '../state/types.js';
import { color, type ColorToken } from '../theme.js';
import { displayName, duration, pad, shortName, truncate } from '../format.js';
import { useTheme } from './ThemeContext.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

const STEP: Record<StepProgress['status'], { sym: string; word: string; token: ColorToken }> = {
  planned: { sym: '·', word: 'waiting', token: 'muted' },
  running: { sym: '', word: 'running', token: 'accent' },
  ok: { sym: '✓', word: 'ok', token: 'ok' },
  failed: { sym: '✗', word: 'FAILED', token: 'breached' },
  skipped: { sym: '–', word: 'skipped', token: 'muted' },
};

/**
 * The title: what runs, the total time and the trigger (always visible), and from -> to: full names
 * when they fit on the line, else without the "backup_" prefix, else on a second line.
 */
export function progressTitle(p: Progress, now: number, width: number): { head: string; meta: string; route: string; rows: 1 | 2 } {
  const inner = width - 4;
  const head = `${p.auto ? 'AUTOMATIC ' : ''}${p.dryRun ? 'dry run' : `${p.kind} rollback`}`;
  const meta = `total ${duration(Math.max(0, now - p.startedAt))} · trigger ${p.trigger}`;
  const full = `${p.from === null ? '(nothing live)' : displayName(p.from)} -> ${p.to === null ? '…' : displayName(p.to)}`;
  const short = `${p.from === null ? '(nothing live)' : shortName(p.from, true)} -> ${p.to === null ? '…' : shortName(p.to, true)}`;
  // "⠋ " + head + " " + route + "  " + meta
  const fixed = 2 + head.length + 1 + 2 + meta.length;
  if (fixed + full.length <= inner) return { head, meta, route: full, rows: 1 };
  if (fixed + short.length <= inner) return { head, meta, route: short, rows: 1 };
  return { head, meta, route: full.length <= inner - 2 ? full : short, rows: 2 };
}

export const ProgressView = memo(function ProgressView({
  progress,
  now,
  width,
  height,
}: {
  progress: Progress;
  now: number;
  width: number;
  height: number;
}): React.JSX.Element {
  const theme = useTheme();
  const p = progress;
  const spin = SPINNER[Math.floor(now / 100) % SPINNER.length] ?? '*';
  const title = progressTitle(p, now, width);
  // Rows inside the border: the title, the steps, then (if there is room) the live output block.
  const inner = Math.max(1, height - 2 - title.rows);
  let outRows = Math.min(p.output.length, 3);
  if (inner - (outRows + 1) < Math.min(p.steps.length, 3)) outRows = 0;
  const stepRows = Math.max(1, inner - (outRows > 0 ? outRows + 1 : 0));
  const running = p.steps.findIndex((s) => s.status === 'running');
  const first = Math.max(0, Math.min(running - Math.floor(stepRows / 2), p.steps.length - stepRows));
  const steps = p.steps.slice(first, first + stepRows);
  return (
    <Box flexDirection="column" borderStyle="double" borderColor={color(theme, 'accent')} width={width} height={height} paddingX={1} overflow="hidden">
      <Text bold wrap="truncate">
        {spin} {title.head}
        {title.rows === 1 ? ` ${title.route}` : ''}
        <Text color={color(theme, 'muted')}>  {title.meta}</Text>
      </Text>
      {title.rows === 2 ? <Text wrap="truncate">{`  ${title.route}`}</Text> : null}
      {steps.length === 0 ? <Text color={color(theme, 'muted')}>starting…</Text> : null}
      {steps.map((s) => {
        const st = STEP[s.status];
        const elapsed = s.status === 'running' && s.startedAt !== null ? Math.max(0, now - s.startedAt) : s.ms;
        return (
          <Text key={s.name} wrap="truncate">
            <Text color={color(theme, st.token)}>{s.status === 'running' ? spin : st.sym} {pad(st.word, 8)}</Text>
            <Text bold={s.status === 'running'}>{pad(s.title, 30)}</Text>
            <Text color={color(theme, 'muted')}>{pad(elapsed === null ? '' : duration(elapsed), 8)}</Text>
            {s.status === 'failed' && s.error ? <Text color={color(theme, 'breached')}>{s.error}</Text> : null}
            {s.status === 'skipped' ? <Text color={color(theme, 'muted')}>{s.skipped ?? s.error ?? ''}</Text> : null}
          </Text>
        );
      })}
      {outRows > 0 ? <Text color={color(theme, 'muted')}>output of {p.current ?? 'the last step'}:</Text> : null}
      {(outRows > 0 ? p.output.slice(-outRows) : []).map((line, i) => (
        <Text key={i} color={color(theme, 'muted')} wrap="truncate">
          {'  │ '}
          {truncate(line, width - 8)}
        </Text>
      ))}
    </Box>
  );
});
