/**
 * `rollback-tui config check | show | schema`: validate the configuration, print it resolved with
 * secrets redacted, print its JSON Schema.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { disabledReason, environmentNames, resolveEnvironment, ConfigProblemsError } from '../../core/config/load.js';
import { configJsonSchema } from '../../core/config/jsonschema.js';
import { redactConfig } from '../../core/config/redact.js';
import type { CliContext } from '../context.js';
import { examples, yamlText } from '../output.js';

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
      try {
        const loaded = await ctx.loadConfig();
        const names = environmentNames(loaded);
        // Each environment resolves (policy overrides merged and validated, paths and state_dir). One
        // disabled by an unset variable is valid configuration, named in the warnings and here.
        const disabled = names.filter((n) => disabledReason(loaded, n) !== null);
        for (const name of names) if (!disabled.includes(name)) resolveEnvironment(loaded, name);
        if (opts.json) {
          ctx.json({ ok: true, file: loaded.filepath, warnings: loaded.warnings, environments: names, ...(disabled.length > 0 ? { disabled } : {}) });
        } else {
          const label = (n: string): string => (disabled.includes(n) ? `${n} (disabled)` : n);
          const envs = names.length > 0 ? `${names.length} environment${names.length === 1 ? '' : 's'}: ${names.map(label).join(', ')}` : 'no environments';
          ctx.out(`${ctx.color.green('ok')} ${loaded.filepath ?? '(built-in defaults)'} (${envs}${loaded.warnings.length > 0 ? `; ${loaded.warnings.length} warning${loaded.warnings.length === 1 ? '' : 's'}` : ''})`);
        }
      } catch (err) {
        if (opts.json && err instanceof ConfigError) {
          const problems = err instanceof ConfigProblemsError ? err.problems : [err.message];
          ctx.json({
            ok: false,
            error: err.message,
            exit_code: err.exitCode,
            file: err instanceof ConfigProblemsError ? err.file : null,
            errors: problems,
            warnings: err instanceof ConfigProblemsError ? err.warnings : [],
            environments: [],
          });
        }
        throw err;
      }
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
      const loaded = await ctx.loadConfig();
      const name = ctx.envName();
      let value: unknown;
      if (name !== undefined) {
        value = resolveEnvironment(loaded, name);
      } else {
        const environments: Record<string, unknown> = {};
        for (const n of environmentNames(loaded)) {
          const off = disabledReason(loaded, n);
          if (off) {
            environments[n] = { disabled: off };
            continue;
          }
          const { name: _n, ...rest } = resolveEnvironment(loaded, n);
          environments[n] = rest;
        }
        value = { ...loaded.config, environments };
      }
      const redacted = redactConfig(value);
      if (opts.json) ctx.json(redacted);
      else ctx.stdout.write(yamlText(redacted));
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
    .action(() => {
      ctx.json(configJsonSchema());
    });
}
