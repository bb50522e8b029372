/**
 * Verification of a restored release: poll the health checks until all pass or
 * `health_check_timeout_seconds` runs out, then require them to keep passing for `stability_seconds`
 * (a crash shortly after start is a failure). The only waiting is the poll interval
 * (`policy.rollback.poll_interval_seconds`), cut short by an abort.
 */
import type { HealthCheckConfig, RollbackSettings } from '../config/schema.js';
import type { Executor } from '../exec/types.js';
import { redactSecrets } from '../config/redact.js';
import { runHealthChecks, type HealthCheckResult } from '../health/checks.js';

/**
 * The command a message names for "is the live release healthy now?". Not `verify`: that answers whether
 * the environment can be rolled back. `monitor --once` runs the health checks and probes once, prints
 * the live release as up or DOWN with its metrics, and rolls nothing back.
 */
export function healthCheckCommand(env: string): string {
  return `\`rollback-tui monitor --env ${env} --once\``;
}

export interface VerifyOutcome {
  /** passed: healthy and stable; timeout: never all healthy in time; unstable: failed during the stability window. */
  outcome: 'passed' | 'timeout' | 'unstable' | 'aborted' | 'no_checks';
  ok: boolean;
  rounds: number;
  ms: number;
  /** The last round's results. */
  last: HealthCheckResult[];
  /** One line: what happened and what failed. */
  message: string;
}

export interface VerifyOptions {
  executor: Executor;
  settings: Pick<RollbackSettings, 'health_check_timeout_seconds' | 'stability_seconds' | 'poll_interval_seconds'>;
  signal?: AbortSignal;
  /** Called with a progress line per notable change (first pass, each failing round's summary). */
  onProgress?: (line: string) => void;
}

/** Wait `ms`, or less if the signal aborts. Never rejects. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function failing(results: HealthCheckResult[]): string {
  return results
    .filter((r) => !r.ok)
    .map((r) => `${r.name}: ${r.error ?? 'failed'}`)
    .join('; ');
}

export async function verifyRelease(checks: readonly HealthCheckConfig[], options: VerifyOptions): Promise<VerifyOutcome> {
  const started = Date.now();
  const { settings, signal } = options;
  // Progress lines name the failing checks, and a check's name is its command (curl -H "X-Api-Key: ...").
  const progress = (line: string): void => options.onProgress?.(redactSecrets(line));
  if (checks.length === 0) {
    return { outcome: 'no_checks', ok: false, rounds: 0, ms: 0, last: [], message: 'no health checks are configured' };
  }
  const pollMs = Math.max(10, settings.poll_interval_seconds * 1000);
  const deadline = started + settings.health_check_timeout_seconds * 1000;
  let rounds = 0;
  let last: HealthCheckResult[] = [];
  let lastSummary = '';
  const end = (outcome: VerifyOutcome['outcome'], message: string): VerifyOutcome => ({
    outcome,
    ok: outcome === 'passed',
    rounds,
    ms: Date.now() - started,
    last,
    message: redactSecrets(message),
  });

  // Phase 1: until all pass.
  for (;;) {
    if (signal?.aborted) return end('aborted', 'verification interrupted');
    const roundStart = Date.now();
    last = await runHealthChecks(checks, { executor: options.executor, signal });
    rounds++;
    if (signal?.aborted) return end('aborted', 'verification interrupted');
    if (last.every((r) => r.ok)) break;
    const summary = failing(last);
    if (summary !== lastSummary) {
      progress(`not healthy yet: ${summary}`);
      lastSummary = summary;
    }
    if (Date.now() >= deadline) {
      return end('timeout', `not healthy within ${settings.health_check_timeout_seconds}s: ${summary}`);
    }
    await pause(Math.min(pollMs - (Date.now() - roundStart), deadline - Date.now()), signal);
  }
  const healthyAfter = Date.now() - started;
  progress(`healthy after ${healthyAfter} ms (${last.map((r) => `${r.name} ${r.latencyMs} ms`).join(', ')})`);

  // Phase 2: keep passing for stability_seconds.
  const stableUntil = Date.now() + settings.stability_seconds * 1000;
  if (settings.stability_seconds > 0) progress(`watching stability for ${settings.stability_seconds}s`);
  while (Date.now() < stableUntil) {
    await pause(Math.min(pollMs, Math.max(0, stableUntil - Date.now())), signal);
    if (signal?.aborted) return end('aborted', 'verification interrupted');
    last = await runHealthChecks(checks, { executor: options.executor, signal });
    rounds++;
    if (signal?.aborted) return end('aborted', 'verification interrupted');
    if (!last.every((r) => r.ok)) {
      const t = ((Date.now() - started - healthyAfter) / 1000).toFixed(1);
      return end('unstable', `healthy, then failed ${t}s later within the ${settings.stability_seconds}s stability window: ${failing(last)}`);
    }
  }
  return end('passed', `healthy after ${healthyAfter} ms and stable for ${settings.stability_seconds}s`);
}
