/**
 * What `rollback-tui verify` runs (commands/verify.ts registers it), a verify-only run: can this environment be rolled
 * back right now? Exit 0 naming the default target (the newest usable backup older than the live one, not
 * marked bad, that passes validation), or 1 with the reason (a damaged marks.json is one). With --json
 * an unreachable host is also answered as a document with ok false and the transport message.
 */
import { pickDefaultTarget, reportInterrupted } from '../../core/engine/index.js';
import { noTargetReason } from '../../core/engine/plan.js';
import { ExitCode, isUserError } from '../../core/errors.js';
import type { Backup } from '../../core/stores/types.js';
import type { VerifyOptions } from '../commands/verify.js';
import type { CliContext } from '../context.js';
import { displayName } from '../../core/stores/names.js';
import { isFleet, parseHostsOption, selectHosts } from '../../core/fleet/index.js';
import { fleetVerify } from './fleet-view.js';

export interface VerifyResult {
  ok: boolean;
  env: string;
  target: string | null;
  reason: string | null;
  live: string | null;
}

/** The `--json` document: a "no" also carries `error` (the reason) and `exit_code`, like every failure. */
function verifyJson(result: VerifyResult, exitCode: number): Record<string, unknown> {
  return result.ok ? { ...result } : { ...result, error: result.reason ?? 'cannot be rolled back', exit_code: exitCode };
}

export async function runVerify(ctx: CliContext, opts: VerifyOptions): Promise<void> {
  const { env } = await ctx.resolveEnv(opts);
  const hosts = parseHostsOption(opts.hosts);
  if (isFleet(env)) return fleetVerify(ctx, env, { ...opts, hosts });
  if (hosts) selectHosts(env, hosts);
  const handle = await ctx.openEnvironment(env, { closeOnSignal: true });
  const result: VerifyResult = { ok: false, env: env.name, target: null, reason: null, live: null };
  let failCode: number = ExitCode.FAILED;
  try {
    // Both only read: one round trip's latency, not two.
    const [, backups] = await Promise.all([reportInterrupted(handle, (m) => ctx.warn(m)), handle.store.list()]);
    result.live = backups.find((b) => b.current)?.name ?? null;
    const where = 'backups_dir' in env.target && env.target.backups_dir ? env.target.backups_dir : env.target.strategy;
    let target: Backup | null = null;
    try {
      target = pickDefaultTarget(backups, result.live);
      if (!target && backups.length === 0) result.reason = `no backups for ${env.name} in ${where} (${handle.executor.description})`;
      else if (!target) result.reason = noTargetReason(backups, result.live === null ? null : displayName(result.live), where);
    } catch (err) {
      if (!isUserError(err)) throw err;
      result.reason = err.message; // marks.json is damaged: the message names the file and the fix
    }
    if (target) {
      result.target = target.name;
      try {
        await handle.store.validateTarget(target.name);
        result.ok = true;
      } catch (err) {
        if (!isUserError(err) || err.code === 'TRANSPORT') throw err;
        result.reason = err.message;
        failCode = err.exitCode; // 3 when a deploy tool's lock is held
      }
    }
  } catch (err) {
    // Unreachable host, unreadable state dir: still a "no" a script can read. `--json` answers with
    // the reason; without it the error is printed as any other (message and fix, exit code).
    if (!opts.json || !isUserError(err)) throw err;
    result.ok = false;
    result.reason = err.hint ? `${err.message}; ${err.hint}` : err.message;
    failCode = err.exitCode;
  } finally {
    await handle.close();
  }
  if (opts.json) ctx.json(verifyJson(result, failCode));
  else if (result.ok) {
    ctx.out(`✓ ${env.name} can be rolled back: ${result.live ? `${displayName(result.live)} -> ` : ''}${displayName(result.target ?? '')}`);
  } else {
    ctx.stderr.write(`✗ ${env.name} cannot be rolled back: ${result.reason ?? 'unknown'}\n`);
  }
  if (!result.ok) ctx.exitCode = failCode;
}
