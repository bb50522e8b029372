/**
 * The one place that wires an environment's config to an executor, its state directory, marks and backup
 * store. Engine, monitor, console and CLI all open environments through here and close them when done
 * (closing ends the SSH master connection).
 */
import type { ResolvedEnvironment } from './config/schema.js';
import { createExecutor } from './exec/index.js';
import type { Executor } from './exec/types.js';
import { MarkStore } from './state/marks.js';
import { StateDir } from './state/state-dir.js';
import { createStore } from './stores/index.js';
import type { BackupStore } from './stores/types.js';

export interface EnvironmentHandle {
  env: ResolvedEnvironment;
  executor: Executor;
  state: StateDir;
  marks: MarkStore;
  store: BackupStore;
  /** Close the executor (SSH master connection, control directory). Idempotent. */
  close(): Promise<void>;
}

export function openEnvironment(env: ResolvedEnvironment, options: { executor?: Executor } = {}): EnvironmentHandle {
  const executor = options.executor ?? createExecutor(env.executor);
  const state = new StateDir(executor, env.state_dir);
  const marks = new MarkStore(state);
  const store = createStore(env, executor, marks);
  return { env, executor, state, marks, store, close: () => executor.close() };
}
