/**
 * The console's reducer, combining the slices in ./slices/: navigation (focus, selections), dialog
 * (the dialogs and the confirmed run), progress (the running rollback and its result) and monitor (the
 * monitor's state, series and banners), plus the data the controller loads and the events log. Each
 * slice reduces its own part of the state with its own actions; this file routes actions to them and
 * carries what crosses slices: log lines, banners closed by a new dialog, selections kept inside lists.
 * Everything the screen shows changes here, so it is tested without rendering. Side effects (start a
 * rollback, read a report) are the controller's: a confirmed rollback is left in `pendingRun` for it.
 */
import type { ExtraAction } from '../keybindings.js';
import type { MonitorEvent } from '../../core/monitor/types.js';
import { reduceDialog, initialDialog, type DialogAction, type DialogState } from './slices/dialog.js';
import { monitorLogLine, onMonitorEvent, reduceMonitor, initialMonitor, type MonitorSliceState } from './slices/monitor.js';
import { clampSelection, followNewEvent, initialNavigation, reduceNavigation, type NavigationState, type PanelLengths } from './slices/navigation.js';
import { automaticFinished, automaticStarted, engineLogLine, reduceProgress, initialProgress, type ProgressState } from './slices/progress.js';
import { appendBounded } from './slices/bounded.js';
import { emptyFleet, reduceFleet } from './slices/fleet.js';
import { fleetRunLogLine, reduceFleetRun } from './slices/fleet-run.js';
import { EVENTS_LIMIT, type Action, type AppState, type EnvInfo, type LogLevel, type LogLine } from './types.js';

export { PANELS } from './slices/navigation.js';
export { typesName } from './slices/dialog.js';
export { describeResult } from './slices/progress.js';
export { pointOf } from './slices/monitor.js';

export function initialState(env: EnvInfo, now = Date.now(), extraActions: readonly ExtraAction[] = []): AppState {
  return {
    env,
    monitor: initialMonitor.monitor,
    series: initialMonitor.series,
    backups: [],
    backupsLoaded: false,
    history: [],
    events: [],
    ...initialNavigation,
    ...initialDialog,
    progress: initialProgress.progress,
    banners: {
      lock: null,
      interrupted: null,
      unreachable: null,
      blind: initialMonitor.blind,
      escalation: initialMonitor.escalation,
      auto: initialMonitor.auto,
      result: initialProgress.result,
      error: initialProgress.error,
    },
    lockOwner: null,
    now,
    extraActions,
    fleet: null,
    fleetRun: null,
  };
}

export function isRunning(state: AppState): boolean {
  return (state.progress !== null && state.progress.finishedAt === null) || (state.fleetRun !== null && state.fleetRun.finishedAt === null);
}

// ------------------------------------------------------------------ the slices' parts of the state

const navigationOf = (s: AppState): NavigationState => ({ view: s.view, focus: s.focus, selection: s.selection });
const dialogOf = (s: AppState): DialogState => ({ dialog: s.dialog, rollbackRequests: s.rollbackRequests, pendingRun: s.pendingRun, quitting: s.quitting });
const progressOf = (s: AppState): ProgressState => ({ progress: s.progress, result: s.banners.result, error: s.banners.error });
const monitorOf = (s: AppState): MonitorSliceState => ({
  monitor: s.monitor,
  series: s.series,
  blind: s.banners.blind,
  auto: s.banners.auto,
  escalation: s.banners.escalation,
});

// Each `with*` returns the same state when the slice did not change (the controller renders nothing then).
function withNavigation(s: AppState, before: NavigationState, n: NavigationState): AppState {
  return n === before ? s : { ...s, view: n.view, focus: n.focus, selection: n.selection };
}
function withDialog(s: AppState, before: DialogState, d: DialogState): AppState {
  return d === before ? s : { ...s, ...d };
}
function withProgress(s: AppState, before: ProgressState, p: ProgressState): AppState {
  return p === before ? s : { ...s, progress: p.progress, banners: { ...s.banners, result: p.result, error: p.error } };
}
function withMonitor(s: AppState, before: MonitorSliceState, m: MonitorSliceState): AppState {
  if (m === before) return s;
  return { ...s, monitor: m.monitor, series: m.series, banners: { ...s.banners, blind: m.blind, auto: m.auto, escalation: m.escalation } };
}

function lengthsOf(s: AppState): PanelLengths {
  return { hosts: s.fleet?.hosts.length ?? 0, backups: s.backups.length, history: s.history.length, events: s.events.length };
}

function clamped(s: AppState): AppState {
  const nav = navigationOf(s);
  return withNavigation(s, nav, clampSelection(nav, lengthsOf(s)));
}

// ------------------------------------------------------------------ the events log

function appendEvent(s: AppState, line: LogLine): AppState {
  const events = appendBounded(s.events, line, EVENTS_LIMIT);
  const nav = navigationOf(s);
  return withNavigation({ ...s, events }, nav, followNewEvent(nav, events.length));
}

function log(s: AppState, at: number, source: LogLine['source'], line: { level: LogLevel; text: string } | null): AppState {
  return line ? appendEvent(s, { at, source, ...line }) : s;
}

// ------------------------------------------------------------------ what crosses slices

