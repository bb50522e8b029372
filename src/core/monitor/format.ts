/** One readable line per monitor event (the `monitor` subcommand's stderr; the console's log pane). */
import { displayName } from '../stores/names.js';
import type { MonitorEvent, Sample } from './types.js';
import { fmt } from './stats.js';
import { formatDuration } from '../format.js';

function sampleLine(s: Sample): string {
  const parts: string[] = [s.release === null ? 'no live release' : displayName(s.release)];
  if (s.up !== null) parts.push(s.up ? 'up' : `DOWN (${s.health_failures} failed)`);
  if (s.error_rate !== null) parts.push(`errors ${fmt(s.error_rate)}/min`);
  if (s.p95_latency_ms !== null) parts.push(`p95 ${fmt(s.p95_latency_ms)} ms`);
  if (s.memory_usage_percent !== null) parts.push(`mem ${fmt(s.memory_usage_percent)}%`);
  if (s.db_connection_errors !== null) parts.push(`db errors ${fmt(s.db_connection_errors)}`);
  if (s.log_error_lines !== null && s.log_error_lines > 0) parts.push(`log errors ${s.log_error_lines}`);
  for (const [k, v] of Object.entries(s.custom)) if (v !== null) parts.push(`${k} ${fmt(v)}`);
  const errs = Object.entries(s.errors);
  if (errs.length > 0) parts.push(`inconclusive: ${errs.map(([k, v]) => `${k} (${v})`).join(', ')}`);
  return parts.join(', ');
}

function time(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** The line for an event, or null for events not worth a line (state snapshots). */
export function formatEvent(e: MonitorEvent, now: number = Date.now()): string | null {
  const t = time(e.type === 'sample' ? e.sample.at : now);
  switch (e.type) {
    case 'sample':
      return `${t} ${e.env} sample: ${sampleLine(e.sample)}`;
    case 'baseline': {
      const m = e.baseline.metrics;
      return `${t} ${e.env} baseline ${displayName(e.baseline.release)} (${e.baseline.healthy ? 'healthy' : 'UNHEALTHY'}, ${e.baseline.samples} samples): errors ${fmt(m.error_rate)}/min, p50/p95/p99 ${fmt(m.p50_latency_ms)}/${fmt(m.p95_latency_ms)}/${fmt(m.p99_latency_ms)} ms, memory ${fmt(m.memory_usage_percent)}%`;
    }
    case 'trigger':
      return `${t} ${e.env} trigger ${e.trigger.name}: ${e.previous} -> ${e.trigger.status.toUpperCase()}: ${e.trigger.explanation}`;
    case 'alert':
      return `${t} ${e.env} ${e.severity === 'info' ? 'info' : e.severity.toUpperCase()}: ${e.message}`;
    case 'grace':
      return `${t} ${e.env} auto-rollback in ${e.remainingSeconds}s (${e.trigger.name}); cancel to keep the release`;
    case 'rollback':
      return e.phase === 'started'
        ? `${t} ${e.env} ROLLBACK started (attempt ${e.attempt}, trigger ${e.trigger.name}) -> ${e.target === null ? 'default target' : displayName(e.target)}`
        : `${t} ${e.env} ROLLBACK ${e.result.ok ? 'finished' : 'FAILED'} (attempt ${e.attempt}): ${e.result.from === null ? '?' : displayName(e.result.from)} -> ${displayName(e.result.to)}, verification ${e.result.verification}, ${formatDuration(e.result.duration_ms)}${e.result.error ? `: ${e.result.error}` : ''}`;
    case 'escalation':
      return `${t} ${e.env} ESCALATION: ${e.message}`;
    case 'engine':
      if (e.event.type === 'step-end') return `${t} ${e.env}   step ${e.event.step}: ${e.event.status} (${formatDuration(e.event.ms)})${e.event.error ? ` ${e.event.error}` : ''}`;
      if (e.event.type === 'warning') return `${t} ${e.env}   warning: ${e.event.message}`;
      return null;
    case 'stopped':
      return `${t} ${e.env} monitor stopped (${e.reason})`;
    case 'state':
      return null;
  }
}
