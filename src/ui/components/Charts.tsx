/**
 * The live release against its baseline: health, p95 latency, memory and error rate. Large terminals get
 * braille line charts (value solid, threshold dashed, baseline dotted) in a 2x2 grid with a legend;
 * smaller ones a sparkline per metric; the smallest one line of numbers. Every chart labels the current
 * value, the baseline and the threshold in numbers.
 */
import React, { memo, useMemo } from 'react';
import { Box, Text } from 'ink';
import type { MonitorState } from '../../core/monitor/types.js';
import type { SeriesPoint } from '../state/types.js';
import { chartColor, color } from '../theme.js';
import { rangeOf, renderBraille, sparkline, type Segment } from '../chart/braille.js';
import { healthChart, metricCharts, type HealthChart, type MetricChart } from '../chart/specs.js';
import { num, pad } from '../format.js';
import { useTheme } from './ThemeContext.js';

export type ChartMode = 'braille' | 'sparkline' | 'numbers';

function labelOf(c: MetricChart): string {
  const parts = [`now ${num(c.current, c.unit)}`];
  parts.push(`base ${num(c.baseline, c.unit)}`);
  parts.push(`thr ${c.threshold === null ? 'off' : num(c.threshold, c.unit)}`);
  return parts.join('  ');
}

function healthLabel(h: HealthChart): string {
  const now = h.current === null ? 'unknown' : h.current ? '✓ up' : '✗ DOWN';
  return `now ${now}  ${h.upPercent === null ? '' : `${num(h.upPercent)}% up`}`.trim();
}

const SegmentRow = memo(function SegmentRow({ row }: { row: Segment[] }): React.JSX.Element {
  const theme = useTheme();
  return (
    <Text wrap="truncate">
      {row.map((s, i) => (
        <Text key={i} color={s.token ? chartColor(theme, s.token) : undefined}>
          {s.text}
        </Text>
      ))}
    </Text>
  );
});

function Legend({ hasBaseline, hasThreshold }: { hasBaseline: boolean; hasThreshold: boolean }): React.JSX.Element {
  const theme = useTheme();
  return (
    <Text wrap="truncate">
      <Text color={chartColor(theme, 'value')}>━ value</Text>
      {hasThreshold ? <Text color={chartColor(theme, 'threshold')}>{'  ╍ threshold'}</Text> : null}
      {hasBaseline ? <Text color={chartColor(theme, 'baseline')}>{'  ┈ baseline'}</Text> : null}
    </Text>
  );
}

const BrailleMetric = memo(function BrailleMetric({ c, width, rows }: { c: MetricChart; width: number; rows: number }): React.JSX.Element {
  const theme = useTheme();
  // The canvases are drawn again only when the data or the size changed (the values array is the
  // series' identity: it changes when a sample arrives).
  const range = useMemo(() => rangeOf(c.values, [c.baseline, c.threshold], c.fixedMax), [c.values, c.baseline, c.threshold, c.fixedMax]);
  const grid = useMemo(
    () =>
      renderBraille({
        cols: width,
        rows,
        min: range.min,
        max: range.max,
        series: [
          { values: c.values, token: 'value', style: 'solid' },
          ...(c.threshold !== null ? [{ values: [c.threshold], token: 'threshold' as const, style: 'dashed' as const }] : []),
          ...(c.baseline !== null ? [{ values: [c.baseline], token: 'baseline' as const, style: 'dotted' as const }] : []),
        ],
      }),
    [c.values, c.baseline, c.threshold, range, width, rows],
  );
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold>{c.title}</Text>
        <Text> {labelOf(c)}</Text>
        <Text color={color(theme, 'muted')}> (0-{num(range.max, c.unit)})</Text>
      </Text>
      {grid.map((row, i) => (
        <SegmentRow key={i} row={row} />
      ))}
      <Legend hasBaseline={c.baseline !== null} hasThreshold={c.threshold !== null} />
    </Box>
  );
});

