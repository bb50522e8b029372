/** The one place an executor is chosen from config. */
import type { ExecutorConfig } from '../config/schema.js';
import { LocalExecutor } from './local.js';
import { SshExecutor } from './ssh.js';
import type { Executor } from './types.js';

export function createExecutor(cfg: ExecutorConfig = { type: 'local' }): Executor {
  return cfg.type === 'ssh' ? new SshExecutor(cfg) : new LocalExecutor();
}

export { LocalExecutor } from './local.js';
export { SshExecutor, transportReason } from './ssh.js';
export { TransportError } from './errors.js';
export { ExecAbortedError, DEFAULT_MAX_OUTPUT_BYTES } from './run.js';
export { shQuote, shJoin } from './quote.js';
export type { Executor, ExecOptions, ExecResult } from './types.js';
