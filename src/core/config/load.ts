/**
 * Loading the configuration: reading the file (found by find.ts), parsing, interpolating and
 * validating it, and resolving one environment. Every problem is reported as one line
 * `file:line:col: key.path: what was expected`.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isMap, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigError, UserError, ExitCode } from '../errors.js';
import { quoteName } from '../stores/names.js';
import { findConfigFile, type LoadOptions } from './find.js';
import { interpolateDocument, unsetVariableMessage, type Env, type Removal } from './interpolate.js';
import { fleetFindings } from './fleet-keys.js';
import { describeIssues, suggest, type Problem } from './issues.js';
import { deepMerge, isPlainObject } from './merge.js';
import { formatKeyPath, sameOrUnder, SourceMap, type KeyPath, type Position } from './positions.js';
import {
  ConfigSchema,
  PolicySchema,
  type Config,
  type EnvironmentConfig,
  type LoadedConfig,
  type Policy,
  type ResolvedEnvironment,
} from './schema.js';

/** The `disabled` key for a variable unset under rollback_policy: it takes every environment out. */
const ALL_ENVIRONMENTS = '*';

export { findConfigFile, SEARCH_PLACES, type LoadOptions } from './find.js';

/** A configuration error that lists each problem (one line each) for `config check --json`. */
export class ConfigProblemsError extends ConfigError {
  constructor(
    readonly file: string,
    readonly problems: string[],
    readonly warnings: string[],
    hint: string,
  ) {
    super(problems.join('\n'), hint);
    this.name = 'ConfigProblemsError';
  }
}

const HINT_FIX = (file: string) =>
  `fix the keys named above in ${file}; \`rollback-tui config schema\` lists every key and docs/CONFIG.md explains them`;

// ---------------------------------------------------------------------------------------------------
// loading

