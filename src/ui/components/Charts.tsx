/**
 * The live release against its baseline: health, p95 latency, error rate and memory.
 * - Large terminals: full charts in a 2x2 grid (health as a band of cells, the metrics as braille plots
 *   with y ticks, labelled threshold and baseline lines, breach windows and a time axis).
 * - From 80x24 up: one row per metric, a block sparkline beside its numbers, each line's number with the
 *   block at its height, breaching cells in the threshold's colour; health as a strip of cells.
 * - Only when even that does not fit (a terminal below 80x24 with banners): one line of numbers.
 */
import React, { memo, useMemo } from 'react';
import { Box, Text } from 'ink';
import type { MonitorState } from '../../core/monitor/types.js';
import type { SeriesPoint } from '../state/types.js';
import { chartColor } from '../theme.js';
import type { PlotMark } from '../chart/plot.js';
import { HealthBand, MetricPlot } from './Plot.js';
import { healthStrip, metricRow, type Segment } from '../chart/metric-row.js';
import { healthChart, metricCharts, type HealthChart, type MetricChart } from '../chart/specs.js';
import { num, pad } from '../format.js';
import { useTheme } from './ThemeContext.js';

export type ChartMode = 'braille' | 'sparkline' | 'numbers';

function healthLabel(h: HealthChart): string {
  const now = h.current === null ? '? unknown' : h.current ? '✓ up' : '✗ DOWN';
  return `now ${now} ${h.upPercent === null ? '' : `${num(h.upPercent)}% up`}`.trim();
}

const LABEL_W = 12;

/** "now 180ms thr▇120ms base▅75ms": the numbers beside a row, each line with the block at its height. */
function rowNumbers(c: MetricChart, thresholdBlock: string | null, baselineBlock: string | null): string {
  const parts = [`now ${num(c.current, c.unit)}`];
  parts.push(c.threshold === null ? 'thr off' : `thr${thresholdBlock ?? ' '}${num(c.threshold, c.unit)}`);
  if (c.baseline !== null) parts.push(`base${baselineBlock ?? ' '}${num(c.baseline, c.unit)}`);
  return parts.join(' ');
}

/**
 * One width for every row's sparkline, so the four rows share one time scale: what the widest numbers
 * leave after the label (at least 8 cells).
 */
function sparkWidth(width: number, metrics: readonly MetricChart[], health: HealthChart): number {
  const numbers = Math.max(healthLabel(health).length, ...metrics.map((c) => rowNumbers(c, '▇', '▇').length));
  return Math.max(8, width - LABEL_W - numbers - 1);
}

const MetricRowView = memo(function MetricRowView({ c, sparkW }: { c: MetricChart; sparkW: number }): React.JSX.Element {
  const theme = useTheme();
  const row = useMemo(
    () => metricRow({ values: c.values, width: sparkW, baseline: c.baseline, threshold: c.threshold, fixedMax: c.fixedMax }),
    [c.values, c.baseline, c.threshold, c.fixedMax, sparkW],
  );
  const over = c.current !== null && c.threshold !== null && c.current > c.threshold;
  return (
    <Text wrap="truncate">
      <Text bold>{pad(c.title, LABEL_W)}</Text>
      <SegmentText row={row.cells} />
      <Text> </Text>
      <Text bold={over} color={over ? chartColor(theme, 'threshold') : undefined}>
        {rowNumbers(c, row.thresholdBlock, row.baselineBlock)}
      </Text>
    </Text>
  );
});

const HealthRowView = memo(function HealthRowView({ h, sparkW }: { h: HealthChart; sparkW: number }): React.JSX.Element {
  const cells = useMemo(() => healthStrip(h.values, sparkW), [h.values, sparkW]);
  return (
    <Text wrap="truncate">
      <Text bold>{pad('health', LABEL_W)}</Text>
      <SegmentText row={cells} />
      <Text> {healthLabel(h)}</Text>
    </Text>
  );
});

/** Segments as inline texts (inside a row that has its own label). */
function SegmentText({ row }: { row: Segment[] }): React.JSX.Element {
  const theme = useTheme();
  return (
    <>
      {row.map((s, i) => (
        <Text key={i} color={s.token ? chartColor(theme, s.token) : undefined}>
          {s.text}
        </Text>
      ))}
    </>
  );
}

export function chartsHeight(mode: ChartMode, rows: number): number {
  if (mode === 'braille') return 2 * (rows + 3);
  if (mode === 'sparkline') return 4;
  return 1;
}

export interface ChartsProps {
  series: SeriesPoint[];
  monitor: MonitorState | null;
  width: number;
  mode: ChartMode;
  rows: number;
  /** When rollbacks happened, marked on the time axes. */
  marks: readonly PlotMark[];
}

/** Re-rendered when the series, the monitor's state or the size change; the canvases only when their data does. */
export const Charts = memo(function Charts({ series, monitor, width, mode, rows, marks }: ChartsProps): React.JSX.Element {
  // Baselines and thresholds come from the monitor state; the values from the series.
  const metrics = useMemo(() => metricCharts({ series, monitor }), [series, monitor]);
  const health = useMemo(() => healthChart({ series }), [series]);
  const [p95, memory, errors] = metrics as [MetricChart, MetricChart, MetricChart];
  if (mode === 'braille') {
    const half = Math.floor((width - 2) / 2);
    const h = rows + 3;
    return (
      <Box flexDirection="column" width={width} height={chartsHeight(mode, rows)}>
        <Box flexDirection="row">
          <HealthBand chart={health} series={series} width={half} height={h} left={0} />
          <Box width={2} />
          <MetricPlot chart={p95} series={series} width={half} height={h} marks={marks} />
        </Box>
        <Box flexDirection="row">
          <MetricPlot chart={errors} series={series} width={half} height={h} marks={marks} />
          <Box width={2} />
          <MetricPlot chart={memory} series={series} width={half} height={h} marks={marks} />
        </Box>
      </Box>
    );
  }
  if (mode === 'sparkline') {
    const sparkW = sparkWidth(width, metrics, health);
    return (
      <Box flexDirection="column" width={width} height={4}>
        <HealthRowView h={health} sparkW={sparkW} />
        <MetricRowView c={p95} sparkW={sparkW} />
        <MetricRowView c={errors} sparkW={sparkW} />
        <MetricRowView c={memory} sparkW={sparkW} />
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
