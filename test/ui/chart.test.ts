import { describe, expect, it } from 'vitest';
import { BLOCKS, HEALTH_CELLS, healthStrip, levelOf, metricRow } from '../../src/ui/chart/metric-row.js';
import { agoLabel, bucketHealth, bucketMax, renderPlot, spanOf, type PlotSegment } from '../../src/ui/chart/plot.js';

const text = (row: readonly { text: string }[]): string => row.map((s) => s.text).join('');
const NOW = 1_700_000_000_000;

describe('metric rows (main view)', () => {
  it('puts the threshold on the seventh block so only a breach reaches a full block', () => {
    const r = metricRow({ values: [50, 119, 120, 121, 400], width: 5, baseline: 60, threshold: 120 });
    expect(r.thresholdBlock).toBe('▇');
    expect(text(r.cells)).toBe(`${BLOCKS[levelOf(50, r.max)]}▇▇██`);
    // Breaching cells carry the threshold's colour; the others the value's.
    expect(r.cells.filter((s) => s.token === 'threshold').map((s) => s.text).join('')).toBe('██');
    expect(r.baselineBlock).toBe(BLOCKS[levelOf(60, r.max)]);
    expect(r.baselineBlock).not.toBe(r.thresholdBlock);
  });

  it('keeps memory near a 90% threshold apart from memory over it (no clipping to a fixed 100% scale)', () => {
    const r = metricRow({ values: [88, 95], width: 2, baseline: 40, threshold: 90, fixedMax: 100 });
    expect(text(r.cells)).toBe('▇█');
  });

  it('right-aligns a short series (now is at the right edge) and shows inconclusive samples as dots', () => {
    const r = metricRow({ values: [1, null, 3], width: 6, baseline: null, threshold: null });
    const t = text(r.cells);
    expect(t).toHaveLength(6);
    expect(t.startsWith('   ')).toBe(true);
    expect(t[4]).toBe('·');
    expect(r.thresholdBlock).toBeNull();
  });

  it('draws health as distinct cells for up, down and inconclusive, readable without colour', () => {
    const cells = healthStrip([true, false, null, true], 6);
    expect(text(cells)).toBe(`  ${HEALTH_CELLS.up}${HEALTH_CELLS.down}${HEALTH_CELLS.inconclusive}${HEALTH_CELLS.up}`);
    expect(new Set([HEALTH_CELLS.up, HEALTH_CELLS.down, HEALTH_CELLS.inconclusive, HEALTH_CELLS.none]).size).toBe(4);
  });
});

describe('plots (charts view)', () => {
  const points = Array.from({ length: 300 }, (_, i) => ({ at: NOW - (299 - i) * 2000, value: i >= 200 && i < 240 ? 180 : 70 }));
  const fmt = (v: number): string => `${Math.round(v)}ms`;

  function plot(cols: number, rows: number, extra: Partial<Parameters<typeof renderPlot>[0]> = {}) {
    return renderPlot({ cols, rows, points, now: NOW, maxSpanMs: 600_000, threshold: 120, baseline: 75, format: fmt, marks: [{ at: NOW - 100_000 }], ...extra });
  }

  it('fills exactly the requested size at 80x24-ish and at 200x60-ish sizes', () => {
    for (const [cols, rows] of [[78, 6], [118, 12], [198, 18]] as const) {
      const p = plot(cols, rows);
      expect(p.rows).toHaveLength(rows);
      for (const r of p.rows) expect(text(r)).toHaveLength(cols);
    }
  });

  it('labels y ticks, the threshold and baseline lines, and the time axis', () => {
    const p = plot(100, 12);
    const all = p.rows.map(text);
    expect(all[0]).toMatch(/^\s*\d+ms┤/);
    expect(all[9]).toMatch(/^\s*0ms┤/);
    expect(all.some((r) => r.includes('thr 120ms'))).toBe(true);
    expect(all.some((r) => r.includes('base 75ms'))).toBe(true);
    expect(all[11]).toMatch(/-10m.*-5m.*now/);
  });

  it('never lets a reference line share a cell with the value', () => {
    const p = plot(100, 12);
    for (const row of p.rows.slice(0, 10)) {
      for (const s of row) {
        if (s.token === 'threshold' && !s.shade) continue;
        // A cell holds dots of one layer only: value cells carry no reference token, and vice versa.
        expect(['value', 'threshold', 'baseline', null]).toContain(s.token);
      }
    }
    // The threshold's row has dashes where the value is below it and no dashes in the breach columns,
    // where the value's line passes.
    const thrRow = p.rows.find((r) => text(r).includes('thr 120ms')) as PlotSegment[];
    expect(thrRow.some((s) => s.token === 'threshold')).toBe(true);
    expect(thrRow.some((s) => s.token === 'value')).toBe(true);
  });

  it('shades breach windows, draws them heavy on the axis and marks the rollback', () => {
    const p = plot(100, 12);
    const axis = p.rows[10] as PlotSegment[];
    expect(text(axis)).toContain('━');
    expect(text(axis)).toContain('▲');
    expect(p.rows.slice(0, 10).some((r) => r.some((s) => s.shade))).toBe(true);
    // No breach without a threshold.
    const q = plot(100, 12, { threshold: null });
    expect(q.rows.flat().some((s) => s.shade)).toBe(false);
    expect(text(q.rows[10] as PlotSegment[])).not.toContain('━');
  });

  it('spans the data it has, so a fresh console is not mostly blank', () => {
    const fresh = [{ at: NOW - 90_000, value: 1 }, { at: NOW, value: 2 }];
    expect(spanOf(fresh, NOW, 600_000)).toBe(90_000);
    expect(spanOf(points, NOW, 600_000)).toBe(598_000);
    expect(spanOf([], NOW, 600_000)).toBe(60_000);
    expect(agoLabel(90_000)).toBe('-90s');
    expect(agoLabel(600_000)).toBe('-10m');
  });

  it('buckets by time: the worst value of each slice, health down if any sample was down', () => {
    expect(bucketMax([{ at: NOW - 9, value: 1 }, { at: NOW - 8, value: 5 }, { at: NOW, value: 2 }], NOW, 10, 2)).toEqual([5, 2]);
    expect(bucketHealth([{ at: NOW - 9, up: true }, { at: NOW - 8, up: false }, { at: NOW - 1, up: null }], NOW, 10, 3)).toEqual([false, undefined, null]);
  });
});
