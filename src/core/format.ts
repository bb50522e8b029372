/**
 * Numbers, bytes and durations as people read them, for every surface (command output, monitor lines,
 * the console). One convention each:
 * - numbers: at most three significant digits before the point, no trailing zeros ("151", "12.5", "0.125");
 * - bytes: IEC binary units, 1 KiB = 1024 B ("512 B", "1.5 KiB", "12 MiB");
 * - durations: "850 ms", "1.5 s", "2 min 3 s".
 * `compact` drops the spaces and shortens "min" to "m" for narrow console columns ("1.5KiB", "2m3s");
 * it never changes the units.
 */

export interface NumberFormat {
  /** Appended to the number ("ms", "%"); not to the missing mark. */
  unit?: string;
  /** Shown for null, undefined, NaN and infinities (default "?"). */
  missing?: string;
}

export function formatNumber(n: number | null | undefined, o: NumberFormat = {}): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return o.missing ?? '?';
  const a = Math.abs(n);
  const s = a >= 100 ? n.toFixed(0) : a >= 10 ? n.toFixed(1) : a >= 1 ? n.toFixed(2) : n.toFixed(3);
  const trimmed = s.includes('.') ? s.replace(/\.?0+$/, '') : s;
  return `${trimmed === '-0' ? '0' : trimmed}${o.unit ?? ''}`;
}

const IEC_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

export function formatBytes(n: number, o: { compact?: boolean } = {}): string {
  let v = Math.max(0, n);
  let i = 0;
  while (v >= 1024 && i < IEC_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  // One decimal while it says something (1.5 KiB); whole units from 10 up (12 MiB) and for bytes.
  let text = i === 0 || v >= 10 ? Math.round(v).toFixed(0) : v.toFixed(1);
  // 1023.6 KiB rounds to "1024": say 1 MiB instead.
  if (text === '1024' && i < IEC_UNITS.length - 1) {
    text = '1.0';
    i++;
  }
  return `${text.replace(/\.0$/, '')}${o.compact ? '' : ' '}${IEC_UNITS[i]}`;
}

export interface DurationFormat {
  compact?: boolean;
  /** Shown for null or undefined (default "n/a"). */
  missing?: string;
}

export function formatDuration(ms: number | null | undefined, o: DurationFormat = {}): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return o.missing ?? 'n/a';
  const sp = o.compact ? '' : ' ';
  const d = Math.max(0, ms);
  if (d < 1000) return `${Math.round(d)}${sp}ms`;
  const tenths = Math.round(d / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)}${sp}s`;
  const total = Math.round(d / 1000);
  const m = Math.floor(total / 60);
  const s = total % 60;
  return o.compact ? `${m}m${s}s` : `${m} min ${s} s`;
}

/** A window or interval of a policy: whole minutes as "5m", else seconds ("90s", "1.2s"). */
export function formatWindow(ms: number): string {
  const s = ms / 1000;
  if (s >= 60 && Number.isInteger(s / 60)) return `${s / 60}m`;
  return `${formatNumber(s)}s`;
}

/** How long ago, in the largest whole unit: "45s", "12m", "3h", "2d" (hours up to two days). */
export function formatAge(fromMs: number, now: number): string {
  const s = Math.max(0, Math.round((now - fromMs) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}
