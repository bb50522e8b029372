/**
 * The rollback engine: builds a plan (plan.ts) and runs it on one host's handle as a list of phases,
 * emitting EngineEvents (the plan, step start/end with timings, live output lines, warnings, the result)
 * to a listener:
 *
 *   planning    read-only; a dry run ends here                           (preflight.ts)
 *   preflight   lock, journal, validate                                   (preflight.ts)
 *   change      maintenance on, stop, switch, start                       (change.ts)
 *   verify      health checks, maintenance off                            (verify-phase.ts)
 *   record      marks, history, incident report, notification             (record.ts)
 *   release     the lock                                                  (record.ts)
 *
 * Safety rules:
 * - The lock is taken first and always released (unless this process dies: then the journal and the
 *   lock tell the next command what happened).
 * - The journal is written before anything changes and updated as each step starts and ends (steps
 *   that change nothing on the host are folded into the next write), so an interruption report knows
 *   whether the service may be down.
 * - With `expectFrom` (the monitor, the console) and `expectTo` (the CLI's confirmation), the plan is
 *   checked against what was decided or confirmed when planning and again under the lock: if live
 *   moved or the target changed, nothing is done.
 * - The switch is never interrupted: an abort is only acted on between steps.
 * - An abort (SIGINT/SIGTERM through `req.signal`) finishes the running step, then undoes what it safely
 *   can: before the switch, a stopped service is started again on the unchanged release; after the
 *   switch, the service is started on the new release if it was not yet; verification stops at once.
 *   The outcome is recorded and the lock released; the result is a failure (exit 1).
 */
import type { ResolvedEnvironment } from '../config/schema.js';
import { change } from './change.js';
import { currentIdentity, formatIdentity } from './identity.js';
import { readInterrupted, type InterruptedReport } from './journal.js';
import { EnvLock, type LockOwner } from './lock.js';
import { Notifier } from './notify.js';
import { buildPlan, pickDefaultTarget, type BuiltPlan } from './plan.js';
import { planning, preflight } from './preflight.js';
import { record, release } from './record.js';
import { converge, type ConvergeOutcome } from './fleet-host.js';
import { Run, type EngineHandle, type HeldLock, type RunSettings } from './run.js';
import type { Backup } from '../stores/types.js';
import type { EngineEvent, InitiatedBy, RollbackRequest, RollbackResult } from './types.js';
import { verify } from './verify-phase.js';

export type { EngineHandle, HeldLock } from './run.js';

export interface EngineOptions {
  /** Tool version, written into the lock owner. */
  version?: string;
  /** Notifications; default: one built from the environment's policy.notifications. */
  notifier?: Notifier;
  identity?: InitiatedBy;
  /** Lock refresh interval override (tests). */
  lockRefreshMs?: number;
}

/** One run, phase by phase. Every path ends in the one result of Run.finish(). */
async function execute(run: Run): Promise<RollbackResult> {
  if (!(await planning(run))) return run.finish();
  if (await preflight(run)) {
    await change(run);
    await verify(run);
  }
  run.noteInterruption();
  await record(run);
  await release(run);
  return run.finish();
}

export class RollbackEngine {
  readonly notifier: Notifier;
  private readonly settings: RunSettings;

  constructor(
    readonly handle: EngineHandle,
    options: EngineOptions = {},
  ) {
    this.notifier = options.notifier ?? new Notifier(handle.env.policy.notifications);
    const identity = options.identity ?? currentIdentity();
    this.settings = {
      notifier: this.notifier,
      identity,
      who: formatIdentity(identity),
      version: options.version ?? '0.0.0',
      lockRefreshMs: options.lockRefreshMs,
    };
  }

  get env(): ResolvedEnvironment {
    return this.handle.env;
  }

  /** Build (and, for dry runs, validate) the plan without changing anything. */
  plan(req: RollbackRequest): Promise<BuiltPlan> {
    return buildPlan(
      { env: this.env, store: this.handle.store, notifyChannels: this.notifier.channelNames, signal: req.signal },
      req,
      { validate: true },
    );
  }

  /** The default target: newest backup older than the live one, not marked bad. */
  async defaultTarget(): Promise<Backup | null> {
    const backups = await this.handle.store.list();
    return pickDefaultTarget(backups, backups.find((b) => b.current)?.name ?? (await this.handle.store.live()));
  }

  lockOwner(): Promise<LockOwner | null> {
    return EnvLock.owner(this.handle.state, this.env.name);
  }

  interrupted(): Promise<InterruptedReport | null> {
    return readInterrupted(this.handle.state, this.env.name, () => this.handle.store.live());
  }

  /** Run the request. Never throws for an operational failure: the result carries exit_code and error. */
  async run(req: RollbackRequest, onEvent: (e: EngineEvent) => void = () => {}): Promise<RollbackResult> {
    activeRuns++;
    try {
      return await execute(new Run(this.handle, req, this.settings, onEvent));
    } finally {
      activeRuns--;
    }
  }

  /**
   * One host of a fleet rollback: the run uses the fleet's lock on this host and its operation id, and
   * leaves the lock to the fleet. `live` given: the host is already on the target (converge instead).
   */
  async runHeld(req: RollbackRequest, held: HeldLock, onEvent: (e: EngineEvent) => void = () => {}, onTarget?: { live: string }): Promise<ConvergeOutcome> {
    activeRuns++;
    try {
      const run = new Run(this.handle, req, this.settings, onEvent, held);
      if (onTarget) return await converge(run, onTarget.live);
      return { skipped: false, result: await execute(run) };
    } finally {
      activeRuns--;
    }
  }
}

let activeRuns = 0;

/**
 * Whether a rollback runs in this process now. The launcher asks before it exits on a closed stdout
 * pipe (`rollback ... | tee log` whose tee died with the SSH session): exiting then would leave the
 * service half-switched; the run finishes and its later output is dropped instead.
 */
export function rollbackInProgress(): boolean {
  return activeRuns > 0;
}