export async function loadConfig(opts: LoadOptions = {}): Promise<LoadedConfig> {
  const env = opts.env ?? process.env;
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const found = await findConfigFile({ ...opts, env, cwd });
  let text: string;
  try {
    text = await readFile(found.filepath, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${found.filepath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the file permissions, or pass another file with --config FILE', err);
  }
  return parseConfigText(text, { filepath: found.filepath, env, cwd, packageProp: found.packageProp });
}

export interface ParseOptions {
  /** Absolute path of the file the text came from (null: not from a file). */
  filepath: string | null;
  env?: Env;
  /** Paths in messages are shown relative to this when the file is below it. */
  cwd?: string;
  /** Take the `rollback` key of a package.json. */
  packageProp?: boolean;
}

export function displayPath(filepath: string | null, cwd: string = process.cwd()): string {
  if (filepath === null) return '<config>';
  const rel = path.relative(cwd, filepath);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : filepath;
}

/** Parses, interpolates and validates configuration text. Throws only ConfigError. */
export function parseConfigText(text: string, opts: ParseOptions): LoadedConfig {
  const env = opts.env ?? process.env;
  const file = displayPath(opts.filepath, opts.cwd);
  const warnings: string[] = [];
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const posOf = (offset: number | undefined): string => {
    if (offset === undefined) return file;
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    // The first syntax error is the cause; the parser's later ones usually follow from it.
    const [first] = doc.errors;
    const more = doc.errors.length - 1;
    const problems = first ? [`${posOf(first.pos[0])}: invalid YAML: ${firstLine(first.message)}${more > 0 ? ` (and ${more} more error${more === 1 ? '' : 's'} after it)` : ''}`] : [];
    throw new ConfigProblemsError(file, problems, warnings, `fix the YAML at the line shown (indent with spaces, quote values that contain ": " or " #")`);
  }
  for (const w of doc.warnings) warnings.push(`${posOf(w.pos[0])}: ${firstLine(w.message)}`);

  let root: Node | null = doc.contents as Node | null;
  if (opts.packageProp && isMap(root)) root = (root.get('rollback', true) as Node | undefined) ?? null;
  const rootIsEmpty = root === null || (isScalarNull(root));
  if (rootIsEmpty) {
    warnings.push(`${file}: the configuration is empty: built-in defaults, no environments`);
  } else if (!isMap(root)) {
    throw new ConfigProblemsError(file, [`${posOf(root?.range?.[0])}: (top level): expected a mapping with rollback_policy: and environments:, got ${describeNode(root)}`], warnings, HINT_FIX(file));
  }
  const map = new SourceMap(doc, lineCounter, rootIsEmpty ? null : root);

  const { removals, problems: interpolationProblems } = interpolateDocument(rootIsEmpty ? null : root, env);
  // An unset variable: a notification channel goes quiet; any other key takes its environment (under
  // rollback_policy: every environment) out of service until it is set. The load itself never fails
  // for it (a missing secret must not stop the other environments), but nothing runs on an environment
  // that lacks a key it was written with.
  // No prototype: an environment named like an Object property (`constructor`, `__proto__`) is looked up
  // as data, never found on the prototype chain.
  const disabled: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const r of removals) {
    if (r.silent) continue;
    const at = posOf(r.node.range?.[0]);
    if (!r.kept) {
      warnings.push(`${at}: ${unsetWarning(r)}`);
      continue;
    }
    const scope = r.path[0] === 'environments' && typeof r.path[1] === 'string' ? r.path[1] : ALL_ENVIRONMENTS;
    const why = `${at}: ${formatKeyPath(r.path)}: ${unsetVariableMessage(r.variables, env)}`;
    disabled[scope] ??= why;
    warnings.push(`${why}; ${scope === ALL_ENVIRONMENTS ? 'every environment is' : `environment ${scope} is`} disabled until it is set`);
  }
  // Malformed references. Their values are left as written; validation problems at (or under) those
  // keys follow from them and are not repeated.
  const found: LocatedProblem[] = interpolationProblems.map((p) => ({
    pos: p.node.range ? lineCounter.linePos(p.node.range[0]) : undefined,
    text: `${formatKeyPath(p.path)}: ${p.message}`,
  }));
  const report = (p: Problem): void => {
    if (!interpolationProblems.some((ip) => sameOrUnder(p.path, ip.path))) found.push(locateProblem(p, map, removals, lineCounter));
  };
  const fail = (extra: string[] = []): never => {
    found.sort((a, b) => (a.pos?.line ?? 0) - (b.pos?.line ?? 0) || (a.pos?.col ?? 0) - (b.pos?.col ?? 0));
    const lines = [...new Set(found.map((f) => `${f.pos ? `${file}:${f.pos.line}:${f.pos.col}` : file}: ${f.text}`))];
    throw new ConfigProblemsError(file, [...lines, ...extra], warnings, HINT_FIX(file));
  };

  let data: unknown = {};
  if (!rootIsEmpty && root) {
    try {
      data = root.toJS(doc, { maxAliasCount: 100 }) as unknown;
    } catch (err) {
      fail([`${file}: invalid YAML: ${firstLine((err as Error).message)}`]);
    }
  }

  let { parsed, problems } = validate(data);
  // A value kept as written because its variable is unset may not fit its key (a number, a URL). Its
  // environment is disabled anyway: leave that environment out of what is validated (under
  // rollback_policy, leave the key out: its default applies until the variable is set).
  const kept = removals.filter((r) => r.kept);
  const keptAt = (p: Problem): Removal | undefined => kept.find((k) => sameOrUnder(p.path, k.path));
  if (problems.length > 0 && problems.every((p) => keptAt(p)) && isPlainObject(data)) {
    for (const p of problems) {
      const k = keptAt(p)!.path;
      if (k[0] === 'environments' && typeof k[1] === 'string' && isPlainObject(data.environments)) delete data.environments[k[1]];
      else deleteAt(data, k);
    }
    ({ parsed, problems } = validate(data));
  }
  for (const p of problems) report(p);
  if (found.length > 0) fail();
  for (const w of fleetFindings(data).warnings) {
    const at = locateProblem(w, map, removals, lineCounter);
    warnings.push(`${at.pos ? `${file}:${at.pos.line}:${at.pos.col}` : file}: ${at.text}`);
  }
  if (!parsed.success) throw new ConfigProblemsError(file, [`${file}: invalid configuration`], warnings, HINT_FIX(file));

  return {
    config: parsed.data,
    filepath: opts.filepath,
    warnings,
    disabled,
    locate: (p: KeyPath) => {
      const loc = map.locate(p);
      return loc ? { file, line: loc.pos.line, col: loc.pos.col, exact: loc.exact } : undefined;
    },
  };
}

/** The schema's verdict on the data, with every problem, the per-environment policy overrides included. */
function validate(data: unknown): { parsed: ReturnType<typeof ConfigSchema.safeParse>; problems: Problem[] } {
  const parsed = ConfigSchema.safeParse(data);
  // The fleet rules (unique host names, placeholders only where they are taken) on a schema-valid file.
  const problems = parsed.success ? fleetFindings(data).problems : describeIssues(parsed.error.issues, ConfigSchema, data);
  // The schema's record drops a `__proto__` key without a word; it is no valid environment name either.
  if (isPlainObject(data) && isPlainObject(data.environments) && Object.hasOwn(data.environments, '__proto__')) {
    problems.push({ path: ['environments', '__proto__'], message: 'invalid name "__proto__": use letters, digits, "_", "." and "-", starting with a letter or digit', at: 'key' });
  }
  // Per-environment policy overrides: merged over rollback_policy and validated as a whole policy.
  if (isPlainObject(data)) {
    const basePolicy = data.rollback_policy ?? {};
    const envs = data.environments;
    if (PolicySchema.safeParse(basePolicy).success && isPlainObject(envs)) {
      for (const [name, envRaw] of Object.entries(envs)) {
        if (!isPlainObject(envRaw) || !isPlainObject(envRaw.policy)) continue;
        problems.push(...policyProblems(basePolicy, envRaw.policy, name));
      }
    }
  }
  return { parsed, problems };
}

/** Remove the key at `path` from plain data (a no-op when it is not there). */
function deleteAt(data: unknown, path: KeyPath): void {
  let node: unknown = data;
  for (const k of path.slice(0, -1)) node = isPlainObject(node) || Array.isArray(node) ? (node as Record<PropertyKey, unknown>)[k as never] : undefined;
  const last = path[path.length - 1];
  if (isPlainObject(node) && last !== undefined) delete node[last as string];
}

interface LocatedProblem {
  pos: Position | undefined;
  text: string;
}

function locateProblem(p: Problem, map: SourceMap, removals: readonly Removal[], lineCounter: LineCounter): LocatedProblem {
  let loc = map.locate(p.path, p.at);
  // An environment policy problem in a key inherited from rollback_policy: point at rollback_policy.
  if (loc && !loc.exact && p.path[0] === 'environments' && p.path[2] === 'policy') {
    const inherited = map.locate(['rollback_policy', ...p.path.slice(3)], p.at);
    if (inherited?.exact) loc = inherited;
  }
  let text = `${formatKeyPath(p.path)}: ${p.message}`;
  const removed = removals.find((r) => sameOrUnder(p.path, r.path));
  // The key was taken out by interpolation: point at where it was written.
  const removedAt = removed?.node.range?.[0];
  if (removed && removedAt !== undefined && !loc?.exact) loc = { pos: lineCounter.linePos(removedAt), exact: true };
  if (removed?.silent) {
    text += ` (its value came out empty from an empty default, so ${formatKeyPath(removed.path)} was removed)`;
  } else if (removed?.kept) {
    text += ` (${unsetVariableMessage(removed.variables, {})})`;
  } else if (removed) {
    const v = removed.variables[0] ?? 'NAME';
    text += ` (${removed.variables.join(', ')} ${removed.variables.length > 1 ? 'are' : 'is'} unset, so ${formatKeyPath(removed.path)} was removed: set ${v} or give a default, \${${v}:-value})`;
  }
  return { pos: loc?.pos, text };
}

function policyProblems(base: unknown, override: Record<string, unknown>, envName: string): Problem[] {
  const merged = deepMerge(base, override);
  const r = PolicySchema.safeParse(merged);
  if (r.success) return [];
  return describeIssues(r.error.issues, PolicySchema, merged).map((p) => ({ ...p, path: ['environments', envName, 'policy', ...p.path] }));
}

/** What switching off a notification key means (the only keys an unset variable may remove). */
const FEATURES: Record<string, string> = {
  slack_webhook: 'Slack notifications are off',
  email: 'email notifications are off',
  command: 'the notification command is not run',
  ceo_alert: 'notifications are not marked critical',
};

function unsetWarning(r: Removal): string {
  const vars = r.variables.join(', ');
  const last = r.path[r.path.length - 1];
  const feature = typeof last === 'string' ? FEATURES[last] : undefined;
  const v = r.variables[0] ?? 'NAME';
  return `${vars} ${r.variables.length > 1 ? 'are' : 'is'} unset: ${formatKeyPath(r.path)} disabled${feature ? ` (${feature})` : ''}; set ${v} or write \${${v}:-value} to enable it`;
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? s).trim();
}

