/**
 * The console's pure reducer. Everything the screen shows changes here, from monitor events, engine
 * events and operator input, so it is tested without rendering. Side effects (start a rollback, read a
 * report) are the controller's: a confirmed rollback is left in `pendingRun` for it to take.
 */
import type { EngineEvent, RollbackResult } from '../../core/engine/types.js';
import type { MonitorEvent, MonitorState, Sample, TriggerState } from '../../core/monitor/types.js';
import type { ExtraAction, PanelId } from '../keybindings.js';
import { confirmationFor } from '../../core/engine/confirmation.js';
import {
  EVENTS_LIMIT,
  OUTPUT_LIMIT,
  SERIES_LIMIT,
  type Action,
  type AppState,
  type Dialog,
  type EnvInfo,
  type LogLevel,
  type LogLine,
  type Progress,
  type RollbackDialog,
  type SeriesPoint,
} from './types.js';

export const PANELS: readonly PanelId[] = ['backups', 'history', 'events'];

export function initialState(env: EnvInfo, now = Date.now(), extraActions: readonly ExtraAction[] = []): AppState {
  return {
    env,
    monitor: null,
    series: [],
    backups: [],
    backupsLoaded: false,
    history: [],
    events: [],
    focus: 'backups',
    selection: { backups: 0, history: 0, events: 0 },
    dialog: null,
    rollbackRequests: 0,
    progress: null,
    banners: {
      lock: null,
      interrupted: null,
      unreachable: null,
      blind: null,
      escalation: null,
      auto: null,
      result: null,
      error: null,
    },
    lockOwner: null,
    now,
    quitting: false,
    pendingRun: null,
    extraActions,
  };
}

export function pointOf(sample: Sample): SeriesPoint {
  return {
    at: sample.at,
    up: sample.up,
    p95: sample.p95_latency_ms,
    memory: sample.memory_usage_percent,
    errorRate: sample.error_rate,
  };
}

function appendBounded<T>(list: readonly T[], item: T, limit: number): T[] {
  const next = list.length >= limit ? list.slice(list.length - limit + 1) : list.slice();
  next.push(item);
  return next;
}

/**
 * Append an event. The events selection counts back from the newest line: 0 follows the newest; a
 * selection scrolled back moves with its line (until that line is dropped off the bounded log).
 */
function appendEvent(state: AppState, line: LogLine): AppState {
  const events = appendBounded(state.events, line, EVENTS_LIMIT);
  const sel = state.selection.events;
  if (sel === 0) return { ...state, events };
  return { ...state, events, selection: { ...state.selection, events: Math.min(sel + 1, events.length - 1) } };
}

function log(state: AppState, at: number, level: LogLevel, source: LogLine['source'], text: string): AppState {
  return appendEvent(state, { at, level, source, text });
}

export function isRunning(state: AppState): boolean {
  return state.progress !== null && state.progress.finishedAt === null;
}

function listLength(state: AppState, panel: PanelId): number {
  if (panel === 'backups') return state.backups.length;
  if (panel === 'history') return state.history.length;
  return state.events.length;
}

function clampSelection(state: AppState): AppState {
  const selection = { ...state.selection };
  for (const p of PANELS) {
    const n = listLength(state, p);
    selection[p] = Math.max(0, Math.min(selection[p], n - 1));
  }
  return { ...state, selection };
}

/** The confirmation takes the typed environment name rather than y. */
export function typesName(d: RollbackDialog): boolean {
  return d.confirmation.kind === 'type-name';
}

function withDialog(state: AppState, dialog: Dialog | null): AppState {
  return { ...state, dialog };
}

/** The dialog is waiting for the plan of request `requestId` (undefined: of whichever request is open). */
function awaitsPlan(d: RollbackDialog, requestId: number | undefined): boolean {
  return d.stage === 'loading' && (requestId === undefined || requestId === d.requestId);
}

function updateRollbackDialog(state: AppState, f: (d: RollbackDialog) => RollbackDialog): AppState {
  const d = state.dialog;
  if (!d || d.type !== 'rollback') return state;
  const next = f(d);
  return next === d ? state : withDialog(state, next);
}

