/**
 * One-row charts for the main view, readable at 80x24: a block sparkline per metric (▁ to █) and a
 * strip of cells for health.
 *
 * Where the threshold and the baseline lie is shown in the same visual language as the values: the
 * sparkline's scale is fixed so that each of them falls on a block level, and that level's block is
 * printed beside its number ("thr ▆ 120ms"). A bar as tall as the threshold's block or taller is in
 * breach; those cells carry the threshold's colour. Health cells differ by shape (up, down,
 * inconclusive), so both read under NO_COLOR.
 */
import type { ChartToken } from '../theme.js';

/** A run of cells of one colour token. */
export interface Segment {
  text: string;
  token: ChartToken | null;
}

export const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/** Health cells: up, down, inconclusive (a sample that could not tell), no sample. */
export const HEALTH_CELLS = { up: '█', down: '▁', inconclusive: '░', none: ' ' } as const;

export interface MetricRowInput {
  /** Oldest first; null = an inconclusive sample. */
  values: readonly (number | null)[];
  width: number;
  baseline: number | null;
  threshold: number | null;
  /** A fixed top of the scale (memory: 100). */
  fixedMax?: number;
}

export interface MetricRow {
  cells: Segment[];
  /** The block at the threshold's height on this row's scale, or null with no threshold. */
  thresholdBlock: string | null;
  baselineBlock: string | null;
  /** The top of the scale (a full block). */
  max: number;
}

function finite(v: number | null | undefined): v is number {
  return v !== null && v !== undefined && Number.isFinite(v);
}

/**
 * The top of the scale. With a threshold, it sits at the seventh block (▇), so a value at the threshold
 * draws ▇ and only a breach reaches █ or beyond: the breach is one level a glance can tell. Values far
 * above the threshold are clipped to █ (the number beside the row says how far). A fixed scale (memory's
 * 0-100 %) applies only without a threshold, so that 88 % and 95 % against a 90 % threshold still differ.
 */
export function rowScaleMax(values: readonly (number | null)[], baseline: number | null, threshold: number | null, fixedMax?: number): number {
  if (finite(threshold) && threshold > 0) return (threshold * BLOCKS.length) / (BLOCKS.length - 1);
  if (fixedMax !== undefined) return fixedMax;
  const top = Math.max(0, ...values.filter(finite), finite(baseline) ? baseline * 1.5 : 0);
  return top > 0 ? top : 1;
}

/** The block index (0-7) of a value on a 0..max scale; values at or below 0 get the lowest block. */
export function levelOf(v: number, max: number): number {
  if (!(max > 0)) return 0;
  const t = Math.max(0, Math.min(1, v / max));
  // The epsilon keeps a value exactly at the threshold on its own block despite float rounding.
  return Math.min(BLOCKS.length - 1, Math.max(0, Math.ceil(t * BLOCKS.length - 1e-9) - 1));
}

function push(row: Segment[], text: string, token: ChartToken | null): void {
  const last = row[row.length - 1];
  if (last && last.token === token) last.text += text;
  else row.push({ text, token });
}

/**
 * The last `width` values as blocks, right-aligned (the newest at the right edge, where "now" is), with
 * blanks on the left while the series is shorter than the row.
 */
export function metricRow(input: MetricRowInput): MetricRow {
  const width = Math.max(0, Math.floor(input.width));
  const max = rowScaleMax(input.values, input.baseline, input.threshold, input.fixedMax);
  const tail = input.values.slice(-width);
  const cells: Segment[] = [];
  if (width > tail.length) push(cells, ' '.repeat(width - tail.length), null);
  for (const v of tail) {
    if (!finite(v)) {
      push(cells, '·', null);
      continue;
    }
    const breach = finite(input.threshold) && v > input.threshold;
    push(cells, BLOCKS[levelOf(v, max)] ?? ' ', breach ? 'threshold' : 'value');
  }
  return {
    cells,
    thresholdBlock: finite(input.threshold) ? (BLOCKS[levelOf(input.threshold, max)] ?? null) : null,
    baselineBlock: finite(input.baseline) ? (BLOCKS[levelOf(input.baseline, max)] ?? null) : null,
    max,
  };
}

/** The last `width` health samples as cells, right-aligned. `null` in the series is an inconclusive sample. */
export function healthStrip(values: readonly (boolean | null)[], width: number): Segment[] {
  const w = Math.max(0, Math.floor(width));
  const tail = values.slice(-w);
  const cells: Segment[] = [];
  if (w > tail.length) push(cells, HEALTH_CELLS.none.repeat(w - tail.length), null);
  for (const v of tail) {
    if (v === null) push(cells, HEALTH_CELLS.inconclusive, null);
    else push(cells, v ? HEALTH_CELLS.up : HEALTH_CELLS.down, v ? 'up' : 'down');
  }
  return cells;
}
