/**
 * Banners above the panels: the result of the last rollback (with what to do next), a pending or running
 * automatic rollback (explanation + grace countdown), and the conditions that need the operator's eye:
 * a held lock, an interrupted rollback in the journal, an unreachable host, a blind monitor.
 */
import React, { memo } from 'react';
import { Box, Text } from 'ink';
import type { RollbackResult } from '../../core/engine/types.js';
import type { AutoBanner, Banners as BannerState } from '../state/types.js';
import { color, type ColorToken } from '../theme.js';
import { duration, num } from '../format.js';
import { useTheme } from './ThemeContext.js';

export function resultAdvice(r: RollbackResult, env: string): { headline: string; next: string; token: ColorToken } {
  const route = `${r.from ?? '(none)'} -> ${r.to}`;
  if (r.dry_run) {
    return r.ok
      ? { headline: `✓ Dry run: the plan ${route} is valid. Nothing was changed.`, next: 'Press r to roll back for real.', token: 'ok' }
      : { headline: `✗ Dry run: the plan is not valid: ${r.error ?? 'see the events'}`, next: 'Nothing was changed.', token: 'breached' };
  }
  if (r.ok) {
    return {
      headline: `✓ Rolled back ${env}: ${route} in ${duration(r.duration_ms)}; verification ${r.verification}.`,
      next: `Next: watch the charts settle; ${r.from ?? 'the old release'} is marked bad.${r.incident_report ? ` Report: ${r.incident_report}` : ''}`,
      token: 'ok',
    };
  }
  if (r.exit_code === 2) {
    return {
      headline: `! Rolled back ${route}, but verification FAILED: ${r.to} is live and not healthy.`,
      next: 'Next: check the service (events pane, logs); roll back further with a known-good backup (Tab to Backups, select, Enter).',
      token: 'warning',
    };
  }
  const failed = r.steps.find((s) => s.status === 'failed');
  return {
    headline: `✗ Rollback FAILED${failed ? ` at ${failed.name}` : ''}: ${r.error ?? failed?.error ?? 'see the events'}`,
    next: 'Next: the header shows what is live, the events pane why it failed; fix the cause, then try again (r) or pick a backup.',
    token: 'breached',
  };
}

function Line({ token, children, bold }: { token: ColorToken; children: React.ReactNode; bold?: boolean }): React.JSX.Element {
  const theme = useTheme();
  return (
    <Text color={color(theme, token)} bold={bold} wrap="truncate">
      {children}
    </Text>
  );
}

/** Two lines: what is happening (with the countdown and the cancel key), then why in numbers. */
export function autoText(a: AutoBanner): [string, string] {
  const t = a.trigger;
  const u = t.unit === '%' || t.unit === 'ms' || t.unit === '/min' ? t.unit : t.unit ? ` ${t.unit}` : '';
  const why = `  ${t.name}: value ${num(t.value, u)} vs threshold ${num(t.threshold, u)} (baseline ${num(t.baseline, u)})${t.explanation ? ` · ${t.explanation}` : ''}`;
  if (a.phase === 'grace') return [`⚠ AUTOMATIC ROLLBACK in ${a.remainingSeconds ?? 0}s: press c to cancel`, why];
  if (a.phase === 'running') return [`⚠ AUTOMATIC ROLLBACK running${a.target ? ` to ${a.target}` : ''}`, why];
  return ['automatic rollback cancelled', why];
}

export function bannerLines(b: BannerState): number {
  let n = 0;
  if (b.auto) n += 2;
  if (b.result) n += 2;
  for (const x of [b.error, b.lock, b.interrupted, b.unreachable, b.blind, b.escalation]) if (x) n += 1;
  return n;
}

export const Banners = memo(function Banners({ banners: b, envName, width }: { banners: BannerState; envName: string; width: number }): React.JSX.Element | null {
  if (bannerLines(b) === 0) return null;
  const advice = b.result ? resultAdvice(b.result.result, envName) : null;
  return (
    <Box flexDirection="column" width={width}>
      {b.auto ? (
        <>
          <Line token={b.auto.phase === 'cancelled' ? 'muted' : 'breached'} bold>
            {autoText(b.auto)[0]}
          </Line>
          <Line token={b.auto.phase === 'cancelled' ? 'muted' : 'breached'}>{autoText(b.auto)[1]}</Line>
        </>
      ) : null}
      {advice && b.result ? (
        <>
          <Line token={advice.token} bold>
            {b.result.auto ? '[auto] ' : ''}
            {advice.headline}
          </Line>
          <Line token="muted">
            {'  '}
            {advice.next} (Esc dismisses)
          </Line>
        </>
      ) : null}
      {b.error ? <Line token="breached">✗ {b.error}</Line> : null}
      {b.lock ? <Line token="warning">🔒 Lock held: {b.lock}. Rollbacks wait until it is released.</Line> : null}
      {b.interrupted ? <Line token="warning">! Interrupted rollback found: {b.interrupted}</Line> : null}
      {b.unreachable ? <Line token="breached">✗ Host unreachable: {b.unreachable}</Line> : null}
      {b.blind ? <Line token="warning">? {b.blind}</Line> : null}
      {b.escalation ? <Line token="breached">✗ Escalated: {b.escalation}</Line> : null}
    </Box>
  );
});
