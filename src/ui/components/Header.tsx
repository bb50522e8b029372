/**
 * Two lines: which environment (prod in the loud colour, inverse), where, what is live and since when,
 * and the clock; then automation (and who owns it, when another process does), monitor phase, lock
 * owner and, when the live release is not the known-good one, the newest known-good backup (if it fits).
 */
import React, { createContext, memo, useContext, useSyncExternalStore } from 'react';
import { Box, Text } from 'ink';
import { describeAutomationOwner } from '../../core/monitor/lease.js';
import type { MonitorState } from '../../core/monitor/types.js';
import type { Backup } from '../../core/stores/types.js';
import type { ClockSource } from '../controller.js';
import type { AppState, AutoBanner, EnvInfo } from '../state/types.js';
import { color } from '../theme.js';
import { age, clockMinutes, displayName, shortName } from '../format.js';
import { useTheme } from './ThemeContext.js';

/** The running console's clock (the controller's); without one the header shows the state's time. */
export const ClockContext = createContext<ClockSource | null>(null);

const noSubscribe = (): (() => void) => () => undefined;

/** hh:mm, re-rendered alone once a minute from the clock source. */
function Clock({ fallback }: { fallback: number }): React.JSX.Element {
  const theme = useTheme();
  const source = useContext(ClockContext);
  const now = useSyncExternalStore(source?.subscribe ?? noSubscribe, source ? source.now : () => fallback);
  return <Text color={color(theme, 'muted')}>{clockMinutes(now)}</Text>;
}

export function monitorPhaseText(
  state: Pick<AppState, 'monitor'> & { banners: Pick<AppState['banners'], 'auto'> },
): { text: string; token: 'ok' | 'warning' | 'breached' | 'collecting' | 'muted' } {
  const m = state.monitor;
  // The grace countdown comes in 'grace' events (the monitor's state still says triggered).
  const auto = state.banners.auto;
  if (auto?.phase === 'grace') return { text: `auto-rollback in ${auto.remainingSeconds ?? '?'}s (c cancels)`, token: 'breached' };
  if (auto?.phase === 'running') return { text: 'ROLLING BACK', token: 'breached' };
  if (!m) return { text: 'monitor starting', token: 'muted' };
  switch (m.phase) {
    case 'starting':
      return { text: 'monitor starting', token: 'muted' };
    case 'baseline': {
      const p = m.baselineProgress;
      if (!p) return { text: 'establishing baseline', token: 'collecting' };
      const unit = p.neededSeconds >= 120 ? 60 : 1;
      const u = unit === 60 ? 'min' : 's';
      const obs = Math.min(p.observedSeconds, p.neededSeconds) / unit;
      const need = p.neededSeconds / unit;
      return { text: `establishing baseline ${fmtShort(obs)}/${fmtShort(need)} ${u}`, token: 'collecting' };
    }
    case 'watching':
      return { text: 'watching', token: 'ok' };
    case 'triggered':
      return { text: 'TRIGGERED', token: 'breached' };
    case 'grace':
      return { text: `auto-rollback in ${m.graceRemainingSeconds ?? '?'}s (c cancels)`, token: 'breached' };
    case 'rolling_back':
      return { text: 'ROLLING BACK', token: 'breached' };
    case 'escalated':
      return { text: 'ESCALATED (needs a human)', token: 'breached' };
    case 'blind':
      return { text: 'BLIND (no data)', token: 'warning' };
    case 'stopped':
      return { text: 'monitor stopped', token: 'muted' };
  }
}

