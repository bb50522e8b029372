/** Small time formatting helpers for messages. */

/** "4 min ago", "12 s ago", "3 h ago", "2 d ago". */
export function formatAgo(thenMs: number, now = Date.now()): string {
  if (!Number.isFinite(thenMs)) return 'at an unknown time';
  const s = Math.max(0, Math.round((now - thenMs) / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} d ago`;
}

/** "10:02:11Z" from an ISO time. */
export function clock(iso: string): string {
  return iso.replace(/^.*T/, '').replace(/\.\d+Z$/, 'Z');
}
