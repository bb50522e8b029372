import { describe, expect, it } from 'vitest';
import { rangeOf, renderBraille, sparkline } from '../../src/ui/chart/braille.js';

const wave = Array.from({ length: 60 }, (_, i) => 50 + 40 * Math.sin(i / 5));

describe('braille chart', () => {
  it('draws rows of exactly the requested width with braille dots', () => {
    const rows = renderBraille({
      cols: 30,
      rows: 4,
      min: 0,
      max: 100,
      series: [
        { values: wave, token: 'value', style: 'solid' },
        { values: [80], token: 'threshold', style: 'dashed' },
        { values: [40], token: 'baseline', style: 'dotted' },
      ],
    });
    expect(rows).toHaveLength(4);
    for (const r of rows) expect(r.map((s) => s.text).join('')).toHaveLength(30);
    const text = rows.map((r) => r.map((s) => s.text).join('')).join('\n');
    expect(text).toMatch(/[\u2801-\u28ff]/);
    const tokens = new Set(rows.flat().map((s) => s.token));
    expect(tokens).toContain('value');
    expect(tokens).toContain('threshold');
    expect(tokens).toContain('baseline');
  });

  it('puts the threshold line above the baseline line', () => {
    const rows = renderBraille({
      cols: 20,
      rows: 4,
      min: 0,
      max: 100,
      series: [
        { values: [90], token: 'threshold', style: 'dashed' },
        { values: [10], token: 'baseline', style: 'dotted' },
      ],
    });
    const rowOf = (token: string) => rows.findIndex((r) => r.some((s) => s.token === token));
    expect(rowOf('threshold')).toBe(0);
    expect(rowOf('baseline')).toBe(3);
  });

  it('leaves gaps for missing values and right-aligns a short series', () => {
    const rows = renderBraille({ cols: 10, rows: 1, min: 0, max: 10, series: [{ values: [5, 5], token: 'value', style: 'solid' }] });
    const line = rows[0]!.map((s) => s.text).join('');
    expect(line.slice(0, 9).trim()).toBe('');
    expect(line[9]).not.toBe(' ');
  });

  it('sparklines scale into eight levels', () => {
    expect(sparkline([0, 50, 100, null], 10, 0, 100)).toBe('▁▅█ ');
    expect(sparkline([1, 2, 3, 4, 5], 3, 0, 5)).toHaveLength(3);
  });

  it('ranges include the reference lines', () => {
    const r = rangeOf([1, 2], [10]);
    expect(r.min).toBe(0);
    expect(r.max).toBeGreaterThan(10);
  });
});
