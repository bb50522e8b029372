/**
 * Braille line charts for the terminal, drawn with blessed-contrib's canvas
 * (drawille-canvas-blessed-contrib): each series on its own canvas, then merged cell by cell so every
 * character carries the colour token of the series that owns it (the value line wins over threshold and
 * baseline). Lines differ by pattern too (solid value, dashed threshold, dotted baseline), so the chart
 * reads without colour. Pure: returns rows of coloured text segments for ink to print.
 */
import Context from 'drawille-canvas-blessed-contrib';
import type { ChartToken } from '../theme.js';

export interface ChartSeries {
  /** Oldest first; null = no data (a gap). */
  values: readonly (number | null)[];
  token: ChartToken;
  style: 'solid' | 'dashed' | 'dotted';
}

export interface Segment {
  text: string;
  token: ChartToken | null;
}

export interface BrailleOptions {
  /** Character cells. */
  cols: number;
  rows: number;
  series: readonly ChartSeries[];
  min: number;
  max: number;
}

/** y pixel for a value (0 = top). */
function yOf(v: number, min: number, max: number, h: number): number {
  const span = max - min || 1;
  const t = Math.max(0, Math.min(1, (v - min) / span));
  return Math.round((1 - t) * (h - 1));
}

function drawSeries(s: ChartSeries, w: number, h: number, min: number, max: number): Uint8Array {
  const ctx = new Context(w, h);
  const values = s.values.slice(-w);
  const offset = w - values.length;
  const constant = values.length > 0 && values.every((v) => v !== null && v === values[0]);
  if (s.style !== 'solid' && constant && values[0] !== null && values[0] !== undefined) {
    // A reference line across the whole width.
    const y = yOf(values[0], min, max, h);
    for (let x = 0; x < w; x++) {
      const on = s.style === 'dashed' ? x % 6 < 4 : x % 4 === 0;
      if (on) ctx._canvas.set(x, y);
    }
    return ctx._canvas.content;
  }
  ctx.beginPath();
  let pen = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      pen = false;
      continue;
    }
    const x = offset + i;
    const y = yOf(v, min, max, h);
    if (pen) ctx.lineTo(x, y);
    else {
      ctx.moveTo(x, y);
      // A lone point still shows: a zero-length stroke sets its pixel.
      ctx.lineTo(x, y);
      pen = true;
    }
  }
  ctx.stroke();
  return ctx._canvas.content;
}

/** Render the chart; each row is a list of segments whose text lengths add up to `cols`. */
export function renderBraille(opts: BrailleOptions): Segment[][] {
  const cols = Math.max(1, Math.floor(opts.cols));
  const rows = Math.max(1, Math.floor(opts.rows));
  const w = cols * 2;
  const h = rows * 4;
  const layers = opts.series.map((s) => ({ token: s.token, content: drawSeries(s, w, h, opts.min, opts.max) }));
  const out: Segment[][] = [];
  for (let r = 0; r < rows; r++) {
    const row: Segment[] = [];
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      let mask = 0;
      let token: ChartToken | null = null;
      for (const l of layers) {
        const m = l.content[i] ?? 0;
        if (m !== 0 && token === null) token = l.token;
        mask |= m;
      }
      const ch = mask === 0 ? ' ' : String.fromCharCode(0x2800 + mask);
      const last = row[row.length - 1];
      if (last && last.token === token) last.text += ch;
      else row.push({ text: ch, token });
    }
    out.push(row);
  }
  return out;
}

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** A one-line sparkline of the last `width` values; gaps are spaces. */
export function sparkline(values: readonly (number | null)[], width: number, min: number, max: number): string {
  const tail = values.slice(-Math.max(0, width));
  const span = max - min || 1;
  return tail
    .map((v) => {
      if (v === null || !Number.isFinite(v)) return ' ';
      const t = Math.max(0, Math.min(1, (v - min) / span));
      return BARS[Math.min(BARS.length - 1, Math.round(t * (BARS.length - 1)))] ?? ' ';
    })
    .join('');
}

/** The y range for a chart: from 0 (or the lowest value) to a little above the highest of values and lines. */
export function rangeOf(values: readonly (number | null)[], lines: readonly (number | null)[], fixedMax?: number): { min: number; max: number } {
  const nums = [...values, ...lines].filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = Math.min(0, ...nums);
  if (fixedMax !== undefined) return { min: lo, max: fixedMax };
  const hi = nums.length ? Math.max(...nums) : 1;
  return { min: lo, max: hi <= lo ? lo + 1 : hi * 1.15 };
}
