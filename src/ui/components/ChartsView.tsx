/**
 * The charts view (`g`): the live release's metrics as full-size charts over the last ten minutes (or
 * what the monitor has), for reading an incident's shape: y ticks, threshold and baseline as labelled
 * lines, breach windows shaded, rollbacks marked on the time axis. Stacked at 80x24 (fewer ticks), a
 * 2x2 grid from 160x40 (health as a band beside memory). Esc returns to the main view.
 */
import React, { memo, useMemo } from 'react';
import { Box, Text } from 'ink';
import type { MonitorState } from '../../core/monitor/types.js';
import type { HistoryEntry } from '../../core/engine/types.js';
import type { SeriesPoint } from '../state/types.js';
import { healthChart, metricCharts, rollbackMarks, type MetricChart } from '../chart/specs.js';
import { color } from '../theme.js';
import { HealthBand, MetricPlot } from './Plot.js';
import { useTheme } from './ThemeContext.js';

export interface ChartsViewProps {
  series: SeriesPoint[];
  monitor: MonitorState | null;
  history: readonly HistoryEntry[];
  /** What is charted: the environment, or one host of a fleet. */
  subject: string;
  width: number;
  height: number;
}

/** Rows of the health band in the view: its title and one or two rows of cells. */
function healthRows(height: number): number {
  return height >= 30 ? 3 : 2;
}

export const ChartsView = memo(function ChartsView({ series, monitor, history, subject, width, height }: ChartsViewProps): React.JSX.Element {
  const theme = useTheme();
  const metrics = useMemo(() => metricCharts({ series, monitor }), [series, monitor]);
  const health = useMemo(() => healthChart({ series }), [series]);
  const marks = rollbackMarks(history);
  const [p95, memory, errors] = metrics as [MetricChart, MetricChart, MetricChart];
  const title = (
    <Text wrap="truncate">
      <Text bold>Charts</Text>
      <Text>{`  ${subject}`}</Text>
      <Text color={color(theme, 'muted')}>{`  ${series.length} samples · ▲ rollback · ━ breach · Esc back`}</Text>
    </Text>
  );
  if (width >= 160 && height >= 40) {
    const half = Math.floor((width - 2) / 2);
    const h = Math.floor((height - 1) / 2);
    return (
      <Box flexDirection="column" width={width} height={height}>
        {title}
        <Box flexDirection="row">
          <MetricPlot chart={p95} series={series} width={half} height={h} marks={marks} />
          <Box width={2} />
          <MetricPlot chart={errors} series={series} width={half} height={h} marks={marks} />
        </Box>
        <Box flexDirection="row">
          <MetricPlot chart={memory} series={series} width={half} height={height - 1 - h} marks={marks} />
          <Box width={2} />
          <HealthBand chart={health} series={series} width={half} height={2} left={0} />
        </Box>
      </Box>
    );
  }
  const hb = healthRows(height);
  const rest = Math.max(0, height - 1 - hb);
  // Stacked, the three plots share the time labels under the last one: each keeps its title, plot rows
  // and axis (breach windows and rollbacks are marked on every axis).
  const plotRows = Math.max(1, Math.floor((rest - 7) / 3));
  const h = plotRows + 2;
  return (
    <Box flexDirection="column" width={width} height={height}>
      {title}
      <HealthBand chart={health} series={series} width={width} height={hb} left={0} />
      <MetricPlot chart={p95} series={series} width={width} height={h} marks={marks} timeLabels={false} />
      <MetricPlot chart={errors} series={series} width={width} height={h} marks={marks} timeLabels={false} />
      <MetricPlot chart={memory} series={series} width={width} height={Math.max(h + 1, rest - 2 * h)} marks={marks} />
    </Box>
  );
});
