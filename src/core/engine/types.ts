/**
 * The rollback engine's vocabulary: plans, steps, events, results and history entries. Shared by the
 * CLI (prints events), the monitor (starts rollbacks) and the console (renders progress and history).
 */

export type RollbackKind = 'standard' | 'emergency' | 'targeted';
export type StepName =
  | 'lock'
  | 'journal'
  | 'validate'
  | 'maintenance_on'
  | 'stop'
  | 'switch'
  | 'start'
  | 'verify'
  | 'maintenance_off'
  | 'mark'
  | 'record'
  | 'notify'
  | 'unlock';
export type StepStatus = 'planned' | 'running' | 'ok' | 'failed' | 'skipped';
export type Verification = 'passed' | 'failed' | 'skipped';

export interface PlannedStep {
  name: StepName;
  /** Human description, e.g. "stop the service". */
  title: string;
  /** What it will run (commands, paths), for the preview. */
  commands: string[];
  /** Present when the step will not run, with why ("emergency: verification will be skipped"). */
  skipped?: string;
}

export interface RollbackRequest {
  env: string;
  kind: RollbackKind;
  /** Backup name; absent = the default target (newest older than live, not bad). */
  to?: string;
  reason: string;
  /** "manual" or the policy trigger that fired (e.g. "error_rate"). */
  trigger: string;
  /** Explanation recorded in history and the incident report (auto-rollbacks: value vs threshold vs baseline). */
  explanation?: string;
  dryRun?: boolean;
  breakLock?: boolean;
  signal?: AbortSignal;
  /**
   * The release that was live when the rollback was decided (the monitor: before its grace countdown).
   * When set, the engine refuses (exit 1, code LIVE_CHANGED, nothing done, nothing recorded) if the live
   * release is anything else, checked when planning and again under the lock, so it never rolls back
   * a release an operator put live in the meantime. null: nothing recognisable was live.
   */
  expectFrom?: string | null;
  /**
   * The target the operator confirmed, with whether it was marked bad then (the CLI's prompt pins the
   * plan it showed: expectFrom and expectTo). When set, the engine refuses (exit 1, code PLAN_CHANGED,
   * nothing done, nothing recorded) if the plan now goes elsewhere, or its target was marked bad since;
   * checked when planning and again under the lock.
   */
  expectTo?: { name: string; bad: boolean };
  /**
   * Emergency only, after the operator was told what protection is lost and confirmed: when the
   * state_dir cannot be written (full or read-only disk), roll back without the lock and the journal, and
   * keep the record on the operator's side until the state_dir can take it.
   */
  withoutStateDir?: boolean;
}

export interface TargetInfo {
  name: string;
  created: string;
  knownGood: boolean;
  bad: boolean;
}

export interface RollbackPlan {
  env: string;
  kind: RollbackKind;
  from: string | null;
  to: TargetInfo;
  steps: PlannedStep[];
  /** Non-fatal things the operator must see in the preview ("target is marked bad"). */
  warnings: string[];
  /** Fatal problems: a plan with problems is not valid (dry run exits 1). */
  problems: string[];
}

export interface StepResult {
  name: StepName;
  status: Exclude<StepStatus, 'running'>;
  ms: number;
  error?: string;
}

export interface RollbackResult {
  ok: boolean;
  env: string;
  kind: RollbackKind;
  dry_run: boolean;
  from: string | null;
  to: string;
  steps: StepResult[];
  verification: Verification;
  duration_ms: number;
  exit_code: number;
  /** Path of the incident report (real rollbacks). */
  incident_report?: string;
  error?: string;
  /** What to do next, with `error` (not in the rollback --json document). */
  hint?: string;
  /** Non-fatal problems seen during the run (not in the rollback --json document). */
  warnings?: string[];
  /** The history entry id (real rollbacks). */
  id?: string;
  /** Machine-readable reason of a refusal or failure, e.g. "LIVE_CHANGED", "LOCK_HELD" (not in the rollback --json document). */
  code?: string;
  /** An emergency that ran without the lock and journal because the state_dir could not be written. */
  unguarded?: boolean;
  /** The rollback happened but its record could not be written to the state_dir: why, and where it is kept. */
  record_kept?: { error: string; kept_in: string | null };
}

export type EngineEvent =
  | { type: 'plan'; plan: RollbackPlan }
  | { type: 'step-start'; step: StepName; title: string; at: number }
  | { type: 'step-output'; step: StepName; line: string; stream: 'stdout' | 'stderr' }
  | { type: 'step-end'; step: StepName; status: StepResult['status']; ms: number; error?: string }
  | { type: 'warning'; message: string }
  | { type: 'result'; result: RollbackResult };

export interface InitiatedBy {
  user: string;
  host: string;
  /** From SSH_CLIENT / SSH_CONNECTION. */
  ssh_client?: string;
  sudo_user?: string;
}

/** One line of state_dir/history.jsonl (the documented fields, plus `explanation` and `incident_report`). */
export interface HistoryEntry {
  id: string;
  timestamp: string;
  env: string;
  /** Rollback kinds, plus operator actions recorded in the same log. */
  kind: RollbackKind | 'lock_broken' | 'automation_paused' | 'automation_resumed' | 'escalation';
  trigger: string;
  from: string | null;
  to: string | null;
  reason: string;
  initiated_by: string;
  initiated_by_detail?: InitiatedBy;
  success: boolean;
  verification: Verification;
  duration_ms: number;
  steps: StepResult[];
  error: string | null;
  explanation?: string;
  incident_report?: string;
  /** The host of a fleet, for a fleet rollback's entry (one per host, all with the operation's `id`). */
  host?: string;
}
