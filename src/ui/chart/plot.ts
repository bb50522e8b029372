/**
 * A full-size braille chart of one metric over time, for the charts view: y ticks on the left, the
 * threshold and the baseline as labelled horizontal lines, breach windows shaded, a time axis with the
 * moments of rollbacks marked, and "-10m … now" under it. Pure: rows of text segments for ink to print.
 *
 * Readability rules:
 * - The value owns every cell it passes through: a reference line is drawn only in cells the value does
 *   not touch, so the lines never hide the value (and never merge dots with it into one glyph).
 * - Lines differ by pattern as well as colour (threshold dashed, baseline dotted) and are labelled at
 *   the right edge ("thr 120ms", "base 80ms"), so the chart reads under NO_COLOR.
 * - A breach window is shaded (a background colour) and drawn heavy on the time axis (━), which reads
 *   without colour too; a rollback is a ▲ on the axis.
 * - The time span is the data's own (up to `maxSpanMs`), so a console started a minute ago draws a
 *   minute across the whole width instead of a mostly blank ten minutes.
 */
import Context from 'drawille-canvas-blessed-contrib';
import type { ChartToken } from '../theme.js';

export interface PlotPoint {
  at: number;
  value: number | null;
}

export interface PlotMark {
  at: number;
}

export interface PlotSegment {
  text: string;
  token: ChartToken | null;
  /** Part of a breach window: drawn on the breach background. */
  shade?: boolean;
  /** Axis and tick text. */
  muted?: boolean;
}

export interface PlotInput {
  /** Character cells of the whole chart, gutters and axis rows included. */
  cols: number;
  rows: number;
  points: readonly PlotPoint[];
  now: number;
  maxSpanMs: number;
  threshold: number | null;
  baseline: number | null;
  /** Formats a value with its unit ("120ms", "95%"). */
  format: (v: number) => string;
  fixedMax?: number;
  marks?: readonly PlotMark[];
}

export interface Plot {
  rows: PlotSegment[][];
  /** The time span drawn, for the caller's title. */
  spanMs: number;
  /** Columns of the plot area and where it starts, so a health strip can line up under it. */
  area: { left: number; width: number };
}

/** Dots of one pixel row inside a braille cell, left and right column (Unicode braille bit order). */
const ROW_DOTS: readonly (readonly [number, number])[] = [
  [0x01, 0x08],
  [0x02, 0x10],
  [0x04, 0x20],
  [0x40, 0x80],
];

