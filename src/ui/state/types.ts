/**
 * The console's state: one plain object, changed only by the pure reducer in ./reducer.ts, which
 * combines the slices in ./slices/ (navigation, dialog, progress, monitor). Monitor and engine listeners
 * turn their events into actions; components render parts of this and nothing else.
 */
import type { MonitorState, TriggerState } from '../../core/monitor/types.js';
import type { HistoryEntry, RollbackKind, RollbackPlan, RollbackResult, StepName, StepResult } from '../../core/engine/types.js';
import type { Backup } from '../../core/stores/types.js';
import type { Confirmation } from '../../core/engine/confirmation.js';
import type { ExtraAction, PanelId } from '../keybindings.js';
import type { DialogAction } from './slices/dialog.js';
import type { MonitorAction } from './slices/monitor.js';
import type { NavigationAction } from './slices/navigation.js';
import type { ProgressAction } from './slices/progress.js';
import type { FleetAction, FleetSlice } from './slices/fleet.js';
import type { FleetRun, FleetRunAction } from './slices/fleet-run.js';
import type { FleetPlan } from '../../core/fleet/index.js';
import type { FleetPreview } from '../fleet-run.js';

export type { PanelId };

export interface EnvInfo {
  name: string;
  /** "local" or "deploy@app-1:22". */
  host: string;
  confirm: 'type-name' | 'yes-no';
  /** Production-like environments stand out in the header. */
  isProd: boolean;
  strategy: 'symlink' | 'git' | 'files' | 'container';
  /** policy.enabled */
  automationEnabled: boolean;
  graceSeconds: number;
}

/** One point of the chart series (a sample reduced to what the charts draw). */
export interface SeriesPoint {
  at: number;
  up: boolean | null;
  p95: number | null;
  memory: number | null;
  errorRate: number | null;
}

export type LogLevel = 'info' | 'warning' | 'error' | 'success';

export interface LogLine {
  at: number;
  level: LogLevel;
  source: 'monitor' | 'engine' | 'console';
  text: string;
}

export interface StepProgress {
  name: StepName;
  title: string;
  status: 'planned' | 'running' | 'ok' | 'failed' | 'skipped';
  startedAt: number | null;
  ms: number | null;
  skipped?: string;
  error?: string;
}

export interface Progress {
  kind: RollbackKind;
  dryRun: boolean;
  /** Started by the monitor (automatic) or by this operator. */
  auto: boolean;
  from: string | null;
  to: string | null;
  trigger: string;
  startedAt: number;
  steps: StepProgress[];
  current: StepName | null;
  /** Live output of the current step, last lines only. */
  output: string[];
  finishedAt: number | null;
}

export interface RollbackDialog {
  type: 'rollback';
  /**
   * Which opening of a rollback dialog this is (AppState.rollbackRequests when it opened). Its plan
   * arrives later; a plan fetched for an earlier dialog (Esc, then another `t`) carries another id and
   * is dropped, so the preview always belongs to the request that will run.
   */
  requestId: number;
  kind: RollbackKind;
  dryRun: boolean;
  /** Backup name for targeted rollbacks; undefined = default target. */
  target?: string | undefined;
  stage: 'loading' | 'preview' | 'reason' | 'confirm' | 'blocked';
  plan: RollbackPlan | null;
  planError: string | null;
  reason: string;
  confirmText: string;
  /** How the operator confirms: the environment's name (type-name envs, every emergency) or y. */
  confirmation: Confirmation;
  error: string | null;
  /** On a fleet: the fleet's plan (per host from -> to, the batches) or why it cannot run, each host named. */
  fleet?: FleetPreview;
}

export type Dialog =
  | RollbackDialog
  | { type: 'help' }
  | { type: 'history'; entry: HistoryEntry; report: string | null; reportError: string | null }
  | { type: 'quit' };

export interface AutoBanner {
  trigger: TriggerState;
  /** Seconds left in the grace countdown; null when it runs now. */
  remainingSeconds: number | null;
  phase: 'grace' | 'running' | 'cancelled';
  target: string | null;
}

export interface Banners {
  lock: string | null;
  interrupted: string | null;
  unreachable: string | null;
  blind: string | null;
  escalation: string | null;
  auto: AutoBanner | null;
  result: { result: RollbackResult; auto: boolean; at: number } | null;
  /** Something the operator asked for failed (plan error, history read error ...). */
  error: string | null;
}

export interface AppState {
  env: EnvInfo;
  monitor: MonitorState | null;
  series: SeriesPoint[];
  backups: Backup[];
  backupsLoaded: boolean;
  history: HistoryEntry[];
  events: LogLine[];
  /** The main view or the charts view (`g`). */
  view: import('./slices/navigation.js').ViewId;
  focus: PanelId;
  /**
   * The selected row of each panel. Backups and history count from the top (newest first); events
   * count back from the newest line (0 = newest, drawn at the bottom), and a selection scrolled back
   * stays on its line while new events arrive.
   */
  selection: Record<PanelId, number>;
  dialog: Dialog | null;
  /** Rollback dialogs opened so far: the next one's requestId. */
  rollbackRequests: number;
  progress: Progress | null;
  banners: Banners;
  lockOwner: string | null;
  now: number;
  /** Set when the operator has asked to quit and nothing is running: the app exits. */
  quitting: boolean;
  /** A confirmed request the controller must start (the reducer's outbox; taken with run/taken). */
  pendingRun: RunRequest | null;
  /** Actions the embedding program added to the keybinding table (the demo's redeploy); often none. */
  extraActions: readonly ExtraAction[];
  /** A fleet's hosts (the Hosts panel, per-host charts); null on a one-host environment. */
  fleet: FleetSlice | null;
  /** A fleet rollback started here: its host x step grid, then each host's result (until Esc). */
  fleetRun: FleetRun | null;
}

export interface RunRequest {
  kind: RollbackKind;
  target?: string | undefined;
  /** The live release the confirmed preview was planned from: the engine refuses if it changed. */
  expectFrom?: string;
  reason: string;
  dryRun: boolean;
  /** On a fleet: the plan the operator confirmed (a moved target or live release refuses the run). */
  fleetPlan?: FleetPlan;
}

export const SERIES_LIMIT = 600;
export const EVENTS_LIMIT = 200;
export const OUTPUT_LIMIT = 8;

/** Actions about the data the controller loads (backups, history, the lock, start-up checks) and the log. */
export type DataAction =
  | { type: 'tick'; now: number }
  | { type: 'backups/loaded'; backups: Backup[] }
  | { type: 'backups/error'; message: string }
  | { type: 'history/loaded'; history: HistoryEntry[] }
  | { type: 'lock/owner'; owner: string | null }
  | { type: 'banner/interrupted'; message: string | null }
  | { type: 'banner/unreachable'; message: string | null }
  | { type: 'log'; line: LogLine };

/** Everything the console's reducer takes: each slice's own actions, and the data actions. */
export type Action = NavigationAction | DialogAction | ProgressAction | MonitorAction | FleetAction | FleetRunAction | DataAction;

export type { StepResult };
