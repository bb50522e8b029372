/**
 * One metric as a full braille chart (y ticks, labelled threshold and baseline, breach windows shaded,
 * time axis with rollbacks marked), and health as a band of cells over the same time axis. Used by the
 * main view on a large terminal and by the charts view. The time axis ends at the newest sample, not at
 * the clock, so an idle console does not redraw the charts every second.
 */
import React, { memo, useMemo } from 'react';
import { Box, Text } from 'ink';
import { chartColor, color } from '../theme.js';
import { bucketHealth, renderPlot, type PlotMark, type PlotSegment } from '../chart/plot.js';
import { HEALTH_CELLS } from '../chart/metric-row.js';
import type { HealthChart, MetricChart } from '../chart/specs.js';
import type { SeriesPoint } from '../state/types.js';
import { num } from '../format.js';
import { useTheme } from './ThemeContext.js';

/** Ten minutes: the span of the charts once the monitor has that much. */
export const CHART_SPAN_MS = 10 * 60_000;

const PlotRow = memo(function PlotRow({ row }: { row: PlotSegment[] }): React.JSX.Element {
  const theme = useTheme();
  const shade = chartColor(theme, 'breach');
  return (
    <Text wrap="truncate">
      {row.map((s, i) => (
        <Text
          key={i}
          color={s.muted ? color(theme, 'muted') : s.token ? chartColor(theme, s.token) : undefined}
          backgroundColor={s.shade ? shade : undefined}
        >
          {s.text}
        </Text>
      ))}
    </Text>
  );
});

function endOf(series: readonly SeriesPoint[]): number {
  return series[series.length - 1]?.at ?? 0;
}

export interface MetricPlotProps {
  chart: MetricChart;
  series: readonly SeriesPoint[];
  width: number;
  /** Rows of the whole block: title, plot, axis, time labels. */
  height: number;
  marks: readonly PlotMark[];
}

export const MetricPlot = memo(function MetricPlot({ chart, series, width, height, marks }: MetricPlotProps): React.JSX.Element {
  const theme = useTheme();
  const plot = useMemo(() => {
    const points = series.map((p, i) => ({ at: p.at, value: chart.values[i] ?? null }));
    return renderPlot({
      cols: width,
      rows: Math.max(3, height - 1),
      points,
      now: endOf(series),
      maxSpanMs: CHART_SPAN_MS,
      threshold: chart.threshold,
      baseline: chart.baseline,
      fixedMax: chart.fixedMax,
      format: (v) => num(v, chart.unit),
      marks,
    });
  }, [chart.values, chart.threshold, chart.baseline, chart.fixedMax, chart.unit, series, width, height, marks]);
  const over = chart.current !== null && chart.threshold !== null && chart.current > chart.threshold;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text bold>{chart.title}</Text>
        <Text bold={over} color={over ? chartColor(theme, 'threshold') : undefined}>
          {`  now ${num(chart.current, chart.unit)}`}
        </Text>
        <Text color={chartColor(theme, 'threshold')}>{chart.threshold === null ? '  no threshold' : `  ╍ thr ${num(chart.threshold, chart.unit)}`}</Text>
        {chart.baseline !== null ? <Text color={chartColor(theme, 'baseline')}>{`  ┈ base ${num(chart.baseline, chart.unit)}`}</Text> : null}
      </Text>
      {plot.rows.map((row, i) => (
        <PlotRow key={i} row={row} />
      ))}
    </Box>
  );
});

export interface HealthBandProps {
  chart: HealthChart;
  series: readonly SeriesPoint[];
  width: number;
  height: number;
  /** Where the plots' area starts, so the band lines up with their time axes. */
  left: number;
}

/** Health over the same span as the plots: a band of up / down / inconclusive cells. */
export const HealthBand = memo(function HealthBand({ chart, series, width, height, left }: HealthBandProps): React.JSX.Element {
  const theme = useTheme();
  const cells = useMemo(() => {
    const span = Math.max(60_000, Math.min(CHART_SPAN_MS, endOf(series) - (series[0]?.at ?? endOf(series))));
    return bucketHealth(series, endOf(series), span, Math.max(1, width - left));
  }, [series, width, left]);
  const now = chart.current === null ? '? unknown' : chart.current ? '✓ up' : '✗ DOWN';
  const band = (
    <Text wrap="truncate">
      <Text>{' '.repeat(Math.max(0, left))}</Text>
      {cells.map((v, i) => (
        <Text key={i} color={v === true ? chartColor(theme, 'up') : v === false ? chartColor(theme, 'down') : undefined}>
          {v === undefined ? HEALTH_CELLS.none : v === null ? HEALTH_CELLS.inconclusive : v ? HEALTH_CELLS.up : HEALTH_CELLS.down}
        </Text>
      ))}
    </Text>
  );
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text bold>health</Text>
        <Text>{`  now ${now}`}</Text>
        <Text color={color(theme, 'muted')}>{chart.upPercent === null ? '' : `  ${num(chart.upPercent)}% up`}</Text>
        <Text color={color(theme, 'muted')}>{`  ${HEALTH_CELLS.up} up  ${HEALTH_CELLS.down} down  ${HEALTH_CELLS.inconclusive} inconclusive`}</Text>
      </Text>
      {/* A band of up to three rows: thick enough to see a gap, no more (the rest stays empty). */}
      {Array.from({ length: Math.max(1, Math.min(3, height - 1)) }, (_, i) => (
        <React.Fragment key={i}>{band}</React.Fragment>
      ))}
    </Box>
  );
});
