/** Scroll a list so the selected row stays visible in `rows` lines. */
export function windowOf<T>(items: readonly T[], selected: number, rows: number): { start: number; items: T[] } {
  if (rows <= 0) return { start: 0, items: [] };
  const start = Math.max(0, Math.min(selected - Math.floor(rows / 2), items.length - rows));
  return { start, items: items.slice(start, start + rows) };
}