const BrailleHealth = memo(function BrailleHealth({ h, width, rows }: { h: HealthChart; width: number; rows: number }): React.JSX.Element {
  const theme = useTheme();
  const grid = useMemo(
    () =>
      renderBraille({
        cols: width,
        rows,
        min: 0,
        max: 1,
        series: [
          { values: h.values.map((v) => (v === true ? 1 : null)), token: 'up', style: 'solid' },
          { values: h.values.map((v) => (v === false ? 0 : null)), token: 'down', style: 'solid' },
        ],
      }),
    [h.values, width, rows],
  );
  return (
    <Box flexDirection="column" width={width}>
      <Text wrap="truncate">
        <Text bold>health</Text>
        <Text> {healthLabel(h)}</Text>
      </Text>
      {grid.map((row, i) => (
        <SegmentRow key={i} row={row} />
      ))}
      <Text wrap="truncate">
        <Text color={chartColor(theme, 'up')}>━ up (top)</Text>
        <Text color={chartColor(theme, 'down')}>{'  ━ down (bottom)'}</Text>
      </Text>
    </Box>
  );
});

const LABEL_W = 12;
const VALUE_W = 34;

function SparkMetric({ c, width }: { c: MetricChart; width: number }): React.JSX.Element {
  const theme = useTheme();
  const range = rangeOf(c.values, [c.baseline, c.threshold], c.fixedMax);
  const sw = Math.max(4, width - LABEL_W - VALUE_W);
  const over = c.current !== null && c.threshold !== null && c.current > c.threshold;
  return (
    <Text wrap="truncate">
      <Text bold>{pad(c.title, LABEL_W)}</Text>
      <Text color={chartColor(theme, over ? 'threshold' : 'value')}>{pad(sparkline(c.values, sw, range.min, range.max), sw)}</Text>
      <Text> {labelOf(c)}</Text>
    </Text>
  );
}

function SparkHealth({ h, width }: { h: HealthChart; width: number }): React.JSX.Element {
  const theme = useTheme();
  const sw = Math.max(4, width - LABEL_W - VALUE_W);
  const tail = h.values.slice(-sw);
  return (
    <Text wrap="truncate">
      <Text bold>{pad('health', LABEL_W)}</Text>
      {tail.map((v, i) => (
        <Text key={i} color={v === null ? undefined : chartColor(theme, v ? 'up' : 'down')}>
          {v === null ? ' ' : v ? '▇' : '▁'}
        </Text>
      ))}
      <Text>{' '.repeat(Math.max(0, sw - tail.length))}</Text>
      <Text> {healthLabel(h)}</Text>
    </Text>
  );
}

export function chartsHeight(mode: ChartMode, rows: number): number {
  if (mode === 'braille') return 2 * (rows + 2);
  if (mode === 'sparkline') return 4;
  return 1;
}

export interface ChartsProps {
  series: SeriesPoint[];
  monitor: MonitorState | null;
  width: number;
  mode: ChartMode;
  rows: number;
}

/** Re-rendered when the series, the monitor's state or the size change; the canvases only when their data does. */
export const Charts = memo(function Charts({ series, monitor, width, mode, rows }: ChartsProps): React.JSX.Element {
  // Baselines and thresholds come from the monitor state; the values from the series.
  const metrics = useMemo(() => metricCharts({ series, monitor }), [series, monitor]);
  const health = useMemo(() => healthChart({ series }), [series]);
  const [p95, memory, errors] = metrics as [MetricChart, MetricChart, MetricChart];
  if (mode === 'braille') {
    const half = Math.floor((width - 2) / 2);
    return (
      <Box flexDirection="column" width={width} height={chartsHeight(mode, rows)}>
        <Box flexDirection="row">
          <BrailleHealth h={health} width={half} rows={rows} />
          <Box width={2} />
          <BrailleMetric c={p95} width={half} rows={rows} />
        </Box>
        <Box flexDirection="row">
          <BrailleMetric c={errors} width={half} rows={rows} />
          <Box width={2} />
          <BrailleMetric c={memory} width={half} rows={rows} />
        </Box>
      </Box>
    );
  }
  if (mode === 'sparkline') {
    return (
      <Box flexDirection="column" width={width} height={4}>
        <SparkHealth h={health} width={width} />
        <SparkMetric c={p95} width={width} />
        <SparkMetric c={errors} width={width} />
        <SparkMetric c={memory} width={width} />
      </Box>
    );
  }
  const h = health.current === null ? 'health ?' : health.current ? 'health ✓up' : 'health ✗DOWN';
  const short = (c: MetricChart): string => `${c.id} ${num(c.current, c.unit)}/${c.threshold === null ? 'off' : num(c.threshold, c.unit)}`;
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate">{[h, short(p95), short(errors), short(memory)].join(' · ')}</Text>
    </Box>
  );
});
