/**
 * The one place that wires an environment's config to an executor, its state directory, marks and backup
 * store. Engine, monitor, console and CLI all open environments through here and close them when done
 * (closing ends the SSH master connection).
 */
import type { ExecutorConfig, ResolvedEnvironment } from './config/schema.js';
import { UsageError } from './errors.js';
import { createExecutor, SshExecutor } from './exec/index.js';
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

export interface OpenEnvironmentOptions {
  executor?: Executor;
  /**
   * For commands that do not handle signals themselves (list, verify, ...): on SIGINT/SIGTERM while the
   * handle is open, close it and exit 128+n, so a killed run leaves no SSH master or control directory
   * behind. Not while other code listens for that signal too (rollback finishing its step, the monitor,
   * the console): that code stops and closes the handle itself.
   */
  closeOnSignal?: boolean;
}

const GUARDED_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const guarded = new Set<EnvironmentHandle>();

function onSignal(sig: NodeJS.Signals): void {
  if (process.listenerCount(sig) > 1) return;
  const handles = [...guarded];
  void Promise.allSettled(handles.map((h) => h.close())).then(() => process.exit(128 + (sig === 'SIGINT' ? 2 : 15)));
}

function guard(handle: EnvironmentHandle, on: boolean): void {
  const had = guarded.size > 0;
  if (on) guarded.add(handle);
  else guarded.delete(handle);
  if (had === guarded.size > 0) return;
  // A second signal while closing finds no listener and ends the process at once.
  for (const s of GUARDED_SIGNALS) {
    if (on) process.on(s, onSignal);
    else process.off(s, onSignal);
  }
}

/**
 * The executor of a one-host environment. A fleet (`executor.hosts`) has one per host: it is opened
 * host by host through src/core/fleet, never as a whole, so a command that works on one host refuses it.
 */
export function singleHostExecutor(env: ResolvedEnvironment): ExecutorConfig {
  const ex = env.executor;
  if (ex.type === 'local' && ex.hosts === undefined) return { type: 'local' };
  if (ex.type === 'ssh' && ex.hosts === undefined && ex.host !== undefined) {
    const { hosts: _hosts, host, ...rest } = ex;
    return { ...rest, host };
  }
  throw new UsageError(
    `environment ${env.name} is a fleet of ${ex.hosts?.length ?? 0} hosts (executor.hosts): this command works on one host at a time`,
    '`list` and `verify` take a fleet (with --hosts to pick hosts); for this command use an environment with one executor host: and the same paths',
  );
}

export function openEnvironment(env: ResolvedEnvironment, options: OpenEnvironmentOptions = {}): EnvironmentHandle {
  const executor = options.executor ?? createExecutor(singleHostExecutor(env));
  // The SSH handshake runs while the caller builds its stores, engine or screen; the first call waits for it.
  if (!options.executor && executor instanceof SshExecutor) executor.connect();
  const state = new StateDir(executor, env.state_dir);
  const marks = new MarkStore(state);
  const store = createStore(env, executor, marks);
  const handle: EnvironmentHandle = {
    env,
    executor,
    state,
    marks,
    store,
    close: () => {
      guard(handle, false);
      return executor.close();
    },
  };
  if (options.closeOnSignal && executor.kind === 'ssh') guard(handle, true);
  return handle;
}
