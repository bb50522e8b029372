/**
 * A fleet rollback started from the console. While it runs: a host x step grid (hosts as rows; stop,
 * switch, start and verify as columns; each cell pending, running, ok, failed or skipped, told apart by
 * its mark without colour), scrolled to keep the hosts at work in view. When it ends: the headline, one
 * line per host (as the command line's summary says it) and, for a stopped rollout on mixed releases,
 * how to go either way. Esc dismisses it. The fleet monitor's automatic rollback looks the same, marked
 * [auto] with its trigger.
 */
import React, { memo } from 'react';
import { Box, Text } from 'ink';
import { GRID_STEPS, fleetRunHeadline, hostResultLines, type FleetHostProgress, type FleetRun, type GridCell } from '../state/slices/fleet-run.js';
import { color, type ColorToken } from '../theme.js';
import { duration, pad, shortName } from '../format.js';
import { useTheme } from './ThemeContext.js';
import { wrappedLines } from './lists.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const CELL: Record<Exclude<GridCell, 'running'>, { mark: string; token: ColorToken }> = {
  pending: { mark: '·', token: 'muted' },
  ok: { mark: '✓', token: 'ok' },
  failed: { mark: '✗', token: 'breached' },
  skipped: { mark: '–', token: 'muted' },
};
const CELL_W = 8;
const ESC_LINE = 'Esc dismisses · the events pane has each failed step and each host result';

function statusOf(h: FleetHostProgress, now: number): { text: string; token: ColorToken } {
  if (h.running) return { text: `running ${duration(Math.max(0, now - (h.startedAt ?? now)))}`, token: 'accent' };
  switch (h.status) {
    case null:
      return { text: h.batch === null ? 'waiting' : `waiting · batch ${h.batch + 1}`, token: 'muted' };
    case 'verified':
    case 'switched':
      return { text: h.status, token: 'ok' };
    case 'skipped':
      return { text: 'already on target', token: 'muted' };
    case 'excluded':
      return { text: 'left out', token: 'muted' };
    case 'untouched':
      return { text: 'untouched', token: 'warning' };
    default:
      return { text: `${h.status.replace('_', ' ').toUpperCase()}${h.error ? `: ${h.error}` : ''}`, token: 'breached' };
  }
}

/** The rows the view wants at `width` (the screen gives it what it can; the grid scrolls). */
export function fleetRunHeight(r: FleetRun, width: number): number {
  if (r.finishedAt === null) return 2 + 1 + (r.note ? 1 : 0) + 1 + r.hosts.length;
  const inner = width - 4;
  const advice = r.outcome?.advice.reduce((n, a) => n + wrappedLines(a, inner), 0) ?? 0;
  const hosts = r.outcome ? hostResultLines(r.outcome).reduce((n, l) => n + wrappedLines(`  ${l}`, inner), 0) : 0;
  return 2 + wrappedLines(fleetRunHeadline(r).text, inner) + hosts + advice + 1;
}

/** The first host row shown: the hosts at work stay in view (a third of the rows above them). */
export function gridStart(hosts: readonly FleetHostProgress[], rows: number): number {
  let anchor = hosts.findIndex((h) => h.running);
  if (anchor < 0) anchor = hosts.findIndex((h) => h.status === null);
  if (anchor < 0) anchor = 0;
  return Math.max(0, Math.min(anchor - Math.floor(rows / 3), hosts.length - rows));
}

function Grid({ run, now, width, rows }: { run: FleetRun; now: number; width: number; rows: number }): React.JSX.Element {
  const theme = useTheme();
  const spin = SPINNER[Math.floor(now / 100) % SPINNER.length] ?? '*';
  const nameW = Math.min(14, Math.max(4, ...run.hosts.map((h) => h.name.length)));
  const shown = Math.max(1, rows);
  const first = gridStart(run.hosts, shown);
  const visible = run.hosts.slice(first, first + shown);
  const arrows = `${first > 0 ? '↑' : ''}${first + visible.length < run.hosts.length ? '↓' : ''}`;
  const scroll = run.hosts.length > shown ? `  ${first + 1}-${first + visible.length}/${run.hosts.length} ${arrows}` : '';
  return (
    <>
      <Text bold wrap="truncate">
        {pad('HOST', nameW)} {GRID_STEPS.map((s) => pad(s, CELL_W)).join('')}STATUS
        <Text color={color(theme, 'muted')}>{scroll}</Text>
      </Text>
      {visible.map((h) => {
        const st = statusOf(h, now);
        return (
          <Text key={h.name} wrap="truncate">
            {pad(h.name, nameW)}{' '}
            {GRID_STEPS.map((s) => {
              const c = h.cells[s];
              const cell = c === 'running' ? { mark: spin, token: 'accent' as const } : CELL[c];
              return (
                <Text key={s} color={color(theme, cell.token)} bold={c === 'running' || c === 'failed'}>
                  {pad(cell.mark, CELL_W)}
                </Text>
              );
            })}
            <Text color={color(theme, st.token)}>{st.text.slice(0, Math.max(0, width - nameW - 1 - CELL_W * GRID_STEPS.length))}</Text>
          </Text>
        );
      })}
    </>
  );
}

