/** What the console shows of the environment it watches, and how it words an error in one line. */
import type { ResolvedEnvironment } from '../core/config/schema.js';
import { isUserError } from '../core/errors.js';
import type { EnvInfo } from './state/types.js';

/** Names that mark a production-like environment, which stands out in the header. */
const PROD_NAMES = /^(prod|production|prd|live)([-_.].*)?$/i;

export function envInfoOf(env: ResolvedEnvironment): EnvInfo {
  const host =
    env.executor.type === 'ssh'
      ? `${env.executor.user ? `${env.executor.user}@` : ''}${env.executor.host}${env.executor.port ? `:${env.executor.port}` : ''}`
      : 'local';
  return {
    name: env.name,
    host,
    confirm: env.confirm,
    isProd: PROD_NAMES.test(env.name) || env.confirm === 'type-name',
    strategy: env.target.strategy,
    automationEnabled: env.policy.enabled,
    graceSeconds: env.policy.rollback.grace_seconds,
  };
}

/** An error as one line for the events pane: a user error with its hint, else its message. */
export function errorMessage(err: unknown): string {
  if (isUserError(err)) return err.hint ? `${err.message} (try: ${err.hint})` : err.message;
  return err instanceof Error ? err.message : String(err);
}
