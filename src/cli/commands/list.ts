/**
 * `rollback-tui list --env NAME [--json] [--sizes]`: backups newest first, with the live one, known-good
 * and bad ones marked (actions/list.ts, loaded when the command runs).
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';
import type { ListOptions } from '../actions/list.js';

export function registerList(program: Command, ctx: CliContext): void {
  program
    .command('list')
    .description('backups, newest first, current / known-good / bad marked')
    .option('--env <name>', 'the environment')
    .option('--json', 'print a JSON array on stdout')
    .option('--sizes', 'compute sizes (du; can be slow on large releases)')
    .option('--hosts <names>', 'a fleet: only these hosts (names from executor.hosts, comma-separated)')
    .addHelpText(
      'after',
      examples(
        ['rollback-tui list --env prod', 'a table of prod backups'],
        ['rollback-tui list --env prod --sizes', 'with sizes'],
        ['rollback-tui list --env prod --json | jq -r ".[0].name"', 'the newest backup, for scripts'],
        ['rollback-tui list --env web --hosts app-1,app-2', 'a fleet: the backups of two hosts, and where each is'],
      ),
    )
    .action(async (opts: ListOptions) => {
      await ctx.prepareEnv(opts);
      await (await import('../actions/list.js')).runList(ctx, opts);
    });
}