function Result({ run, width, rows }: { run: FleetRun; width: number; rows: number }): React.JSX.Element {
  const theme = useTheme();
  const headline = fleetRunHeadline(run);
  const o = run.outcome;
  const advice = o?.advice ?? [];
  const adviceRows = advice.reduce((n, a) => n + wrappedLines(a, width), 0);
  const lines = o ? hostResultLines(o) : [];
  const room = Math.max(1, rows - wrappedLines(headline.text, width) - adviceRows - 1);
  // Each host's line whole (wrapped) when they all fit so; else one row each, and the rest counted.
  const wrapped = lines.reduce((n, l) => n + wrappedLines(`  ${l}`, width), 0) <= room;
  const shown = wrapped || lines.length <= room ? lines : lines.slice(0, Math.max(0, room - 1));
  const token = (i: number): ColorToken => {
    const s = o?.hosts[i]?.status;
    return s === 'verified' || s === 'switched' ? 'ok' : s === 'skipped' || s === 'excluded' || s === 'planned' ? 'muted' : 'breached';
  };
  return (
    <>
      <Text bold wrap="wrap" color={color(theme, headline.level === 'success' ? 'ok' : 'breached')}>
        {headline.text}
      </Text>
      {shown.map((l, i) => (
        <Text key={o?.hosts[i]?.name ?? i} wrap={wrapped ? 'wrap' : 'truncate'} color={color(theme, token(i))}>
          {'  '}
          {l}
        </Text>
      ))}
      {lines.length > shown.length ? <Text color={color(theme, 'muted')}>  … {lines.length - shown.length} more hosts (rollback-tui history)</Text> : null}
      {advice.map((a) => (
        <Text key={a} wrap="wrap" color={color(theme, 'warning')}>
          {a}
        </Text>
      ))}
      <Box flexGrow={1} />
      <Text color={color(theme, 'muted')} wrap="truncate">
        {ESC_LINE}
      </Text>
    </>
  );
}

export const FleetProgress = memo(function FleetProgress({ run, now, width, height }: { run: FleetRun; now: number; width: number; height: number }): React.JSX.Element {
  const theme = useTheme();
  const inner = width - 4;
  const done = run.finishedAt !== null;
  const took = duration(Math.max(0, (run.finishedAt ?? now) - run.startedAt));
  const to = run.to === '' ? 'target being chosen' : shortName(run.to, inner < 90);
  const what = `${run.auto ? `[auto] ${run.auto.trigger}: ` : ''}${run.dryRun ? 'dry run' : `${run.kind} rollback`} of ${run.hosts.filter((h) => h.status !== 'excluded').length} hosts -> ${to}`;
  const ok = done && run.error === null && run.outcome?.ok === true;
  return (
    <Box flexDirection="column" borderStyle="double" borderColor={color(theme, done ? (ok ? 'ok' : 'breached') : 'accent')} width={width} height={height} paddingX={1} overflow="hidden">
      {done ? null : (
        <Text bold wrap="truncate">
          FLEET {what}
          <Text color={color(theme, 'muted')}>
            {'  '}total {took} · {run.rollout}
          </Text>
        </Text>
      )}
      {!done && run.note ? (
        <Text color={color(theme, 'warning')} wrap="truncate">
          {run.note}
        </Text>
      ) : null}
      {done ? <Result run={run} width={inner} rows={height - 2} /> : <Grid run={run} now={now} width={inner} rows={height - 2 - 2 - (run.note ? 1 : 0)} />}
    </Box>
  );
});
