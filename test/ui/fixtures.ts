/** State objects for component and reducer tests: what the monitor and engine would have reported. */
import type { MonitorState, Sample, TriggerState } from '../../src/core/monitor/types.js';
import type { HistoryEntry, RollbackPlan } from '../../src/core/engine/types.js';
import type { Backup } from '../../src/core/stores/types.js';
import { initialState, reducer } from '../../src/ui/state/reducer.js';
import type { AppState, EnvInfo } from '../../src/ui/state/types.js';

export const NOW = Date.parse('2026-11-24T12:00:00Z');

export function envInfo(over: Partial<EnvInfo> = {}): EnvInfo {
  return {
    name: 'prod',
    host: 'deploy@app-1:22',
    confirm: 'type-name',
    isProd: true,
    strategy: 'symlink',
    automationEnabled: true,
    graceSeconds: 30,
    ...over,
  };
}

export function trigger(name: string, over: Partial<TriggerState> = {}): TriggerState {
  return {
    name,
    status: 'ok',
    value: 1,
    threshold: 2,
    baseline: 1,
    unit: '',
    samplesInWindow: 12,
    samplesNeeded: 30,
    explanation: `${name} fine`,
    ...over,
  };
}

export const TRIGGERS: TriggerState[] = [
  trigger('error_rate', { value: 0.4, threshold: 1, baseline: 0.2, unit: '/min', explanation: 'error rate 0.4/min <= 1/min (baseline 0.2 x 2)' }),
  trigger('latency', { status: 'warning', value: 130, threshold: 150, baseline: 100, unit: 'ms', explanation: 'p95 130ms <= 150ms (baseline 100 x 1.5)' }),
  trigger('memory', { value: 45, threshold: 90, baseline: null, unit: '%', samplesInWindow: 30, samplesNeeded: 60 }),
  trigger('health_check', { status: 'breached', value: 3, threshold: 3, baseline: null, unit: 'failures', explanation: 'health checks failed 3 times' }),
];

export function monitorState(over: Partial<MonitorState> = {}): MonitorState {
  return {
    env: 'prod',
    phase: 'watching',
    live: 'backup_20261124_110000',
    baseline: {
      release: 'backup_20261124_110000',
      timestamp: new Date(NOW - 600_000).toISOString(),
      samples: 30,
      healthy: true,
      metrics: {
        error_rate: 0.2,
        p50_latency_ms: 50,
        p95_latency_ms: 100,
        p99_latency_ms: 150,
        memory_usage_percent: 40,
        cpu_usage_percent: 10,
        request_rate: 5,
      },
    },
    baselineProgress: null,
    triggers: TRIGGERS,
    automation: 'armed',
    graceRemainingSeconds: null,
    consecutiveInconclusive: 0,
    lastSample: null,
    ...over,
  };
}

export function sample(i: number, over: Partial<Sample> = {}): Sample {
  return {
    at: NOW - (100 - i) * 1000,
    release: 'backup_20261124_110000',
    up: i % 17 !== 0,
    health_failures: 0,
    error_rate: 0.2 + (i % 5) * 0.1,
    p50_latency_ms: 50,
    p95_latency_ms: 100 + 30 * Math.sin(i / 6),
    p99_latency_ms: 200,
    memory_usage_percent: 40 + (i % 10),
    cpu_usage_percent: 10,
    request_rate: 5,
    db_connection_errors: 0,
    log_error_lines: 0,
    custom: {},
    errors: {},
    ...over,
  };
}

export const BACKUPS: Backup[] = [
  { name: 'backup_20261124_110000', created: '2026-11-24T11:00:00Z', createdMs: Date.parse('2026-11-24T11:00:00Z'), sizeBytes: 10_485_760, current: true, knownGood: false, bad: false },
  { name: 'backup_20261123_090000', created: '2026-11-23T09:00:00Z', createdMs: Date.parse('2026-11-23T09:00:00Z'), sizeBytes: 9_000_000, current: false, knownGood: true, bad: false },
  { name: 'backup_20261122_090000', created: '2026-11-22T09:00:00Z', createdMs: Date.parse('2026-11-22T09:00:00Z'), sizeBytes: null, current: false, knownGood: false, bad: true },
  { name: 'backup_20261121_090000', created: '2026-11-21T09:00:00Z', createdMs: Date.parse('2026-11-21T09:00:00Z'), sizeBytes: null, current: false, knownGood: false, bad: false },
];

export const HISTORY: HistoryEntry[] = [
  {
    id: 'h1',
    timestamp: '2026-11-23T10:00:00Z',
    env: 'prod',
    kind: 'standard',
    trigger: 'manual',
    from: 'backup_20261122_090000',
    to: 'backup_20261123_090000',
    reason: 'bad deploy',
    initiated_by: 'alice@ops-1',
    success: true,
    verification: 'passed',
    duration_ms: 4200,
    steps: [{ name: 'switch', status: 'ok', ms: 10 }],
    error: null,
    incident_report: '/state/incidents/h1.md',
  },
];

export function plan(over: Partial<RollbackPlan> = {}): RollbackPlan {
  return {
    env: 'prod',
    kind: 'standard',
    from: 'backup_20261124_110000',
    to: { name: 'backup_20261123_090000', created: '2026-11-23T09:00:00Z', knownGood: true, bad: false },
    steps: [
      { name: 'lock', title: 'take the lock', commands: [] },
      { name: 'validate', title: 'validate the target', commands: ['test -d backup_20261123_090000'] },
      { name: 'stop', title: 'stop the service', commands: ['systemctl stop app'] },
      { name: 'switch', title: 'switch current', commands: ['ln -sfn backup_20261123_090000 current.tmp', 'mv -T current.tmp current'] },
      { name: 'start', title: 'start the service', commands: ['systemctl start app'] },
      { name: 'verify', title: 'verify health', commands: ['GET http://127.0.0.1:8080/health'] },
    ],
    warnings: [],
    problems: [],
    ...over,
  };
}

/** A state as the console would have it a while into watching prod. */
export function dashboardState(over: Partial<EnvInfo> = {}): AppState {
  let s = initialState(envInfo(over), NOW);
  s = reducer(s, { type: 'monitor/state', state: monitorState() });
  for (let i = 0; i < 100; i++) s = reducer(s, { type: 'monitor/event', event: { type: 'sample', env: 'prod', sample: sample(i) }, at: NOW });
  s = reducer(s, { type: 'backups/loaded', backups: BACKUPS });
  s = reducer(s, { type: 'history/loaded', history: HISTORY });
  s = reducer(s, { type: 'log', line: { at: NOW, level: 'info', source: 'monitor', text: 'baseline recorded' } });
  return s;
}

/** A monitor for the controller that only reports one state: for tests about keys and dialogs, not sampling. */
export function staticMonitor(state: MonitorState) {
  return {
    on: () => () => undefined,
    start: () => Promise.resolve(),
    stop: () => undefined,
    getState: () => state,
    pauseAutomation: () => Promise.resolve(),
    resumeAutomation: () => Promise.resolve(),
    cancelPendingRollback: () => false,
  };
}
