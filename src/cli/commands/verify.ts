/**
 * `rollback-tui verify --env NAME [--json]`: can this environment be rolled back right now?
 * (actions/verify.ts, loaded when the command runs).
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';

export interface VerifyOptions {
  env?: string;
  json?: boolean;
  hosts?: string;
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
    .action(async (opts: VerifyOptions) => {
      await ctx.prepareEnv(opts);
      await (await import('../actions/verify.js')).runVerify(ctx, opts);
    });
}