function fmtShort(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** " │ ★good backup_…" for the second line: the full name if it fits in `room` columns, else shorter, else none. */
export function knownGoodNote(backups: readonly Backup[], live: Backup | undefined, room: number): string | null {
  if (live?.knownGood) return null;
  const good = backups.find((b) => b.knownGood && !b.bad);
  if (!good) return null;
  for (const name of [displayName(good.name), shortName(good.name, true)]) {
    const note = ` │ ★good ${name}`;
    if (note.length <= room) return note;
  }
  return null;
}

export interface HeaderProps {
  env: EnvInfo;
  monitor: MonitorState | null;
  backups: Backup[];
  auto: AutoBanner | null;
  lockOwner: string | null;
  /** For the live release's age (the clock has its own source). */
  now: number;
  width: number;
}

export const Header = memo(function Header({ env, monitor, backups, auto, lockOwner, now, width }: HeaderProps): React.JSX.Element {
  const theme = useTheme();
  const live = monitor?.live ?? backups.find((b) => b.current)?.name ?? null;
  const liveBackup = live ? backups.find((b) => b.name === live) : undefined;
  const automation = monitor?.automation ?? (env.automationEnabled ? 'armed' : 'disabled');
  const autoState = automation === 'armed' ? 'ARMED' : automation === 'paused' ? 'PAUSED' : 'DISABLED by policy';
  // Another process owns automation (the monitor lease): say who, so nobody expects this console to act.
  const owner = monitor?.automationOwner && !monitor.automationOwner.self ? monitor.automationOwner : null;
  const autoText = owner ? `automation: ${describeAutomationOwner(owner)} · ${autoState}` : `auto ${autoState}`;
  const autoToken = automation === 'armed' ? 'ok' : automation === 'paused' ? 'warning' : 'muted';
  const phase = monitorPhaseText({ monitor, banners: { auto } });
  const envToken = env.isProd ? 'prod' : 'nonProd';
  // The first line without the clock: the known-good mark says "★good" when "★known-good" does not fit.
  const line1 = ` ${env.isProd ? '▲ ' : ''}${env.name} `.length + ` ${env.host} `.length + '│ live '.length + (live === null ? '(unknown)' : displayName(live)).length;
  const ageText = liveBackup ? ` ${age(liveBackup.createdMs, now)} old` : '';
  const goodMark = line1 + ageText.length + ' ★known-good'.length + (liveBackup?.bad ? 5 : 0) + 6 <= width ? ' ★known-good' : ' ★good';
  // The second line's length so far (🔒 is two columns wide).
  const line2 = autoText.length + 3 + phase.text.length + 3 + (lockOwner ? 3 + lockOwner.length : 'unlocked'.length);
  const good = knownGoodNote(backups, liveBackup, width - line2);
  return (
    <Box flexDirection="column" width={width} height={2} overflow="hidden">
      <Box>
        {/* One text, so a narrow terminal cuts its end rather than every part; the clock keeps its width. */}
        <Box flexGrow={1} flexShrink={1}>
          <Text wrap="truncate">
            <Text bold inverse={env.isProd} color={color(theme, envToken)}>
              {` ${env.isProd ? '▲ ' : ''}${env.name.toUpperCase()} `}
            </Text>
            <Text> {env.host} </Text>
            <Text color={color(theme, 'muted')}>│ live </Text>
            <Text bold>{live === null ? '(unknown)' : displayName(live)}</Text>
            {ageText ? <Text color={color(theme, 'muted')}>{ageText}</Text> : null}
            {liveBackup?.knownGood ? <Text color={color(theme, 'ok')}>{goodMark}</Text> : null}
            {liveBackup?.bad ? <Text color={color(theme, 'breached')}> ✗bad</Text> : null}
          </Text>
        </Box>
        <Box flexShrink={0} marginLeft={1}>
          <Clock fallback={now} />
        </Box>
      </Box>
      <Text wrap="truncate">
        <Text bold color={color(theme, autoToken)}>
          {autoText}
        </Text>
        <Text color={color(theme, 'muted')}> │ </Text>
        <Text bold={phase.token === 'breached'} color={color(theme, phase.token)}>
          {phase.text}
        </Text>
        <Text color={color(theme, 'muted')}> │ </Text>
        {lockOwner ? <Text color={color(theme, 'warning')}>🔒 {lockOwner}</Text> : <Text color={color(theme, 'muted')}>unlocked</Text>}
        {good ? <Text color={color(theme, 'ok')}>{good}</Text> : null}
      </Text>
    </Box>
  );
});
