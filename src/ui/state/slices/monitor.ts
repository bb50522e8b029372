/**
 * The monitor slice: the monitor's last reported state, the chart series, and the banners the monitor
 * raises (blind, the automatic-rollback countdown, an escalation). Log lines about monitor events are
 * described here too (`monitorLogLine`); the combining reducer appends them to the events pane, and
 * hands the events about a rollback to the progress slice.
 */
import type { MonitorEvent, MonitorState, Sample, TriggerState } from '../../../core/monitor/types.js';
import { formatNumber } from '../../../core/format.js';
import { SERIES_LIMIT, type AutoBanner, type LogLevel, type SeriesPoint } from '../types.js';
import { appendBounded } from './bounded.js';
import { describeResult, resultLevel } from './progress.js';

export interface MonitorSliceState {
  monitor: MonitorState | null;
  series: SeriesPoint[];
  blind: string | null;
  auto: AutoBanner | null;
  escalation: string | null;
}

/** One monitor event and when the console received it. */
export interface TimedMonitorEvent {
  event: MonitorEvent;
  at: number;
}

export type MonitorAction =
  | { type: 'monitor/state'; state: MonitorState }
  | ({ type: 'monitor/event' } & TimedMonitorEvent)
  /** Several monitor events at once (the controller batches them: one state update per frame). */
  | { type: 'monitor/events'; events: TimedMonitorEvent[] }
  /** The operator cancelled the pending automatic rollback (the monitor confirmed). */
  | { type: 'auto/cancelled' };

export const initialMonitor: MonitorSliceState = { monitor: null, series: [], blind: null, auto: null, escalation: null };

export function pointOf(sample: Sample): SeriesPoint {
  return { at: sample.at, up: sample.up, p95: sample.p95_latency_ms, memory: sample.memory_usage_percent, errorRate: sample.error_rate };
}

function onState(s: MonitorSliceState, m: MonitorState): MonitorSliceState {
  const blind =
    m.phase === 'blind' ? `Monitor blind: ${m.consecutiveInconclusive} samples in a row without an answer. Automatic rollback cannot judge this release.` : null;
  let auto = s.auto;
  if (m.graceRemainingSeconds !== null && auto?.phase === 'grace') auto = { ...auto, remainingSeconds: m.graceRemainingSeconds };
  // The countdown is over once the monitor reports no grace left outside the grace phase: cancelled
  // (it stays 'triggered') or rolling back (the 'rollback started' event replaces the banner).
  if (auto?.phase === 'grace' && m.phase !== 'grace' && m.graceRemainingSeconds === null) auto = null;
  // A cancelled rollback's banner stays while the trigger stays breached.
  if (auto?.phase === 'cancelled' && m.phase !== 'triggered') auto = null;
  return { ...s, monitor: m, blind, auto };
}

/** The slice after one monitor event (events about the engine's steps change nothing here). */
export function onMonitorEvent(s: MonitorSliceState, e: MonitorEvent): MonitorSliceState {
  switch (e.type) {
    case 'sample':
      return { ...s, series: appendBounded(s.series, pointOf(e.sample), SERIES_LIMIT) };
    case 'state':
      return onState(s, e.state);
    case 'grace':
      return { ...s, auto: { trigger: e.trigger, remainingSeconds: e.remainingSeconds, phase: 'grace', target: null } };
    case 'rollback':
      return { ...s, auto: e.phase === 'started' ? { trigger: e.trigger, remainingSeconds: null, phase: 'running', target: e.target } : null };
    case 'escalation':
      return { ...s, escalation: e.message };
    default:
      return s;
  }
}

export function reduceMonitor(s: MonitorSliceState, a: MonitorAction): MonitorSliceState {
  switch (a.type) {
    case 'monitor/state':
      return onState(s, a.state);
    case 'monitor/event':
      return onMonitorEvent(s, a.event);
    case 'monitor/events':
      return a.events.reduce((acc, e) => onMonitorEvent(acc, e.event), s);
    case 'auto/cancelled':
      return s.auto?.phase === 'grace' ? { ...s, auto: { ...s.auto, phase: 'cancelled', remainingSeconds: null } } : s;
  }
}

const TROUBLE = new Set(['warning', 'breached', 'inconclusive']);

function statusLevel(t: TriggerState): LogLevel {
  if (t.status === 'breached') return 'error';
  if (t.status === 'warning' || t.status === 'inconclusive') return 'warning';
  return 'info';
}

/**
 * The events-pane line for a monitor event, or null. `before`: the monitor's state before the event
 * (a baseline it has just established is logged by the monitor itself; only one it loaded is logged here).
 */
export function monitorLogLine(e: MonitorEvent, before: MonitorState | null): { level: LogLevel; text: string } | null {
  switch (e.type) {
    case 'baseline': {
      const b = e.baseline;
      if (before?.baselineProgress && before.live === b.release) return null;
      const m = b.metrics;
      const parts = [
        m.p95_latency_ms !== null ? `p95 ${formatNumber(m.p95_latency_ms)}ms` : null,
        m.error_rate !== null ? `errors ${formatNumber(m.error_rate)}/min` : null,
        m.memory_usage_percent !== null ? `memory ${formatNumber(m.memory_usage_percent)}%` : null,
      ].filter((x): x is string => x !== null);
      return { level: 'info', text: `baseline of ${b.release} loaded (${b.samples} samples): ${parts.join(', ') || 'no metrics'}` };
    }
    case 'trigger':
      // Transitions into or out of trouble; collecting/disabled changes are noise.
      if (!TROUBLE.has(e.trigger.status) && !TROUBLE.has(e.previous)) return null;
      return { level: statusLevel(e.trigger), text: `${e.trigger.name}: ${e.previous} -> ${e.trigger.status}: ${e.trigger.explanation}` };
    case 'alert':
      return { level: e.severity === 'critical' ? 'error' : e.severity === 'warning' ? 'warning' : 'info', text: e.message };
    case 'rollback':
      return e.phase === 'started'
        ? { level: 'error', text: `automatic rollback started (attempt ${e.attempt}): ${e.trigger.explanation}` }
        : { level: resultLevel(e.result), text: `automatic ${describeResult(e.result)}` };
    case 'escalation':
      return { level: 'error', text: e.message };
    case 'stopped':
      return { level: 'info', text: `monitor stopped: ${e.reason}` };
    default:
      return null;
  }
}
