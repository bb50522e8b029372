/**
 * The fleet's preview inside the rollback dialog: the target and the rollout (order, batch size,
 * max_failures, pause), each selected host's from -> to (or already on the target), the hosts left out,
 * and the batches in order. When the pre-check failed: each host with what is wrong there (a held lock,
 * an unreachable host, a missing target), the fleet-wide problem (drift: pick a target) and that
 * nothing was changed. Sized to the rows it is given: hosts beyond them are counted, never cut silently.
 */
import React, { memo } from 'react';
import { Box, Text } from 'ink';
import type { FleetPreview as Preview } from '../fleet-run.js';
import { rolloutText } from '../state/slices/fleet-run.js';
import { color } from '../theme.js';
import { pad, shortName } from '../format.js';
import { useTheme } from './ThemeContext.js';

/** The drift hint of the console: the operator picks the target; the console never guesses it. */
const DRIFT_HINT = 'pick the target yourself: Tab to Backups, select one, t (the hosts run different releases)';

/** The rows a list of `n` items gets in `rows`: all, or rows-1 and a "… more" line. */
function fitted(n: number, rows: number): { shown: number; more: number } {
  if (n <= rows) return { shown: n, more: 0 };
  const shown = Math.max(0, rows - 1);
  return { shown, more: n - shown };
}

export const FleetPreview = memo(function FleetPreview({ preview, env, width, height }: { preview: Preview; env: string; width: number; height: number }): React.JSX.Element {
  const theme = useTheme();
  const narrow = width < 90;
  const nameW = Math.min(14, Math.max(6, ...preview.hosts.map((h) => h.name.length)));
  const plan = preview.plan;
  if (!plan) {
    const hint = preview.code === 'DRIFT' ? DRIFT_HINT : preview.hint;
    const lead = `✗ Cannot roll back ${env}: nothing was changed${preview.exitCode === 3 ? ' (exit 3: a lock is held)' : ''}`;
    const fixed = 1 + (preview.fleetProblem ? 1 : 0) + (hint ? 1 : 0);
    const { shown, more } = fitted(preview.hosts.length, Math.max(1, height - fixed));
    return (
      <Box flexDirection="column" width={width} height={height} overflow="hidden">
        <Text bold color={color(theme, 'breached')} wrap="truncate">
          {lead}
        </Text>
        {preview.hosts.slice(0, shown).map((h) => (
          <Text key={h.name} wrap="truncate" color={h.problems.length > 0 ? color(theme, 'breached') : undefined}>
            {h.problems.length > 0 ? '  ✗ ' : '  ✓ '}
            {pad(h.name, nameW)} {h.problems.length > 0 ? h.problems.join('; ') : `ready, on ${shortName(h.live, narrow) || '(nothing live)'}`}
          </Text>
        ))}
        {more > 0 ? <Text color={color(theme, 'muted')}>  … {more} more hosts</Text> : null}
        {preview.fleetProblem ? (
          <Text color={color(theme, 'breached')} wrap="truncate">
            ✗ {preview.fleetProblem}
          </Text>
        ) : null}
        {hint ? (
          <Text color={color(theme, 'warning')} wrap="truncate">
            → {hint}
          </Text>
        ) : null}
      </Box>
    );
  }
  const batchOf = new Map<string, number>();
  plan.batches.forEach((names, i) => names.forEach((n) => batchOf.set(n, i + 1)));
  const selected = plan.hosts.filter((h) => h.status !== 'excluded');
  const excluded = plan.hosts.filter((h) => h.status === 'excluded');
  const batchLines = plan.batches.map((b, i) => `batch ${i + 1}: ${b.join(', ')}`);
  // Room: the rollout line and the warnings first, then the hosts, then the batches (one line each when
  // they fit, else all on one line).
  const top = 1 + plan.warnings.length + (excluded.length > 0 ? 1 : 0);
  const hostRoom = Math.max(1, height - top - 1);
  const batchRows = hostRoom - selected.length >= batchLines.length ? batchLines.length : 1;
  const { shown, more } = fitted(selected.length, Math.max(1, height - top - batchRows));
  const to = shortName(plan.to, narrow);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text wrap="truncate">
        to <Text bold color={color(theme, 'accent')}>{to}</Text>
        <Text color={color(theme, 'muted')}> · {rolloutText(plan)}</Text>
      </Text>
      {plan.warnings.map((w, i) => (
        <Text key={`w${i}`} color={color(theme, 'warning')} wrap="truncate">
          ! {w}
        </Text>
      ))}
      {selected.slice(0, shown).map((h) => (
        <Text key={h.name} wrap="truncate">
          {'  '}
          {pad(h.name, nameW)}{' '}
          {h.status === 'skipped' ? (
            <Text color={color(theme, 'muted')}>already on {to}: verified again, skipped when healthy</Text>
          ) : (
            <>
              {shortName(h.from, narrow) || '(nothing live)'} -{'>'} <Text bold>{to}</Text>
              <Text color={color(theme, 'muted')}>  batch {batchOf.get(h.name) ?? '?'}</Text>
            </>
          )}
        </Text>
      ))}
      {more > 0 ? <Text color={color(theme, 'muted')}>  … {more} more hosts (rollback-tui rollback --env {plan.env} --dry-run lists all)</Text> : null}
      {excluded.length > 0 ? (
        <Text color={color(theme, 'muted')} wrap="truncate">
          left out: {excluded.map((h) => `${h.name} (on ${shortName(h.from, true) || 'unknown'})`).join(', ')}
        </Text>
      ) : null}
      {batchRows === batchLines.length ? (
        batchLines.map((b) => (
          <Text key={b} color={color(theme, 'muted')} wrap="truncate">
            {b}
          </Text>
        ))
      ) : (
        <Text color={color(theme, 'muted')} wrap="truncate">
          {batchLines.join(' · ')}
        </Text>
      )}
    </Box>
  );
});
