/**
 * The console's one-host side effects on the engine and the state directory: each reads or runs, then
 * dispatches what came of it (a plan, an incident report, a run's events). The controller decides when;
 * these say how, so the controller stays the wiring and a fleet's counterparts live in fleet-run.ts.
 */
import type { EngineHandle, RollbackEngine } from '../core/engine/engine.js';
import { errorMessage as message } from './environment.js';
import type { Action, RollbackDialog, RunRequest } from './state/types.js';

type Dispatch = (action: Action) => void;
type Engine = Pick<RollbackEngine, 'plan' | 'run'>;

/**
 * The plan of the rollback dialog just opened, tagged with the dialog's request id: if the operator has
 * meanwhile backed out and opened another dialog, the reducer drops it, and the preview stays on the
 * request that will run.
 */
export async function loadEnginePlan(engine: Engine, env: string, d: RollbackDialog, dispatch: Dispatch): Promise<void> {
  const { requestId } = d;
  try {
    const plan = await engine.plan({ env, kind: d.kind, ...(d.target !== undefined ? { to: d.target } : {}), reason: '', trigger: 'manual', dryRun: true });
    const { backups: _b, target: _t, ...rest } = plan;
    dispatch({ type: 'dialog/plan', plan: rest, requestId });
  } catch (err) {
    dispatch({ type: 'dialog/planError', message: message(err), requestId });
  }
}

/** An incident report, read only from inside the state directory (a forged history line cannot point elsewhere). */
export async function loadIncidentReport(handle: EngineHandle, file: string, dispatch: Dispatch): Promise<void> {
  const root = handle.state.root;
  const rel = file.startsWith(`${root}/`) ? file.slice(root.length + 1) : null;
  try {
    if (rel === null) throw new Error(`${file} is outside the state directory`);
    const text = await handle.state.read(rel);
    dispatch({ type: 'dialog/report', report: text, error: text === null ? `${file} no longer exists` : null });
  } catch (err) {
    dispatch({ type: 'dialog/report', report: null, error: `cannot read ${file}: ${message(err)}` });
  }
}

/** One host's rollback through its engine, its progress dispatched as it happens. */
export async function runOnEngine(engine: Engine, env: string, req: RunRequest, signal: AbortSignal, dispatch: Dispatch): Promise<void> {
  dispatch({ type: 'engine/started', kind: req.kind, dryRun: req.dryRun, auto: false, trigger: 'manual', at: Date.now() });
  try {
    await engine.run(
      {
        env,
        kind: req.kind,
        ...(req.target !== undefined ? { to: req.target } : {}),
        ...(req.expectFrom !== undefined ? { expectFrom: req.expectFrom } : {}),
        reason: req.reason,
        trigger: 'manual',
        dryRun: req.dryRun,
        signal,
      },
      (event) => dispatch({ type: 'engine/event', event, at: Date.now() }),
    );
  } catch (err) {
    dispatch({ type: 'engine/failed', message: `rollback failed: ${message(err)}`, at: Date.now() });
  }
}
