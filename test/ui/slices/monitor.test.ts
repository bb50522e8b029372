/** The monitor slice on its own: state, series, the countdown banner and its cancellation, the log lines. */
import { describe, expect, it } from 'vitest';
import { initialMonitor, monitorLogLine, onMonitorEvent, reduceMonitor } from '../../../src/ui/state/slices/monitor.js';
import { SERIES_LIMIT } from '../../../src/ui/state/types.js';
import { monitorState, sample, trigger } from '../fixtures.js';

const breached = trigger('error_rate', { status: 'breached', explanation: 'error rate 9/min > 2/min' });

describe('monitor slice', () => {
  it('keeps a bounded series of samples', () => {
    let s = initialMonitor;
    for (let i = 0; i < SERIES_LIMIT + 5; i++) s = onMonitorEvent(s, { type: 'sample', env: 'prod', sample: sample(i) });
    expect(s.series).toHaveLength(SERIES_LIMIT);
    expect(s.series.at(-1)?.at).toBe(sample(SERIES_LIMIT + 4).at);
  });

  it('the countdown: grace banner, ticks from the state, cancelled by the operator, gone when the trigger clears', () => {
    let s = onMonitorEvent(initialMonitor, { type: 'grace', env: 'prod', trigger: breached, remainingSeconds: 5 });
    expect(s.auto).toMatchObject({ phase: 'grace', remainingSeconds: 5 });
    s = reduceMonitor(s, { type: 'monitor/state', state: monitorState({ phase: 'grace', graceRemainingSeconds: 3 }) });
    expect(s.auto?.remainingSeconds).toBe(3);
    s = reduceMonitor(s, { type: 'auto/cancelled' });
    expect(s.auto).toMatchObject({ phase: 'cancelled', remainingSeconds: null });
    expect(reduceMonitor(s, { type: 'auto/cancelled' })).toBe(s);
    s = reduceMonitor(s, { type: 'monitor/state', state: monitorState({ phase: 'triggered' }) });
    expect(s.auto?.phase).toBe('cancelled');
    s = reduceMonitor(s, { type: 'monitor/state', state: monitorState({ phase: 'watching' }) });
    expect(s.auto).toBeNull();
  });

  it('blind and escalation banners', () => {
    const blind = reduceMonitor(initialMonitor, { type: 'monitor/state', state: monitorState({ phase: 'blind', consecutiveInconclusive: 7 }) });
    expect(blind.blind).toContain('7 samples in a row');
    expect(onMonitorEvent(initialMonitor, { type: 'escalation', env: 'prod', message: 'needs a human' }).escalation).toBe('needs a human');
  });

  it('log lines: trouble transitions only, loaded baselines, automatic rollbacks', () => {
    expect(monitorLogLine({ type: 'trigger', env: 'prod', trigger: breached, previous: 'ok' }, null)).toEqual({ level: 'error', text: 'error_rate: ok -> breached: error rate 9/min > 2/min' });
    expect(monitorLogLine({ type: 'trigger', env: 'prod', trigger: trigger('memory', { status: 'ok' }), previous: 'collecting' }, null)).toBeNull();
    const baseline = monitorState().baseline!;
    expect(monitorLogLine({ type: 'baseline', env: 'prod', baseline }, null)?.text).toBe(`baseline of ${baseline.release} loaded (30 samples): p95 100ms, errors 0.2/min, memory 40%`);
    const establishing = monitorState({ baselineProgress: { observedSeconds: 1, neededSeconds: 2 } });
    expect(monitorLogLine({ type: 'baseline', env: 'prod', baseline }, establishing)).toBeNull();
    expect(monitorLogLine({ type: 'rollback', env: 'prod', phase: 'started', attempt: 1, trigger: breached, target: 'b' }, null)).toEqual({
      level: 'error',
      text: 'automatic rollback started (attempt 1): error rate 9/min > 2/min',
    });
  });
});
