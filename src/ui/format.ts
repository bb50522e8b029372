/**
 * Pure formatting helpers of the console's components: the shared number, byte and duration formats
 * (src/core/format.ts) in their compact console form, plus padding, clocks and status words.
 */
import type { TriggerStatus } from '../core/monitor/types.js';
import { displayName } from '../core/stores/names.js';

export { displayName };
import { formatBytes, formatDuration, formatNumber } from '../core/format.js';

export { formatAge as age } from '../core/format.js';

/** A metric value with its unit; "-" when there is none. */
export function num(n: number | null | undefined, unit = ''): string {
  return formatNumber(n, { unit, missing: '-' });
}

/** "850ms", "1.5s", "2m3s"; "-" when unknown. */
export function duration(ms: number | null | undefined): string {
  return formatDuration(ms, { compact: true, missing: '-' });
}

/** "512B", "1.5KiB", "12MiB" (IEC units, as on the command line); empty when unknown. */
export function bytes(n: number | null): string {
  return n === null ? '' : formatBytes(n, { compact: true });
}

/** "14:03": the header's clock (a frame a minute at rest, not a second). */
export function clockMinutes(ms: number): string {
  return clock(ms).slice(0, 5);
}

/** "14:03:07" in local time. */
export function clock(ms: number): string {
  const d = new Date(ms);
  const p = (x: number): string => String(x).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** "11-24 14:03" */
export function shortTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso.slice(0, 16);
  const p = (x: number): string => String(x).padStart(2, '0');
  return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** State words and symbols, so status reads without colour. */
export const STATUS_WORD: Record<TriggerStatus, string> = {
  ok: '✓ ok',
  warning: '! warning',
  breached: '✗ BREACHED',
  inconclusive: '? inconclusive',
  collecting: '… collecting',
  disabled: '- disabled',
};

export function pad(s: string, width: number): string {
  if (width <= 0) return '';
  if (s.length > width) return width <= 1 ? s.slice(0, width) : `${s.slice(0, width - 1)}…`;
  return s + ' '.repeat(width - s.length);
}

export function padStart(s: string, width: number): string {
  if (s.length >= width) return s.slice(0, width);
  return ' '.repeat(width - s.length) + s;
}

export function truncate(s: string, width: number): string {
  return s.length <= width ? s : width <= 1 ? s.slice(0, width) : `${s.slice(0, width - 1)}…`;
}

/** Backup names without the common "backup_" prefix, for narrow panels. */
/** A release name as the console shows it: escaped when it holds unsafe characters, shortened when narrow. */
export function shortName(name: string | null, narrow: boolean): string {
  if (name === null) return '?';
  const shown = displayName(name);
  return narrow && shown.startsWith('backup_') ? shown.slice(7) : shown;
}