function submitRollbackDialog(state: AppState, d: RollbackDialog): AppState {
  switch (d.stage) {
    case 'preview':
      if (d.dryRun) {
        return {
          ...state,
          dialog: null,
          pendingRun: { kind: d.kind, target: d.target, reason: d.reason.trim() || 'dry run from the console', dryRun: true },
        };
      }
      return withDialog(state, { ...d, stage: 'reason', error: null });
    case 'reason':
      if (d.reason.trim() === '') return withDialog(state, { ...d, error: 'A reason is required: say why you are rolling back.' });
      return withDialog(state, { ...d, stage: 'confirm', error: null, confirmText: '' });
    case 'confirm':
      if (!typesName(d)) return state;
      if (d.confirmText !== state.env.name) {
        const typed = d.confirmText === '' ? 'nothing' : `"${d.confirmText}"`;
        return withDialog(state, {
          ...d,
          confirmText: '',
          error: `You typed ${typed}, not the environment's name. Type ${state.env.name} to confirm, or Esc to cancel.`,
        });
      }
      return confirmRun(state, d);
    default:
      return state;
  }
}

function confirmRun(state: AppState, d: RollbackDialog): AppState {
  if (isRunning(state)) return withDialog(state, { ...d, error: 'A rollback is already running.' });
  return {
    ...state,
    dialog: null,
    pendingRun: {
      kind: d.kind,
      target: d.target,
      // The live release the preview was planned from: a deploy while the dialog was open makes the
      // engine refuse rather than roll back from a release the operator never saw.
      ...(d.plan?.from ? { expectFrom: d.plan.from } : {}),
      reason: d.reason.trim(),
      dryRun: d.dryRun,
    },
  };
}

function stepsFromPlan(plan: import('../../core/engine/types.js').RollbackPlan): Progress['steps'] {
  return plan.steps.map((s) => ({
    name: s.name,
    title: s.title,
    status: s.skipped ? 'skipped' : 'planned',
    startedAt: null,
    ms: null,
    ...(s.skipped ? { skipped: s.skipped } : {}),
  }));
}

function resultLevel(r: RollbackResult): LogLevel {
  return r.ok ? 'success' : 'error';
}

export function describeResult(r: RollbackResult): string {
  const secs = (r.duration_ms / 1000).toFixed(1);
  if (r.dry_run) return r.ok ? `dry run: the plan to ${r.to} is valid (nothing changed)` : `dry run: the plan is not valid: ${r.error ?? 'see the preview'}`;
  if (r.ok) return `rolled back ${r.from ?? '(none)'} -> ${r.to} in ${secs}s, verification ${r.verification}`;
  if (r.exit_code === 2) return `rolled back ${r.from ?? '(none)'} -> ${r.to}, but verification failed (${secs}s)`;
  return `rollback ${r.from ?? '(none)'} -> ${r.to} failed: ${r.error ?? 'see the steps'}`;
}

function onEngineEvent(state: AppState, e: EngineEvent, at: number): AppState {
  const p = state.progress;
  switch (e.type) {
    case 'plan': {
      if (!p) return state;
      return { ...state, progress: { ...p, from: e.plan.from, to: e.plan.to.name, kind: e.plan.kind, steps: stepsFromPlan(e.plan) } };
    }
    case 'step-start': {
      if (!p) return state;
      const exists = p.steps.some((s) => s.name === e.step);
      const steps = exists
        ? p.steps.map((s) => (s.name === e.step ? { ...s, status: 'running' as const, startedAt: e.at, title: e.title } : s))
        : [...p.steps, { name: e.step, title: e.title, status: 'running' as const, startedAt: e.at, ms: null }];
      return { ...state, progress: { ...p, steps, current: e.step, output: [] } };
    }
    case 'step-output': {
      if (!p) return state;
      return { ...state, progress: { ...p, output: appendBounded(p.output, e.line, OUTPUT_LIMIT) } };
    }
    case 'step-end': {
      if (!p) return state;
      const steps = p.steps.map((s) =>
        s.name === e.step ? { ...s, status: e.status, ms: e.ms, ...(e.error ? { error: e.error } : {}) } : s,
      );
      const next = { ...state, progress: { ...p, steps, current: p.current === e.step ? null : p.current } };
      return e.status === 'failed' ? log(next, at, 'error', 'engine', `step ${e.step} failed: ${e.error ?? ''}`.trim()) : next;
    }
    case 'warning':
      return log(state, at, 'warning', 'engine', e.message);
    case 'result': {
      const r = e.result;
      const auto = p?.auto ?? false;
      const next: AppState = {
        ...state,
        progress: null,
        banners: { ...state.banners, result: { result: r, auto, at } },
      };
      // An automatic rollback's result is logged once, by the monitor's 'rollback finished' event.
      return auto ? next : log(next, at, resultLevel(r), 'engine', describeResult(r));
    }
  }
}