/** "-10m", "-90s", "-2h": how long before now. */
export function agoLabel(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s <= 0) return 'now';
  if (s < 120) return `-${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `-${m}m`;
  return `-${Math.round(m / 60)}h`;
}

/** The span drawn: from the oldest point (or one minute) up to the maximum. */
export function spanOf(points: readonly PlotPoint[], now: number, maxSpanMs: number): number {
  const first = points.find((p) => p.at <= now)?.at ?? now;
  return Math.max(60_000, Math.min(maxSpanMs, now - first));
}

/** The worst (highest) value of each of `n` equal time slices of [now - span, now]; null where none. */
export function bucketMax(points: readonly PlotPoint[], now: number, span: number, n: number): (number | null)[] {
  const out: (number | null)[] = new Array(n).fill(null);
  const start = now - span;
  for (const p of points) {
    if (p.value === null || !Number.isFinite(p.value) || p.at < start || p.at > now) continue;
    const i = Math.min(n - 1, Math.floor(((p.at - start) / span) * n));
    const cur = out[i];
    out[i] = cur === null || cur === undefined ? p.value : Math.max(cur, p.value);
  }
  return out;
}

/** Health per slice: down if any sample was down, up if all were up, null (inconclusive) if only unknowns, undefined if none. */
export function bucketHealth(points: readonly { at: number; up: boolean | null }[], now: number, span: number, n: number): (boolean | null | undefined)[] {
  const out: (boolean | null | undefined)[] = new Array(n).fill(undefined);
  const start = now - span;
  for (const p of points) {
    if (p.at < start || p.at > now) continue;
    const i = Math.min(n - 1, Math.floor(((p.at - start) / span) * n));
    const cur = out[i];
    if (p.up === false || cur === false) out[i] = false;
    else if (p.up === true) out[i] = true;
    else if (cur === undefined) out[i] = null;
  }
  return out;
}

function yPixel(v: number, min: number, max: number, h: number): number {
  const t = Math.max(0, Math.min(1, (v - min) / (max - min || 1)));
  return Math.round((1 - t) * (h - 1));
}

/** The y range: from 0 (or below, for negative values) to a margin above every value and line. */
export function plotRange(values: readonly (number | null)[], lines: readonly (number | null)[], fixedMax?: number): { min: number; max: number } {
  const nums = [...values, ...lines].filter((v): v is number => v !== null && Number.isFinite(v));
  const min = Math.min(0, ...nums);
  const hi = nums.length ? Math.max(...nums) : 1;
  if (fixedMax !== undefined && hi <= fixedMax) return { min, max: fixedMax };
  return { min, max: hi <= min ? min + 1 : hi * 1.15 };
}

function push(row: PlotSegment[], seg: PlotSegment): void {
  const last = row[row.length - 1];
  if (last && last.token === seg.token && Boolean(last.shade) === Boolean(seg.shade) && Boolean(last.muted) === Boolean(seg.muted)) last.text += seg.text;
  else row.push({ ...seg });
}

function padStart(s: string, w: number): string {
  return s.length >= w ? s.slice(0, w) : ' '.repeat(w - s.length) + s;
}

export function renderPlot(input: PlotInput): Plot {
  const cols = Math.max(10, Math.floor(input.cols));
  const rows = Math.max(3, Math.floor(input.rows));
  const span = spanOf(input.points, input.now, input.maxSpanMs);
  const { threshold, baseline } = input;
  const thrLabel = threshold === null ? '' : ` thr ${input.format(threshold)}`;
  const baseLabel = baseline === null ? '' : ` base ${input.format(baseline)}`;
  const right = Math.min(Math.max(thrLabel.length, baseLabel.length), Math.floor(cols / 4));
  const plotRows = rows - 2;

  // The y range needs the values; their bucketing needs the width, which needs the left gutter: take the
  // range from all points in the span first (bucketing keeps the maxima, so the range is the same).
  const inSpan = input.points.filter((p) => p.at >= input.now - span && p.at <= input.now).map((p) => p.value);
  const { min, max } = plotRange(inSpan, [threshold, baseline], input.fixedMax);
  const tickCount = plotRows >= 10 ? 5 : plotRows >= 6 ? 3 : 2;
  const tickRows = new Map<number, number>();
  for (let k = 0; k < tickCount; k++) {
    const r = Math.round((k * (plotRows - 1)) / (tickCount - 1));
    tickRows.set(r, max - ((r * 4 + 1.5) / (plotRows * 4 - 1)) * (max - min));
  }
  tickRows.set(0, max);
  tickRows.set(plotRows - 1, min);
  const left = Math.max(...[...tickRows.values()].map((v) => input.format(v).length)) + 1;
  const width = Math.max(4, cols - left - right);
  const w = width * 2;
  const h = plotRows * 4;

  // The value: a line through the worst value of each pixel column, broken where there is no sample.
  const px = bucketMax(input.points, input.now, span, w);
  const valueCanvas = new Context(w, h);
  valueCanvas.beginPath();
  let prev: number | null = null;
  const present = px.map((v, i) => (v === null ? -1 : i)).filter((i) => i >= 0);
  const gaps = present.slice(1).map((i, k) => i - (present[k] ?? i)).sort((a, b) => a - b);
  const usualGap = gaps.length ? (gaps[Math.floor(gaps.length / 2)] ?? 1) : 1;
  for (let x = 0; x < w; x++) {
    const v = px[x];
    if (v === null || v === undefined) continue;
    const y = yPixel(v, min, max, h);
    if (prev !== null && x - prev <= Math.max(2, usualGap * 3)) valueCanvas.lineTo(x, y);
    else {
      valueCanvas.moveTo(x, y);
      valueCanvas.lineTo(x, y);
    }
    prev = x;
  }
  valueCanvas.stroke();
  const value = valueCanvas._canvas.content;

  const breachCell: boolean[] = [];
  for (let c = 0; c < width; c++) {
    const a = px[2 * c];
    const b = px[2 * c + 1];
    breachCell.push(threshold !== null && ((a !== null && a !== undefined && a > threshold) || (b !== null && b !== undefined && b > threshold)));
  }

  const lineAt = (v: number | null): { row: number; dots: readonly [number, number] } | null => {
    if (v === null) return null;
    const y = yPixel(v, min, max, h);
    return { row: Math.floor(y / 4), dots: ROW_DOTS[y % 4] ?? [0x01, 0x08] };
  };
  const thr = lineAt(threshold);
  const base = lineAt(baseline);

  const out: PlotSegment[][] = [];
  for (let r = 0; r < plotRows; r++) {
    const row: PlotSegment[] = [];
    const tick = tickRows.get(r);
    push(row, { text: padStart(tick === undefined ? '' : input.format(tick), left - 1) + (tick === undefined ? '│' : '┤'), token: null, muted: true });
    for (let c = 0; c < width; c++) {
      const mask = value[r * width + c] ?? 0;
      const shade = breachCell[c] ?? false;
      if (mask !== 0) {
        push(row, { text: String.fromCharCode(0x2800 + mask), token: shade ? 'threshold' : 'value', shade });
        continue;
      }
      let ref = 0;
      let token: ChartToken | null = null;
      // Dashed threshold: two cells on, one off. Dotted baseline: the left dot of every cell.
      if (base && base.row === r) {
        ref |= base.dots[0];
        token = 'baseline';
      }
      if (thr && thr.row === r && c % 3 !== 2) {
        ref |= thr.dots[0] | thr.dots[1];
        token = 'threshold';
      }
      push(row, { text: ref === 0 ? ' ' : String.fromCharCode(0x2800 + ref), token, shade });
    }
    let label = '';
    let token: ChartToken | null = null;
    if (thr && thr.row === r) {
      label = thrLabel;
      token = 'threshold';
    } else if (base && base.row === r) {
      label = baseLabel;
      token = 'baseline';
    }
    push(row, { text: label.slice(0, right).padEnd(right), token });
    out.push(row);
  }

  // The time axis: heavy under breach windows, ▲ where a rollback started.
  const axis: PlotSegment[] = [];
  push(axis, { text: ' '.repeat(left - 1) + '└', token: null, muted: true });
  const markCols = new Set((input.marks ?? []).filter((m) => m.at >= input.now - span && m.at <= input.now).map((m) => Math.min(width - 1, Math.floor(((m.at - (input.now - span)) / span) * width))));
  for (let c = 0; c < width; c++) {
    if (markCols.has(c)) push(axis, { text: '▲', token: 'threshold' });
    else if (breachCell[c]) push(axis, { text: '━', token: 'threshold' });
    else push(axis, { text: '─', token: null, muted: true });
  }
  push(axis, { text: ' '.repeat(right), token: null });
  out.push(axis);

  // Time labels: the start, the middle when there is room, and "now" at the right edge.
  const labels = new Array<string>(width).fill(' ');
  const put = (text: string, at: number): void => {
    const start = Math.max(0, Math.min(width - text.length, at));
    for (let i = 0; i < text.length; i++) labels[start + i] = text[i] ?? ' ';
  };
  put(agoLabel(span), 0);
  if (width >= 30) put(agoLabel(span / 2), Math.floor(width / 2) - 2);
  put('now', width - 3);
  out.push([{ text: ' '.repeat(left) + labels.join('') + ' '.repeat(right), token: null, muted: true }]);
  return { rows: out, spanMs: span, area: { left, width } };
}
