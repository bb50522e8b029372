/** The monitor's public API (the `monitor` subcommand and the console import from here). */
export type { Sample, Baseline, TriggerStatus, TriggerState, MonitorPhase, MonitorState, MonitorEvent, AutomationOwner } from './types.js';
export { Monitor, realClock } from './monitor.js';
export type { MonitorClock, MonitorEngine, MonitorEnvironment, MonitorListener, MonitorNotifier, MonitorOptions } from './monitor.js';
export { describeAutomationOwner, LEASE_STALE_MS } from './lease.js';
export { sampleFile, statusFile, SAMPLE_FILE_LIMIT, SAMPLE_FILE_WINDOW_MS } from './shared-state.js';
export {
  evaluateTriggers,
  firstBreached,
  inWindow,
  longestWindowMs,
  samplesNeeded,
  TRIGGER_NAMES,
  WARNING_FRACTION,
  WINDOW_SLACK,
} from './triggers.js';
export type { MonitorTriggerName } from './triggers.js';
export { BaselineStore, baselineFile, computeBaseline, parseBaseline } from './baseline.js';
export { RingBuffer, ringCapacity } from './ring.js';
export { formatEvent } from './format.js';
export { fmt, fmtWindow, percentile, mean, counterIncrease } from './stats.js';
export { emptySample, overlayMetrics, METRIC_KEYS } from './sources/sample.js';
export { probeSample, parseMeminfo, parsePercent } from './sources/probe.js';
export { prometheusSample, queryPrometheus, interpretQueryResponse } from './sources/prometheus.js';
export { CommandSource, parseMetricsJson } from './sources/command.js';
export { LogTail, newLines } from './sources/logs.js';
export { FleetMonitor } from './fleet-monitor.js';
export type { FleetHostView, FleetMonitorEvent, FleetMonitorOptions, FleetMonitorState, FleetPhase, FleetTriggerView } from './fleet-monitor.js';
export { precheckedFleetRunner } from './fleet-rollback.js';
export type { FleetRollbackOutcome, FleetRollbackRequest, FleetRollbackRunner } from './fleet-rollback.js';
export { formatFleetEvent } from './fleet-format.js';
export { fleetRollbackText } from './fleet-format.js';