function isScalarNull(node: Node): boolean {
  return 'value' in node && (node as { value: unknown }).value === null && !isMap(node);
}

function describeNode(node: Node | null): string {
  if (node === null) return 'nothing';
  if ('items' in node) return 'a list';
  const v = (node as { value?: unknown }).value;
  return typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `${typeof v} ${String(v)}`;
}

// ---------------------------------------------------------------------------------------------------
// environments

/**
 * The value stored under `name` itself: a name such as `__proto__`, `constructor` or `toString` is an
 * environment name like any other, never a property inherited from Object.prototype.
 */
function ownEntry<T>(table: Readonly<Record<string, T>> | undefined, name: string): T | undefined {
  return table !== undefined && Object.hasOwn(table, name) ? table[name] : undefined;
}

/** Names of the environments taken out of service by an unset variable (not the every-environment key). */
function disabledNames(loaded: LoadedConfig): string[] {
  return Object.keys(loaded.disabled ?? {}).filter((n) => n !== ALL_ENVIRONMENTS);
}

/** Why an environment is out of service (a key it needs uses an unset variable), or null. */
export function disabledReason(loaded: LoadedConfig, name: string): string | null {
  if (!environmentNames(loaded).includes(name)) return null;
  return ownEntry(loaded.disabled, name) ?? ownEntry(loaded.disabled, ALL_ENVIRONMENTS) ?? null;
}

