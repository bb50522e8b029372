/**
 * `rollback-tui config check | show | schema`: validate the configuration, print it resolved with
 * secrets redacted, print its JSON Schema (actions/config.ts, loaded when a subcommand runs).
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';

export function registerConfig(program: Command, ctx: CliContext): void {
  const config = program
    .command('config')
    .description('validate / print (secrets redacted) / JSON Schema of the configuration')
    .addHelpText(
      'after',
      examples(
        ['rollback-tui config check', 'validate the configuration found from here'],
        ['rollback-tui config show --env prod', 'the prod environment with its merged policy'],
        ['rollback-tui config schema > rollback-config.schema.json', 'JSON Schema for editors'],
      ),
    );

  config
    .command('check')
    .description('validate the configuration: exit 0 when valid, 78 when not (warnings on stderr)')
    .option('--json', 'print {ok, file, warnings, environments} on stdout ({ok: false, error, exit_code, errors} when invalid)')
    .addHelpText(
      'after',
      examples(
        ['rollback-tui config check', 'the file found from the working directory'],
        ['rollback-tui config check --config rollback-config.yml', 'a given file'],
        ['ROLLBACK_CONFIG=/etc/rollback.yml rollback-tui config check --json', 'for scripts'],
      ),
    )
    .action(async (opts: { json?: boolean }) => {
      await (await import('../actions/config.js')).runConfigCheck(ctx, opts);
    });

  config
    .command('show')
    .description('print the configuration resolved (defaults filled, policies merged), secrets redacted')
    .option('--json', 'print JSON instead of YAML')
    .addHelpText(
      'after',
      examples(
        ['rollback-tui config show', 'everything, each environment resolved'],
        ['rollback-tui config show --env prod', 'one environment, as the rollback engine sees it'],
        ['rollback-tui config show --env prod --json', 'the same as JSON'],
      ),
    )
    .action(async (opts: { json?: boolean }) => {
      await (await import('../actions/config.js')).runConfigShow(ctx, opts);
    });

  config
    .command('schema')
    .description('print the JSON Schema of the configuration (for editors and validators)')
    .addHelpText(
      'after',
      examples(
        ['rollback-tui config schema > rollback-config.schema.json', 'then put this first line in rollback-config.yml:'],
        ['# yaml-language-server: $schema=./rollback-config.schema.json', 'editors complete and check every key'],
      ),
    )
    .action(async () => {
      (await import('../actions/config.js')).runConfigSchema(ctx);
    });
}