/** One monitor event: the monitor slice, the progress of an automatic rollback, and its log line. */
function applyMonitorEvent(s: AppState, e: MonitorEvent, at: number): AppState {
  const line = monitorLogLine(e, s.monitor);
  const m = monitorOf(s);
  let next = withMonitor(s, m, onMonitorEvent(m, e));
  const p = progressOf(next);
  if (e.type === 'engine') {
    next = withProgress(next, p, reduceProgress(p, { type: 'engine/event', event: e.event, at }));
    next = log(next, at, 'engine', engineLogLine(e.event, s.progress?.auto ?? false));
  } else if (e.type === 'rollback') {
    const after =
      e.phase === 'started'
        ? automaticStarted(p, { from: s.monitor?.live ?? null, to: e.target, trigger: e.trigger.name, at })
        : automaticFinished(p, e.result, at);
    next = withProgress(next, p, after);
  }
  return log(next, at, 'monitor', line);
}

function onDialogAction(s: AppState, a: DialogAction): AppState {
  const d = dialogOf(s);
  const after = reduceDialog(d, a, { env: s.env, running: isRunning(s) });
  const next = withDialog(s, d, after);
  const b = next.banners;
  // A new rollback dialog replaces the last result and error on screen (a fleet's result too).
  if (a.type === 'dialog/openRollback' && after.rollbackRequests !== d.rollbackRequests) {
    return { ...next, banners: { ...b, result: null, error: null }, fleetRun: null };
  }
  // Esc with no dialog open closes the banners and the fleet result the operator has read.
  const fleetDone = s.fleetRun !== null && s.fleetRun.finishedAt !== null;
  if (a.type === 'back' && d.dialog === null && (b.result || b.error || b.auto?.phase === 'cancelled' || fleetDone)) {
    return { ...next, banners: { ...b, result: null, error: null, auto: b.auto?.phase === 'cancelled' ? null : b.auto }, fleetRun: fleetDone ? null : s.fleetRun };
  }
  return next;
}

export function reducer(state: AppState, action: Action): AppState {
  switch (action.type) {
    case 'focus/next':
    case 'focus/prev':
    case 'select/move':
    case 'view/charts':
    case 'view/main': {
      const nav = navigationOf(state);
      return withNavigation(state, nav, reduceNavigation(nav, action, lengthsOf(state)));
    }
    case 'dialog/openRollback':
    case 'dialog/plan':
    case 'dialog/planError':
    case 'dialog/fleetPlan':
    case 'dialog/type':
    case 'dialog/backspace':
    case 'dialog/submit':
    case 'dialog/yes':
    case 'dialog/no':
    case 'dialog/openHelp':
    case 'dialog/openHistory':
    case 'dialog/report':
    case 'back':
      // Esc in the charts view (no dialog over it) returns to the main view; the banners stay.
      if (state.dialog === null && state.view === 'charts') return { ...state, view: 'main' };
      return onDialogAction(state, action);
    case 'quit':
    case 'run/taken':
      return onDialogAction(state, action);
    case 'engine/started':
    case 'engine/event':
    case 'engine/failed': {
      const p = progressOf(state);
      let next = withProgress(state, p, reduceProgress(p, action));
      if (action.type === 'engine/started') next = { ...next, banners: { ...next.banners, lock: null } };
      if (action.type === 'engine/event') next = log(next, action.at, 'engine', engineLogLine(action.event, state.progress?.auto ?? false));
      if (action.type === 'engine/failed') next = log(next, action.at, 'engine', { level: 'error', text: action.message });
      return next;
    }
    case 'monitor/state':
    case 'auto/cancelled': {
      const m = monitorOf(state);
      return withMonitor(state, m, reduceMonitor(m, action));
    }
    case 'monitor/event':
      return applyMonitorEvent(state, action.event, action.at);
    case 'monitor/events':
      return action.events.reduce((s, e) => applyMonitorEvent(s, e.event, e.at), state);
    case 'fleet/state':
    case 'fleet/sample':
    case 'fleet/lock': {
      const fleet = reduceFleet(state.fleet ?? emptyFleet, action);
      // The first report of a fleet: the Hosts panel takes the focus (it is what the operator looks at).
      const focus = state.fleet === null && action.type === 'fleet/state' && state.focus === 'backups' ? 'hosts' : state.focus;
      return clamped({ ...state, fleet, focus });
    }
    case 'fleetRun/started':
    case 'fleetRun/autoStarted':
    case 'fleetRun/planned':
    case 'fleetRun/hostStart':
    case 'fleetRun/event':
    case 'fleetRun/hostEnd':
    case 'fleetRun/note':
    case 'fleetRun/finished':
    case 'fleetRun/failed': {
      const fleetRun = reduceFleetRun(state.fleetRun, action);
      const starts = action.type === 'fleetRun/started' || action.type === 'fleetRun/autoStarted';
      const next = fleetRun === state.fleetRun ? state : { ...state, fleetRun, ...(starts ? { banners: { ...state.banners, lock: null, result: null, error: null } } : {}) };
      return log(next, action.at, 'engine', fleetRunLogLine(action, (fleetRun ?? state.fleetRun)?.auto != null));
    }
    case 'tick':
      return { ...state, now: action.now };
    case 'backups/loaded':
      return clamped({ ...state, backups: action.backups, backupsLoaded: true });
    case 'backups/error':
      return log({ ...state, backupsLoaded: true }, state.now, 'console', { level: 'error', text: `listing backups failed: ${action.message}` });
    case 'history/loaded':
      return clamped({ ...state, history: action.history });
    case 'lock/owner':
      return { ...state, lockOwner: action.owner, banners: { ...state.banners, lock: action.owner && !isRunning(state) ? action.owner : null } };
    case 'banner/interrupted':
      return { ...state, banners: { ...state.banners, interrupted: action.message } };
    case 'banner/unreachable':
      return { ...state, banners: { ...state.banners, unreachable: action.message } };
    case 'log':
      return appendEvent(state, action.line);
  }
}