function onMonitorState(state: AppState, m: MonitorState): AppState {
  const banners = { ...state.banners };
  banners.blind =
    m.phase === 'blind'
      ? `Monitor blind: ${m.consecutiveInconclusive} samples in a row without an answer. Automatic rollback cannot judge this release.`
      : null;
  if (m.graceRemainingSeconds !== null && banners.auto && banners.auto.phase === 'grace') {
    banners.auto = { ...banners.auto, remainingSeconds: m.graceRemainingSeconds };
  }
  // The countdown is over once the monitor reports no grace left outside the grace phase: cancelled
  // (it stays 'triggered') or rolling back (the 'rollback started' event replaces the banner).
  if (banners.auto?.phase === 'grace' && m.phase !== 'grace' && m.graceRemainingSeconds === null) banners.auto = null;
  // A cancelled rollback's banner stays while the trigger stays breached.
  if (banners.auto?.phase === 'cancelled' && m.phase !== 'triggered') banners.auto = null;
  return { ...state, monitor: m, banners };
}

function statusLevel(t: TriggerState): LogLevel {
  if (t.status === 'breached') return 'error';
  if (t.status === 'warning' || t.status === 'inconclusive') return 'warning';
  return 'info';
}

function onMonitorEvent(state: AppState, e: MonitorEvent, at: number): AppState {
  switch (e.type) {
    case 'sample':
      return { ...state, series: appendBounded(state.series, pointOf(e.sample), SERIES_LIMIT) };
    case 'state':
      return onMonitorState(state, e.state);
    case 'baseline': {
      const b = e.baseline;
      // A baseline the monitor has just established is logged by the monitor itself (an alert with the
      // numbers and whether the release was marked known-good); only one it loaded is logged here.
      const m = state.monitor;
      if (m?.baselineProgress && m.live === b.release) return state;
      const parts = [
        b.metrics.p95_latency_ms !== null ? `p95 ${fmt(b.metrics.p95_latency_ms)}ms` : null,
        b.metrics.error_rate !== null ? `errors ${fmt(b.metrics.error_rate)}/min` : null,
        b.metrics.memory_usage_percent !== null ? `memory ${fmt(b.metrics.memory_usage_percent)}%` : null,
      ].filter((x): x is string => x !== null);
      return log(state, at, 'info', 'monitor', `baseline of ${b.release} loaded (${b.samples} samples): ${parts.join(', ') || 'no metrics'}`);
    }
    case 'trigger':
      // Transitions into or out of trouble; collecting/disabled changes are noise.
      if (!TROUBLE.has(e.trigger.status) && !TROUBLE.has(e.previous)) return state;
      return log(state, at, statusLevel(e.trigger), 'monitor', `${e.trigger.name}: ${e.previous} -> ${e.trigger.status}: ${e.trigger.explanation}`);
    case 'alert':
      return log(state, at, e.severity === 'critical' ? 'error' : e.severity === 'warning' ? 'warning' : 'info', 'monitor', e.message);
    case 'grace':
      return {
        ...state,
        banners: { ...state.banners, auto: { trigger: e.trigger, remainingSeconds: e.remainingSeconds, phase: 'grace', target: null } },
      };
    case 'rollback': {
      if (e.phase === 'started') {
        const next: AppState = {
          ...state,
          banners: { ...state.banners, auto: { trigger: e.trigger, remainingSeconds: null, phase: 'running', target: e.target }, result: null },
          progress: state.progress ?? {
            kind: 'standard',
            dryRun: false,
            auto: true,
            from: state.monitor?.live ?? null,
            to: e.target,
            trigger: e.trigger.name,
            startedAt: at,
            steps: [],
            current: null,
            output: [],
            finishedAt: null,
          },
        };
        return log(next, at, 'error', 'monitor', `automatic rollback started (attempt ${e.attempt}): ${e.trigger.explanation}`);
      }
      const next: AppState = {
        ...state,
        progress: null,
        banners: { ...state.banners, auto: null, result: { result: e.result, auto: true, at } },
      };
      return log(next, at, resultLevel(e.result), 'monitor', `automatic ${describeResult(e.result)}`);
    }
    case 'escalation':
      return log({ ...state, banners: { ...state.banners, escalation: e.message } }, at, 'error', 'monitor', e.message);
    case 'stopped':
      return log(state, at, 'info', 'monitor', `monitor stopped: ${e.reason}`);
    case 'engine':
      return onEngineEvent(state, e.event, at);
    default:
      return state;
  }
}

