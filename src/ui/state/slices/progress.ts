/**
 * The progress slice: the rollback running now (ours or the monitor's automatic one), its steps as the
 * engine reports them, and what is left when it ends: the result banner, or the error of a run that
 * could not start. Log lines about it are described here too (`engineLogLine`, `describeResult`); the
 * combining reducer appends them to the events pane.
 */
import type { EngineEvent, RollbackKind, RollbackPlan, RollbackResult } from '../../../core/engine/types.js';
import { formatDuration } from '../../../core/format.js';
import { OUTPUT_LIMIT, type Banners, type LogLevel, type Progress } from '../types.js';
import { appendBounded } from './bounded.js';

export interface ProgressState {
  progress: Progress | null;
  result: Banners['result'];
  /** Something the operator asked for failed (a run that could not start ...). */
  error: string | null;
}

export type ProgressAction =
  | { type: 'engine/started'; kind: RollbackKind; dryRun: boolean; auto: boolean; trigger: string; at: number }
  | { type: 'engine/event'; event: EngineEvent; at: number }
  | { type: 'engine/failed'; message: string; at: number };

export const initialProgress: ProgressState = { progress: null, result: null, error: null };

function newProgress(o: Pick<Progress, 'kind' | 'dryRun' | 'auto' | 'from' | 'to' | 'trigger' | 'startedAt'>): Progress {
  return { ...o, steps: [], current: null, output: [], finishedAt: null };
}

function stepsFromPlan(plan: RollbackPlan): Progress['steps'] {
  return plan.steps.map((s) => ({
    name: s.name,
    title: s.title,
    status: s.skipped ? 'skipped' : 'planned',
    startedAt: null,
    ms: null,
    ...(s.skipped ? { skipped: s.skipped } : {}),
  }));
}

function onEngineEvent(s: ProgressState, e: EngineEvent, at: number): ProgressState {
  const p = s.progress;
  switch (e.type) {
    case 'plan':
      return p ? { ...s, progress: { ...p, from: e.plan.from, to: e.plan.to.name, kind: e.plan.kind, steps: stepsFromPlan(e.plan) } } : s;
    case 'step-start': {
      if (!p) return s;
      const exists = p.steps.some((x) => x.name === e.step);
      const steps = exists
        ? p.steps.map((x) => (x.name === e.step ? { ...x, status: 'running' as const, startedAt: e.at, title: e.title } : x))
        : [...p.steps, { name: e.step, title: e.title, status: 'running' as const, startedAt: e.at, ms: null }];
      return { ...s, progress: { ...p, steps, current: e.step, output: [] } };
    }
    case 'step-output':
      return p ? { ...s, progress: { ...p, output: appendBounded(p.output, e.line, OUTPUT_LIMIT) } } : s;
    case 'step-end': {
      if (!p) return s;
      const steps = p.steps.map((x) => (x.name === e.step ? { ...x, status: e.status, ms: e.ms, ...(e.error ? { error: e.error } : {}) } : x));
      return { ...s, progress: { ...p, steps, current: p.current === e.step ? null : p.current } };
    }
    case 'warning':
      return s;
    case 'result':
      return { ...s, progress: null, result: { result: e.result, auto: p?.auto ?? false, at } };
  }
}

export function reduceProgress(s: ProgressState, a: ProgressAction): ProgressState {
  switch (a.type) {
    case 'engine/started':
      return { result: null, error: null, progress: newProgress({ kind: a.kind, dryRun: a.dryRun, auto: a.auto, from: null, to: null, trigger: a.trigger, startedAt: a.at }) };
    case 'engine/event':
      return onEngineEvent(s, a.event, a.at);
    case 'engine/failed':
      return { ...s, progress: null, error: a.message };
  }
}

/** The monitor started an automatic rollback: progress from here on (kept if the engine already reported). */
export function automaticStarted(s: ProgressState, o: { from: string | null; to: string | null; trigger: string; at: number }): ProgressState {
  return {
    ...s,
    result: null,
    progress: s.progress ?? newProgress({ kind: 'standard', dryRun: false, auto: true, from: o.from, to: o.to, trigger: o.trigger, startedAt: o.at }),
  };
}

/** The monitor's automatic rollback ended with `result`. */
export function automaticFinished(s: ProgressState, result: RollbackResult, at: number): ProgressState {
  return { ...s, progress: null, result: { result, auto: true, at } };
}

export function resultLevel(r: RollbackResult): LogLevel {
  return r.ok ? 'success' : 'error';
}

export function describeResult(r: RollbackResult): string {
  const took = formatDuration(r.duration_ms, { compact: true });
  if (r.dry_run) return r.ok ? `dry run: the plan to ${r.to} is valid (nothing changed)` : `dry run: the plan is not valid: ${r.error ?? 'see the preview'}`;
  if (r.ok) return `rolled back ${r.from ?? '(none)'} -> ${r.to} in ${took}, verification ${r.verification}`;
  if (r.exit_code === 2) return `rolled back ${r.from ?? '(none)'} -> ${r.to}, but verification failed (${took})`;
  return `rollback ${r.from ?? '(none)'} -> ${r.to} failed: ${r.error ?? 'see the steps'}`;
}

/**
 * The events-pane line for an engine event, or null. `auto`: the run is the monitor's, whose result is
 * logged once, by the monitor's own 'rollback finished' event.
 */
export function engineLogLine(e: EngineEvent, auto: boolean): { level: LogLevel; text: string } | null {
  if (e.type === 'step-end' && e.status === 'failed') return { level: 'error', text: `step ${e.step} failed: ${e.error ?? ''}`.trim() };
  if (e.type === 'warning') return { level: 'warning', text: e.message };
  if (e.type === 'result' && !auto) return { level: resultLevel(e.result), text: describeResult(e.result) };
  return null;
}
