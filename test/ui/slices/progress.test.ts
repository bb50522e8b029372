/** The progress slice on its own: engine events to steps, the result banner, automatic runs, the log lines. */
import { describe, expect, it } from 'vitest';
import type { RollbackResult } from '../../../src/core/engine/types.js';
import { automaticFinished, automaticStarted, describeResult, engineLogLine, initialProgress, reduceProgress } from '../../../src/ui/state/slices/progress.js';
import { NOW, plan } from '../fixtures.js';

const result = (over: Partial<RollbackResult> = {}): RollbackResult => ({
  ok: true,
  env: 'prod',
  kind: 'standard',
  dry_run: false,
  from: 'a',
  to: 'b',
  steps: [],
  verification: 'passed',
  duration_ms: 4200,
  exit_code: 0,
  ...over,
});

describe('progress slice', () => {
  it('follows the engine: plan, step start/output/end, result banner', () => {
    let s = reduceProgress(initialProgress, { type: 'engine/started', kind: 'standard', dryRun: false, auto: false, trigger: 'manual', at: NOW });
    s = reduceProgress(s, { type: 'engine/event', event: { type: 'plan', plan: plan() }, at: NOW });
    expect(s.progress?.steps.map((x) => x.status)).toEqual(['planned', 'planned', 'planned', 'planned', 'planned', 'planned']);
    s = reduceProgress(s, { type: 'engine/event', event: { type: 'step-start', step: 'stop', title: 'stop the service', at: NOW }, at: NOW });
    s = reduceProgress(s, { type: 'engine/event', event: { type: 'step-output', step: 'stop', line: 'stopping', stream: 'stdout' }, at: NOW });
    expect(s.progress).toMatchObject({ current: 'stop', output: ['stopping'] });
    s = reduceProgress(s, { type: 'engine/event', event: { type: 'step-end', step: 'stop', status: 'ok', ms: 12 }, at: NOW });
    expect(s.progress?.steps.find((x) => x.name === 'stop')).toMatchObject({ status: 'ok', ms: 12 });
    s = reduceProgress(s, { type: 'engine/event', event: { type: 'result', result: result() }, at: NOW });
    expect(s).toMatchObject({ progress: null, result: { auto: false, result: { ok: true } } });
  });

  it('a run that could not start leaves its error; a new run clears result and error', () => {
    const failed = reduceProgress(initialProgress, { type: 'engine/failed', message: 'locked', at: NOW });
    expect(failed).toMatchObject({ progress: null, error: 'locked' });
    const again = reduceProgress(failed, { type: 'engine/started', kind: 'emergency', dryRun: false, auto: false, trigger: 'manual', at: NOW });
    expect(again).toMatchObject({ error: null, result: null, progress: { kind: 'emergency' } });
  });

  it('automatic runs: started by the monitor, finished with an automatic result', () => {
    const s = automaticStarted(initialProgress, { from: 'a', to: 'b', trigger: 'error_rate', at: NOW });
    expect(s.progress).toMatchObject({ auto: true, from: 'a', to: 'b', trigger: 'error_rate' });
    expect(automaticStarted(s, { from: 'x', to: 'y', trigger: 't', at: NOW }).progress).toBe(s.progress);
    expect(automaticFinished(s, result(), NOW)).toMatchObject({ progress: null, result: { auto: true } });
  });

  it('describes results and logs failed steps, warnings and manual results (an automatic result is the monitor\'s to log)', () => {
    expect(describeResult(result())).toBe('rolled back a -> b in 4.2s, verification passed');
    expect(describeResult(result({ ok: false, exit_code: 2, verification: 'failed' }))).toBe('rolled back a -> b, but verification failed (4.2s)');
    expect(engineLogLine({ type: 'step-end', step: 'start', status: 'failed', ms: 3, error: 'exit 1' }, false)).toEqual({ level: 'error', text: 'step start failed: exit 1' });
    expect(engineLogLine({ type: 'warning', message: 'slow' }, true)).toEqual({ level: 'warning', text: 'slow' });
    expect(engineLogLine({ type: 'result', result: result() }, false)).toMatchObject({ level: 'success' });
    expect(engineLogLine({ type: 'result', result: result() }, true)).toBeNull();
  });
});