const TROUBLE = new Set(['warning', 'breached', 'inconclusive']);

function fmt(n: number): string {
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2).replace(/\.?0+$/, '') || '0';
}

export function reducer(state: AppState, action: Action): AppState {
  switch (action.type) {
    case 'tick':
      return { ...state, now: action.now };
    case 'monitor/state':
      return onMonitorState(state, action.state);
    case 'monitor/sample':
      return { ...state, series: appendBounded(state.series, pointOf(action.sample), SERIES_LIMIT) };
    case 'monitor/event':
      return onMonitorEvent(state, action.event, action.at);
    case 'monitor/events':
      return action.events.reduce((s, e) => onMonitorEvent(s, e.event, e.at), state);
    case 'auto/cancelled': {
      const a = state.banners.auto;
      if (a?.phase !== 'grace') return state;
      return { ...state, banners: { ...state.banners, auto: { ...a, phase: 'cancelled', remainingSeconds: null } } };
    }
    case 'backups/loaded':
      return clampSelection({ ...state, backups: action.backups, backupsLoaded: true });
    case 'backups/error':
      return log({ ...state, backupsLoaded: true }, state.now, 'error', 'console', `listing backups failed: ${action.message}`);
    case 'history/loaded':
      return clampSelection({ ...state, history: action.history });
    case 'lock/owner':
      return {
        ...state,
        lockOwner: action.owner,
        banners: { ...state.banners, lock: action.owner && !isRunning(state) ? action.owner : null },
      };
    case 'banner/interrupted':
      return { ...state, banners: { ...state.banners, interrupted: action.message } };
    case 'banner/unreachable':
      return { ...state, banners: { ...state.banners, unreachable: action.message } };
    case 'banner/error':
      return { ...state, banners: { ...state.banners, error: action.message } };
    case 'log':
      return appendEvent(state, action.line);
    case 'focus/next':
    case 'focus/prev': {
      const i = PANELS.indexOf(state.focus);
      const d = action.type === 'focus/next' ? 1 : PANELS.length - 1;
      return { ...state, focus: PANELS[(i + d) % PANELS.length] ?? 'backups' };
    }
    case 'select/move': {
      const n = listLength(state, state.focus);
      const cur = state.selection[state.focus];
      // Events count back from the newest line, which is drawn at the bottom: down (+1) is newer.
      const delta = state.focus === 'events' ? -action.delta : action.delta;
      const next = Math.max(0, Math.min(n - 1, cur + delta));
      return { ...state, selection: { ...state.selection, [state.focus]: Math.max(0, next) } };
    }
    case 'dialog/openRollback': {
      if (state.dialog !== null || isRunning(state)) return state;
      const requestId = state.rollbackRequests + 1;
      return withDialog(
        { ...state, rollbackRequests: requestId, banners: { ...state.banners, result: null, error: null } },
        {
          type: 'rollback',
          requestId,
          kind: action.kind,
          dryRun: action.dryRun,
          target: action.target,
          stage: 'loading',
          plan: null,
          planError: null,
          reason: '',
          confirmText: '',
          confirmation: confirmationFor(state.env, action.kind),
          error: null,
        },
      );
    }
    case 'dialog/plan':
      return updateRollbackDialog(state, (d) => {
        if (!awaitsPlan(d, action.requestId)) return d;
        const blocked = action.plan.problems.length > 0;
        return { ...d, plan: action.plan, stage: blocked ? 'blocked' : d.dryRun ? 'preview' : 'reason' };
      });
    case 'dialog/planError':
      return updateRollbackDialog(state, (d) => (awaitsPlan(d, action.requestId) ? { ...d, stage: 'blocked', planError: action.message } : d));
    case 'dialog/type':
      return updateRollbackDialog(state, (d) => {
        const text = action.text.replace(/[\r\n\t]/g, ' ').replace(/\p{Cc}/gu, '');
        if (d.stage === 'reason') return { ...d, reason: (d.reason + text).slice(0, 500), error: null };
        if (d.stage === 'confirm' && typesName(d)) return { ...d, confirmText: (d.confirmText + text).slice(0, 100), error: null };
        return d;
      });
    case 'dialog/backspace':
      return updateRollbackDialog(state, (d) => {
        if (d.stage === 'reason') return { ...d, reason: [...d.reason].slice(0, -1).join('') };
        if (d.stage === 'confirm' && typesName(d)) return { ...d, confirmText: [...d.confirmText].slice(0, -1).join('') };
        return d;
      });
    case 'dialog/submit': {
      const d = state.dialog;
      if (!d || d.type !== 'rollback') return state;
      return submitRollbackDialog(state, d);
    }
    case 'dialog/yes': {
      const d = state.dialog;
      if (d?.type === 'quit') return { ...state, dialog: null, quitting: true };
      if (!d || d.type !== 'rollback' || d.stage !== 'confirm' || typesName(d)) return state;
      return confirmRun(state, d);
    }
    case 'dialog/no': {
      const d = state.dialog;
      if (d?.type === 'quit') return withDialog(state, null);
      if (d?.type === 'rollback' && d.stage === 'confirm' && !typesName(d)) return withDialog(state, null);
      return state;
    }
    case 'dialog/openHelp':
      if (state.dialog?.type === 'help') return withDialog(state, null);
      if (state.dialog !== null) return state;
      return withDialog(state, { type: 'help' });
    case 'dialog/openHistory':
      if (state.dialog !== null) return state;
      return withDialog(state, { type: 'history', entry: action.entry, report: null, reportError: null });
    case 'dialog/report': {
      const d = state.dialog;
      if (d?.type !== 'history') return state;
      return withDialog(state, { ...d, report: action.report, reportError: action.error });
    }
    case 'dialog/openQuit':
      return withDialog(state, { type: 'quit' });
    case 'back': {
      const d = state.dialog;
      if (d?.type === 'rollback' && d.stage === 'confirm') {
        // Esc from the confirmation steps back out of the whole dialog: nothing runs.
        return withDialog(state, null);
      }
      if (d) return withDialog(state, null);
      const b = state.banners;
      if (b.result || b.error || b.auto?.phase === 'cancelled') {
        return { ...state, banners: { ...b, result: null, error: null, auto: b.auto?.phase === 'cancelled' ? null : b.auto } };
      }
      return state;
    }
    case 'quit':
      if (isRunning(state)) return withDialog(state, { type: 'quit' });
      return { ...state, dialog: null, quitting: true };
    case 'run/taken':
      return { ...state, pendingRun: null };
    case 'engine/started':
      return {
        ...state,
        banners: { ...state.banners, result: null, error: null, lock: null },
        progress: {
          kind: action.kind,
          dryRun: action.dryRun,
          auto: action.auto,
          from: null,
          to: null,
          trigger: action.trigger,
          startedAt: action.at,
          steps: [],
          current: null,
          output: [],
          finishedAt: null,
        },
      };
    case 'engine/event':
      return onEngineEvent(state, action.event, action.at);
    case 'engine/failed':
      return log(
        { ...state, progress: null, banners: { ...state.banners, error: action.message } },
        action.at,
        'error',
        'engine',
        action.message,
      );
  }
}