/** Names of the environments, sorted. */
export function environmentNames(loaded: LoadedConfig): string[] {
  return [...new Set([...Object.keys(loaded.config.environments), ...disabledNames(loaded)])].sort();
}

function unknownEnvironment(name: string, known: string[]): UserError {
  const near = suggest(name, known);
  const list = known.length > 0 ? known.join(', ') : 'none: the configuration has no environments: section';
  return new UserError(`unknown environment ${quoteName(name)}${near ? ` (did you mean "${near}"?)` : ''}; known environments: ${list}`, {
    exitCode: ExitCode.USAGE,
    code: 'UNKNOWN_ENV',
    hint: known.length > 0 ? `--env ${near ?? known[0]}` : 'add the environment under environments: in the configuration',
  });
}

/**
 * One environment with its policy overrides merged over `rollback_policy` (validated as a whole),
 * local paths made absolute (relative to the config file) and `state_dir` defaulted.
 */
export function resolveEnvironment(loaded: LoadedConfig, name: string): ResolvedEnvironment {
  const envCfg: EnvironmentConfig | undefined = ownEntry(loaded.config.environments, name);
  const off = disabledReason(loaded, name);
  if (off) {
    throw new ConfigError(`environment ${name} is disabled: ${off}`, 'set the variable in the environment that runs rollback-tui, or give it a default in the config');
  }
  if (!envCfg) throw unknownEnvironment(name, environmentNames(loaded));

  const policy = resolvePolicy(loaded, name, envCfg);
  const baseDir = loaded.filepath ? path.dirname(loaded.filepath) : process.cwd();
  const local = envCfg.executor.type === 'local';
  const p = local ? path : path.posix;
  const abs = (x: string): string => (local ? resolveLocalPath(x, baseDir) : x);

  const { policy: _ignored, ...rest } = envCfg;
  const target = { ...envCfg.target };
  if (target.strategy === 'git') {
    target.repo = abs(target.repo);
    if (target.backups_dir) target.backups_dir = abs(target.backups_dir);
  } else if (target.strategy === 'container') {
    // Container releases live in the engine: no path to resolve.
  } else if (target.strategy === 'symlink' && target.layout && target.deploy_to) {
    // A deploy tool's layout: releases/ and current under deploy_to; this tool's state beside them.
    target.deploy_to = abs(target.deploy_to);
    target.backups_dir = p.join(target.deploy_to, 'releases');
    target.current = p.join(target.deploy_to, 'current');
  } else {
    target.backups_dir = abs(target.backups_dir ?? '');
    if (target.strategy === 'symlink') {
      target.current = abs(target.current ?? '');
      if (target.config_link) target.config_link = { ...target.config_link, source: abs(target.config_link.source) };
    } else {
      target.files = target.files.map(abs);
    }
  }
  const executor =
    envCfg.executor.type === 'ssh'
      ? {
          ...envCfg.executor,
          ...(envCfg.executor.identity_file ? { identity_file: resolveLocalPath(envCfg.executor.identity_file, baseDir) } : {}),
          ...(envCfg.executor.ssh_config ? { ssh_config: resolveLocalPath(envCfg.executor.ssh_config, baseDir) } : {}),
          ...(envCfg.executor.hosts
            ? {
                hosts: envCfg.executor.hosts.map((h) =>
                  typeof h !== 'string' && h.identity_file ? { ...h, identity_file: resolveLocalPath(h.identity_file, baseDir) } : h,
                ),
              }
            : {}),
        }
      : envCfg.executor;
  let stateDir: string;
  if (envCfg.state_dir) stateDir = abs(envCfg.state_dir);
  else if (target.strategy === 'git') stateDir = p.join(target.repo, '.rollback');
  else if (target.strategy === 'symlink' && target.layout && target.deploy_to) stateDir = p.join(target.deploy_to, '.rollback-tui');
  else if (target.strategy === 'container') stateDir = p.join(CONTAINER_STATE_ROOT, target.name);
  else stateDir = p.join(target.backups_dir ?? '', '.rollback');
  const logs = envCfg.logs && local && envCfg.logs.file ? { ...envCfg.logs, file: abs(envCfg.logs.file) } : envCfg.logs;

  return { ...rest, name, executor, target, ...(logs ? { logs } : {}), policy, state_dir: stateDir };
}

