/** Fitting lists and text into rows. */

/** Scroll a list so the selected row stays visible in `rows` lines. */
export function windowOf<T>(items: readonly T[], selected: number, rows: number): { start: number; items: T[] } {
  if (rows <= 0) return { start: 0, items: [] };
  const start = Math.max(0, Math.min(selected - Math.floor(rows / 2), items.length - rows));
  return { start, items: items.slice(start, start + rows) };
}

/** Lines `text` takes when word-wrapped to `width` columns (words longer than a line are cut). */
export function wrappedLines(text: string, width: number): number {
  const w = Math.max(1, width);
  let lines = 1;
  let used = 0;
  for (const word of text.split(' ')) {
    const len = word.length;
    if (used > 0 && used + 1 + len <= w) {
      used += 1 + len;
      continue;
    }
    if (used > 0) lines++;
    // A word longer than the line fills whole lines.
    lines += Math.max(0, Math.ceil(len / w) - 1);
    used = len % w === 0 && len > 0 ? w : len % w;
  }
  return lines;
}
