/**
 * `${NAME}` and `${NAME:-default}` interpolation on the string scalars of a parsed YAML document,
 * before validation. `$${` writes a literal `${`. A variable that is unset (or empty) with no default
 * removes the key that uses it and the loader disables the feature it belongs to, with a warning: a
 * notification channel goes quiet; any other key (a service command, a user, a health check) takes the
 * whole environment out of service, since running it without that key would change what a rollback
 * does. A literal `${...}` never survives: a malformed reference is a configuration error.
 */
import { isAlias, isMap, isScalar, isSeq, Scalar, type Node } from 'yaml';
import { keyString, type KeyPath } from './positions.js';

export type Env = Record<string, string | undefined>;

export type InterpolationResult =
  | { kind: 'ok'; value: string; changed: boolean }
  | { kind: 'unset'; variables: string[] }
  | { kind: 'error'; message: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
/**
 * How deep defaults may nest (`${A:-${B:-x}}` is two levels). Real configurations use two or three; the
 * bound keeps a hostile or generated value from exhausting the stack.
 */
export const MAX_REFERENCE_NESTING = 10;
/** How much of a malformed value an error message quotes. */
const QUOTED_CHARS = 80;

class Malformed extends Error {}

/** Interpolates one string. Exposed for tests and for other modules that take templated strings. */
export function interpolateString(input: string, env: Env): InterpolationResult {
  if (!input.includes('${')) return { kind: 'ok', value: input, changed: false };
  const unset = new Set<string>();
  try {
    const { out, end } = parse(input, 0, 0, env, unset);
    if (end !== input.length) throw new Malformed(`unexpected "}" at offset ${end}`);
    if (unset.size > 0) return { kind: 'unset', variables: [...unset] };
    return { kind: 'ok', value: out, changed: out !== input };
  } catch (err) {
    if (!(err instanceof Malformed)) throw err;
    return {
      kind: 'error',
      message: `malformed variable reference in ${quoted(input)}: ${err.message} (write \${NAME} or \${NAME:-default}; $\${ gives a literal \${)`,
    };
  }
}

function quoted(input: string): string {
  return JSON.stringify(input.length > QUOTED_CHARS ? `${input.slice(0, QUOTED_CHARS)}…` : input);
}

/** `depth`: how many defaults enclose `start` (0 at the top of the value). */
function parse(s: string, start: number, depth: number, env: Env, unset: Set<string>): { out: string; end: number } {
  const inDefault = depth > 0;
  let out = '';
  let i = start;
  while (i < s.length) {
    if (s.startsWith('$${', i)) {
      out += '${';
      i += 3;
    } else if (s.startsWith('${', i)) {
      const name = NAME.exec(s.slice(i + 2))?.[0];
      if (!name) throw new Malformed(`"\${" must be followed by a variable name`);
      let j = i + 2 + name.length;
      const value = env[name];
      const isSet = value !== undefined && value !== '';
      if (s[j] === '}') {
        if (isSet) out += value;
        else unset.add(name);
        i = j + 1;
      } else if (s.startsWith(':-', j)) {
        // The default is only evaluated (and its own variables only count) when it is used.
        if (depth >= MAX_REFERENCE_NESTING) {
          throw new Malformed(`references are nested more than ${MAX_REFERENCE_NESTING} levels deep (\${A:-\${B:-...}}); use fewer levels`);
        }
        const inner = new Set<string>();
        const dflt = parse(s, j + 2, depth + 1, env, inner);
        j = dflt.end;
        if (s[j] !== '}') throw new Malformed(`"\${${name}:-" is not closed with "}"`);
        if (isSet) out += value;
        else {
          out += dflt.out;
          for (const v of inner) unset.add(v);
        }
        i = j + 1;
      } else if (j >= s.length) {
        throw new Malformed(`"\${${name}" is not closed with "}"`);
      } else {
        throw new Malformed(`unexpected ${JSON.stringify(s[j])} after "\${${name}"`);
      }
    } else if (inDefault && s[i] === '}') {
      return { out, end: i };
    } else {
      out += s[i];
      i += 1;
    }
  }
  return { out, end: i };
}

export interface Removal {
  path: KeyPath;
  /** The unset variables; empty when the value came out empty from an explicit `${NAME:-}`. */
  variables: string[];
  node: Node;
  /** Left out on purpose (an empty default): no warning. */
  silent: boolean;
  /**
   * Not removed: an unset variable outside the notification channels. The value stays as written so
   * the rest validates, and the loader disables its environment, so the literal is never used.
   */
  kept: boolean;
}

export interface InterpolationProblem {
  path: KeyPath;
  message: string;
  node: Node;
}

/**
 * Keys that an unset variable switches off alone: the notification channels of `rollback_policy` and of
 * an environment's `policy:` override. Any other key takes its environment (or, under rollback_policy,
 * every environment) out of service until the variable is set.
 */
export function isOptionalWhenUnset(path: KeyPath): boolean {
  const [first, name, second, third] = path.map(String);
  if (first === 'rollback_policy') return name === 'notifications';
  return first === 'environments' && name !== undefined && second === 'policy' && third === 'notifications';
}

/** `${A} is unset and has no default; export A or write ${A:-default}`. */
export function unsetVariableMessage(variables: readonly string[], env: Env): string {
  const refs = variables.map((v) => `\${${v}}`).join(', ');
  const state = variables.every((v) => env[v] === '') ? 'empty' : 'unset';
  const plural = variables.length > 1;
  const first = variables[0] ?? 'NAME';
  return `${refs} ${plural ? 'are' : 'is'} ${state} and ${plural ? 'have' : 'has'} no default; export ${variables.join(' and ')} or write \${${first}:-default}`;
}

const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * Interpolates every string scalar under `root` in place. Keys whose value uses an unset variable are
 * reported in `removals`: notification channels are removed, any other key is kept as written (`kept`:
 * the loader disables its environment). A value that comes out empty from an explicit empty default
 * (`${NAME:-}`) is removed silently, anywhere (sequence items too). An unquoted
 * scalar that becomes a number or a boolean (`port: ${SSH_PORT:-22}`) takes that type, as if it had
 * been written so.
 */
export function interpolateDocument(root: Node | null, env: Env): { removals: Removal[]; problems: InterpolationProblem[] } {
  const removals: Removal[] = [];
  const problems: InterpolationProblem[] = [];
  const seen = new Set<Node>();

  const visit = (node: unknown, path: KeyPath): 'remove' | undefined => {
    if (isAlias(node) || node === null || typeof node !== 'object') return undefined;
    if (seen.has(node as Node)) return undefined;
    seen.add(node as Node);
    if (isScalar(node)) {
      if (typeof node.value !== 'string') return undefined;
      const r = interpolateString(node.value, env);
      if (r.kind === 'error') {
        problems.push({ path, message: r.message, node });
        return undefined;
      }
      if (r.kind === 'unset') {
        const kept = !isOptionalWhenUnset(path);
        removals.push({ path, variables: r.variables, node, silent: false, kept });
        return kept ? undefined : 'remove';
      }
      if (r.changed && r.value === '') {
        removals.push({ path, variables: [], node, silent: true, kept: false });
        return 'remove';
      }
      if (r.changed) {
        if (node.type === Scalar.PLAIN && NUMBER.test(r.value)) node.value = Number(r.value);
        else if (node.type === Scalar.PLAIN && (r.value === 'true' || r.value === 'false')) node.value = r.value === 'true';
        else node.value = r.value;
      }
      return undefined;
    }
    if (isMap(node)) {
      node.items = node.items.filter((pair) => {
        const key = keyString(pair.key);
        if (key === undefined) return true;
        return visit(pair.value, [...path, key]) !== 'remove';
      });
      return undefined;
    }
    if (isSeq(node)) {
      const keep = node.items.map((item, i) => visit(item, [...path, i]) !== 'remove');
      node.items = node.items.filter((_, i) => keep[i]);
      return undefined;
    }
    return undefined;
  };

  visit(root, []);
  return { removals, problems };
}
