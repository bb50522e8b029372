/** Small, pure formatting helpers shared by the console's components. */
import type { TriggerStatus } from '../core/monitor/types.js';

export function num(n: number | null | undefined, unit = ''): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  let s: string;
  if (Math.abs(n) >= 100) s = n.toFixed(0);
  else if (Math.abs(n) >= 10) s = n.toFixed(1);
  else s = n.toFixed(2);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return `${s}${unit}`;
}

/** "45s", "12m", "3h", "2d" */
export function age(fromMs: number, now: number): string {
  const s = Math.max(0, Math.round((now - fromMs) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms % 60_000) / 1000)}s`;
}

export function bytes(n: number | null): string {
  if (n === null) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? v.toFixed(0) : v.toFixed(1)}${units[i]}`;
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
export function shortName(name: string | null, narrow: boolean): string {
  if (name === null) return '?';
  return narrow && name.startsWith('backup_') ? name.slice(7) : name;
}
