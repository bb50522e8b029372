/**
 * What `rollback-tui config check | show | schema` run (commands/config.ts registers them): validate the
 * configuration, print it resolved with secrets redacted, print its JSON Schema.
 */
import { stringify } from 'yaml';
import { ConfigError } from '../../core/errors.js';
import { disabledReason, environmentNames, resolveEnvironment, ConfigProblemsError } from '../../core/config/load.js';
import { configJsonSchema } from '../../core/config/jsonschema.js';
import { redactConfig } from '../../core/config/redact.js';
import type { CliContext } from '../context.js';

/** YAML as `config show` prints it (no line folding, so commands and URLs stay on one line). */
export function yamlText(value: unknown): string {
  return stringify(value, { lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false });
}

export async function runConfigCheck(ctx: CliContext, opts: { json?: boolean }): Promise<void> {
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
}

export async function runConfigShow(ctx: CliContext, opts: { json?: boolean }): Promise<void> {
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
}

export function runConfigSchema(ctx: CliContext): void {
  ctx.json(configJsonSchema());
}