/** Where container environments keep their state by default (on the target host): `<root>/<name>`. */
export const CONTAINER_STATE_ROOT = '/var/lib/rollback-tui';

function resolveLocalPath(x: string, baseDir: string): string {
  if (x === '~') return os.homedir();
  if (x.startsWith('~/')) return path.join(os.homedir(), x.slice(2));
  return path.resolve(baseDir, x);
}

function resolvePolicy(loaded: LoadedConfig, name: string, envCfg: EnvironmentConfig): Policy {
  if (!envCfg.policy) return PolicySchema.parse(loaded.config.rollback_policy);
  const merged = deepMerge(loaded.config.rollback_policy as unknown, envCfg.policy);
  const r = PolicySchema.safeParse(merged);
  if (r.success) return r.data;
  const file = loaded.filepath ? displayPath(loaded.filepath) : '<config>';
  const lines = describeIssues(r.error.issues, PolicySchema, merged).map((p) => {
    const full: KeyPath = ['environments', name, 'policy', ...p.path];
    let loc = loaded.locate?.(full);
    if (!loc?.exact) {
      const inherited = loaded.locate?.(['rollback_policy', ...p.path]);
      if (inherited?.exact) loc = inherited;
    }
    return `${loc ? `${loc.file}:${loc.line}:${loc.col}` : file}: ${formatKeyPath(full)}: ${p.message}`;
  });
  throw new ConfigProblemsError(file, lines, loaded.warnings, HINT_FIX(file));
}

export type { Config };
