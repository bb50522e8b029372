/**
 * `rollback-tui snapshot --env NAME [--json]`: take a backup of what is live now, under the
 * environment's lock (actions/snapshot.ts, loaded when the command runs).
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';

export interface SnapshotOptions {
  env?: string;
  json?: boolean;
  hosts?: string;
}

export function registerSnapshot(program: Command, ctx: CliContext): void {
  program
    .command('snapshot')
    .description('take a backup of what is live now')
    .option('--env <name>', 'the environment')
    .option('--json', 'print the new backup as a JSON object (the list entry shape; a fleet: {ok, env, hosts, excluded, exit_code})')
    .option('--hosts <names>', 'a fleet: only these hosts (names from executor.hosts, comma-separated)')
    .addHelpText(
      'after',
      examples(
        ['rollback-tui snapshot --env prod', 'back up the live release before a deploy'],
        ['rollback-tui snapshot --env prod --json', 'the new backup, for scripts'],
      ),
    )
    .action(async (opts: SnapshotOptions) => {
      await ctx.prepareEnv(opts);
      await (await import('../actions/snapshot.js')).runSnapshot(ctx, opts);
    });
}
