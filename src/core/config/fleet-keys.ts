/**
 * The configuration rules of fleets (an environment with `executor.hosts`) that a schema cannot say:
 * host names unique within the fleet, ssh-only keys kept off a local fleet, and the `{host}` / `{name}`
 * placeholders only in the keys that take them. Also the substitution of those placeholders, used when
 * a fleet is resolved into one environment per host.
 *
 * Placeholders are substituted in a fleet only: an environment with one `host:` stays exactly as
 * written, and a placeholder in it draws a warning rather than an error.
 */
import type { KeyPath } from './positions.js';
import type { Problem } from './issues.js';
import { isPlainObject } from './merge.js';

export type Placeholder = 'host' | 'name';
export interface PlaceholderValues {
  /** The host as written in `hosts:` (for an ssh alias, the HostName `ssh -G` resolves). */
  host: string;
  /** The host's name (default: the host as written). */
  name: string;
}

/** `{host}` or `{name}`, but not `${host}` (a shell variable written as `$${host}` in the file). */
const PLACEHOLDER = /(?<!\$)\{(host|name)\}/g;

/**
 * Keys (under an environment) whose strings may hold placeholders; `*` is any list index or map key.
 * Health checks, metrics, service and maintenance commands, target paths, the state directory and logs:
 * what differs from host to host.
 */
const PLACEHOLDER_KEYS: readonly (readonly string[])[] = [
  ['health', '*', 'http', 'url'],
  ['health', '*', 'tcp', 'host'],
  ['health', '*', 'command'],
  ['health', '*', 'command', 'run'],
  ['metrics', 'url'],
  ['metrics', 'queries', '*'],
  ['metrics', 'command'],
  ['metrics', 'memory'],
  ['service', 'stop'],
  ['service', 'start'],
  ['maintenance', 'on'],
  ['maintenance', 'off'],
  ['target', 'backups_dir'],
  ['target', 'current'],
  ['target', 'repo'],
  ['target', 'files', '*'],
  ['target', 'validate', '*'],
  ['target', 'build', '*'],
  ['target', 'config_link', 'source'],
  ['state_dir'],
  ['logs', 'command'],
  ['logs', 'file'],
];

const TAKES = 'health URLs and commands, metrics url/queries/command/memory, service and maintenance commands, target paths, state_dir and logs';

function matches(pattern: readonly string[], path: KeyPath): boolean {
  return pattern.length === path.length && pattern.every((p, i) => p === '*' || p === String(path[i]));
}

/** Does the key at `path` (relative to an environment) take placeholders? */
export function takesPlaceholders(path: KeyPath): boolean {
  return PLACEHOLDER_KEYS.some((p) => matches(p, path));
}

/** The placeholders a string uses, in order of appearance, each once. */
export function placeholdersIn(text: string): Placeholder[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as Placeholder))];
}

export function substitutePlaceholders(text: string, values: PlaceholderValues): string {
  return text.replace(PLACEHOLDER, (_m, key: Placeholder) => values[key]);
}

/** Every string leaf under `value` with its path. */
function* strings(value: unknown, path: KeyPath = []): Generator<[KeyPath, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, [...path, i]);
  else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) yield* strings(v, [...path, k]);
}

/**
 * A copy of an environment (as resolved, or as written) with the placeholders substituted in the keys
 * that take them; every other key is kept as is.
 */
export function substituteEnvironment<T>(env: T, values: PlaceholderValues): T {
  const walk = (value: unknown, path: KeyPath): unknown => {
    if (typeof value === 'string') return takesPlaceholders(path) ? substitutePlaceholders(value, values) : value;
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]));
    if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k])]));
    return value;
  };
  return walk(env, []) as T;
}

interface FleetFindings {
  problems: Problem[];
  warnings: Problem[];
}

/** The fleet rules over the raw (schema-valid) data: problems fail the load, warnings are printed. */
export function fleetFindings(data: unknown): FleetFindings {
  const out: FleetFindings = { problems: [], warnings: [] };
  if (!isPlainObject(data) || !isPlainObject(data.environments)) return out;
  for (const [envName, env] of Object.entries(data.environments)) {
    if (!isPlainObject(env)) continue;
    const base: KeyPath = ['environments', envName];
    const executor = isPlainObject(env.executor) ? env.executor : {};
    const hosts = Array.isArray(executor.hosts) ? (executor.hosts as unknown[]) : undefined;
    if (hosts) out.problems.push(...hostProblems(hosts, executor.type === 'local', [...base, 'executor', 'hosts']));
    for (const [path, text] of strings(env)) {
      if (path[0] === 'description') continue;
      const used = placeholdersIn(text);
      if (used.length === 0) continue;
      const names = used.map((p) => `{${p}}`).join(' and ');
      if (!takesPlaceholders(path)) {
        out.problems.push({ path: [...base, ...path], message: `${names} is a placeholder, but this key does not take one (they work in ${TAKES})`, at: 'value' });
      } else if (!hosts) {
        out.warnings.push({ path: [...base, ...path], message: `${names} is substituted only in a fleet (executor.hosts); this environment has one host, so it stays as written`, at: 'value' });
      }
    }
  }
  return out;
}

function hostProblems(hosts: readonly unknown[], local: boolean, at: KeyPath): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  hosts.forEach((h, i) => {
    const entry = isPlainObject(h) ? h : { host: h };
    const name = String(entry.name ?? entry.host);
    const first = seen.get(name);
    if (first !== undefined) {
      problems.push({ path: [...at, i], message: `the host name "${name}" is already used by hosts[${first}]: give each host its own name (name: ...)`, at: 'value' });
    } else seen.set(name, i);
    if (local) {
      for (const key of ['port', 'user', 'identity_file'] as const) {
        if (entry[key] !== undefined) problems.push({ path: [...at, i, key], message: `${key} is for ssh hosts; a local fleet's hosts take host and name only`, at: 'key' });
      }
    }
  });
  return problems;
}
