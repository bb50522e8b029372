/**
 * The monitor's vocabulary: samples, baselines, trigger states and events. The console renders these
 * and the `monitor` subcommand prints them; the evaluation itself is pure (evaluateTriggers).
 */
import type { EngineEvent, RollbackResult } from '../engine/types.js';

/** Known metric names; sources may add custom ones. Values are null when the source had no answer. */
export interface Sample {
  /** Epoch ms when taken. */
  at: number;
  /** The live release the sample belongs to. */
  release: string | null;
  /** true/false from the health checks; null if not measured (or inconclusive: `errors.up` says why). */
  up: boolean | null;
  /** Failed health checks in this sample (0 when all passed; the health_check trigger counts the sample once). */
  health_failures: number;
  /** Errors per minute (probe: failed probes per minute; prometheus: the query). */
  error_rate: number | null;
  p50_latency_ms: number | null;
  p95_latency_ms: number | null;
  p99_latency_ms: number | null;
  memory_usage_percent: number | null;
  cpu_usage_percent: number | null;
  request_rate: number | null;
  db_connection_errors: number | null;
  log_error_lines: number | null;
  /** Other metrics from prometheus queries / command sources. */
  custom: Record<string, number | null>;
  /** metric -> why it is inconclusive (source error, timeout, empty result). */
  errors: Record<string, string>;
}

export interface Baseline {
  release: string;
  /** ISO time the baseline was recorded. */
  timestamp: string;
  samples: number;
  healthy: boolean;
  metrics: {
    error_rate: number | null;
    p50_latency_ms: number | null;
    p95_latency_ms: number | null;
    p99_latency_ms: number | null;
    memory_usage_percent: number | null;
    cpu_usage_percent: number | null;
    request_rate: number | null;
  };
}

export type TriggerStatus = 'ok' | 'warning' | 'breached' | 'inconclusive' | 'collecting' | 'disabled';

export interface TriggerState {
  name: string;
  status: TriggerStatus;
  /** The measured value over the window (mean, percentile, count ...), null if unknown. */
  value: number | null;
  threshold: number | null;
  baseline: number | null;
  unit: string;
  samplesInWindow: number;
  samplesNeeded: number;
  /** One line: "error rate 5.2/min > 1.0/min (baseline 0.5 x 2)". */
  explanation: string;
}

export type MonitorPhase = 'starting' | 'baseline' | 'watching' | 'triggered' | 'grace' | 'rolling_back' | 'escalated' | 'blind' | 'stopped';

/** Who owns automation of an environment (the holder of the monitor lease). */
export interface AutomationOwner {
  /** 'monitor' (the subcommand) or 'console'. */
  kind: string;
  pid: number;
  host: string;
  /** How it was started, when that is known: systemd, tmux, ssh. */
  via: string | null;
  /** ISO time it took the lease. */
  since: string;
  /** This process holds the lease. */
  self: boolean;
}

export interface MonitorState {
  env: string;
  phase: MonitorPhase;
  live: string | null;
  baseline: Baseline | null;
  /** While establishing: how far along (seconds observed / needed). */
  baselineProgress: { observedSeconds: number; neededSeconds: number } | null;
  triggers: TriggerState[];
  /** Automatic rollback: armed (policy enabled and not paused), paused by an operator, or disabled by policy. */
  automation: 'armed' | 'paused' | 'disabled';
  /** Grace countdown before an automatic rollback (seconds left), when one is pending. */
  graceRemainingSeconds: number | null;
  consecutiveInconclusive: number;
  lastSample: Sample | null;
  /**
   * With the monitor lease (the `monitor` subcommand, the console): who owns automation. Another
   * process's monitor means this one observes: it shows that owner's state and never acts itself.
   */
  automationOwner?: AutomationOwner | null;
}

export type MonitorEvent =
  /** `history`: a sample taken earlier, from the shared sample file (charts start with it; logs skip it). */
  | { type: 'sample'; env: string; sample: Sample; history?: true }
  | { type: 'baseline'; env: string; baseline: Baseline }
  | { type: 'trigger'; env: string; trigger: TriggerState; previous: TriggerState['status'] }
  | { type: 'state'; env: string; state: MonitorState }
  | { type: 'alert'; env: string; severity: 'info' | 'warning' | 'critical'; message: string }
  | { type: 'grace'; env: string; trigger: TriggerState; remainingSeconds: number }
  | { type: 'rollback'; env: string; phase: 'started'; trigger: TriggerState; target: string | null; attempt: number }
  | { type: 'rollback'; env: string; phase: 'finished'; result: RollbackResult; attempt: number }
  | { type: 'escalation'; env: string; message: string }
  /** Progress of a rollback the monitor started (steps, output lines), for the console. */
  | { type: 'engine'; env: string; event: EngineEvent }
  | { type: 'stopped'; env: string; reason: string };
