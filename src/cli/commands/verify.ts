/**
 * `rollback-tui verify --env NAME [--json]` (a verify-only run): can this environment be rolled
 * back right now? Exit 0 naming the default target (the newest usable backup older than the live one, not
 * marked bad, that passes validation), or 1 with the reason (a damaged marks.json is one). With --json
 * an unreachable host is also answered as a document with ok false and the transport message.
 */
import type { Command } from 'commander';
import { pickDefaultTarget, reportInterrupted } from '../../core/engine/index.js';
import { noTargetReason } from '../../core/engine/plan.js';
import { openEnvironment } from '../../core/environment.js';
import { isFleet, parseHostsOption, selectHosts } from '../../core/fleet/index.js';
import { ExitCode, isUserError } from '../../core/errors.js';
import type { Backup } from '../../core/stores/types.js';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';
import { displayName } from '../../core/stores/names.js';
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

export function registerVerify(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description('can this environment be rolled back right now? (exit 0 yes, 1 no, with the reason)')
    .option('--env <name>', 'the environment')
    .option('--json', 'print {ok, env, target, reason, live} on stdout (a fleet: also hosts, excluded; with error and exit_code when it cannot)')
    .option('--hosts <names>', 'a fleet: only these hosts (names from executor.hosts, comma-separated)')
    .addHelpText(
      'after',
      examples(
        ['rollback-tui verify --env prod', 'is there a valid backup to roll back to?'],
        ['rollback-tui verify --env prod --json && deploy.sh', 'gate a deploy on a working rollback path'],
        ['rollback-tui verify --env web', 'a fleet: every host reachable, one target on all, no lock held (exit 3 if one is)'],
      ),
    )
    .action(async (opts: { env?: string; json?: boolean; hosts?: string }) => {
      const { env } = await ctx.resolveEnv(opts);
      const hosts = parseHostsOption(opts.hosts);
      if (isFleet(env)) return fleetVerify(ctx, env, { ...opts, hosts });
      if (hosts) selectHosts(env, hosts);
      const handle = openEnvironment(env, { closeOnSignal: true });
      const result: VerifyResult = { ok: false, env: env.name, target: null, reason: null, live: null };
      let failCode: number = ExitCode.FAILED;
      try {
        await reportInterrupted(handle, (m) => ctx.warn(m));
        const backups = await handle.store.list();
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
    });
}
