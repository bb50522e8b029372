/**
 * Turns zod issues into one readable problem each: the key path, what was expected, what was found,
 * and for an unknown key or a misspelt value the nearest known one ("did you mean ...?").
 */
import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import type { KeyPath } from './positions.js';

export interface Problem {
  path: KeyPath;
  /** Without the key path or position: those are added by the loader. */
  message: string;
  /** Point at the key rather than its value (unknown keys). */
  at: 'key' | 'value';
}

type Issue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

interface LooseDef {
  type: string;
  shape?: Record<string, AnySchema>;
  innerType?: AnySchema;
  in?: AnySchema;
  valueType?: AnySchema;
  element?: AnySchema;
  options?: AnySchema[];
  discriminator?: string;
  values?: unknown[];
}

function def(s: AnySchema): LooseDef {
  return s._zod.def as unknown as LooseDef;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional', 'lazy']);

function unwrap(s: AnySchema): AnySchema {
  let cur = s;
  for (let i = 0; i < 20; i++) {
    const d = def(cur);
    if (WRAPPERS.has(d.type) && d.innerType) cur = d.innerType;
    else if (d.type === 'pipe' && d.in) cur = d.in;
    else break;
  }
  return cur;
}

/** The object schemas a value at `path` may be validated by (unions pick by discriminator when they can). */
function schemasAt(schema: AnySchema, path: KeyPath, data: unknown): AnySchema[] {
  let current: AnySchema[] = expand(schema, data);
  let value = data;
  for (const seg of path) {
    value = child(value, seg);
    const next: AnySchema[] = [];
    for (const s of current) {
      const d = def(s);
      if (d.type === 'object' && d.shape) {
        const sub = d.shape[String(seg)];
        if (sub) next.push(...expand(sub, value));
      } else if (d.type === 'record' && d.valueType) next.push(...expand(d.valueType, value));
      else if (d.type === 'array' && d.element) next.push(...expand(d.element, value));
    }
    current = next;
  }
  return current;
}

function expand(s: AnySchema, value: unknown): AnySchema[] {
  const u = unwrap(s);
  const d = def(u);
  if (d.type !== 'union' || !d.options) return [u];
  let options = d.options;
  if (d.discriminator && isRecord(value)) {
    const disc = value[d.discriminator];
    const match = options.filter((o) => literalValues(o, d.discriminator as string).includes(disc));
    if (match.length > 0) options = match;
  }
  return options.flatMap((o) => expand(o, value));
}

function literalValues(s: AnySchema, key: string): unknown[] {
  const d = def(unwrap(s));
  const sub = d.shape?.[key];
  if (!sub) return [];
  const sd = def(unwrap(sub));
  return sd.values ?? [];
}

/** The one key of each union option when every option is an object with a single, distinct key. */
function kindKeys(options: readonly AnySchema[]): string[] | undefined {
  if (options.length < 2) return undefined;
  const keys: string[] = [];
  for (const o of options) {
    const d = def(o);
    const shapeKeys = d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
    if (shapeKeys.length !== 1 || keys.includes(shapeKeys[0] as string)) return undefined;
    keys.push(shapeKeys[0] as string);
  }
  return keys;
}

/** Keys an object at `path` may have. */
export function knownKeysAt(schema: AnySchema, path: KeyPath, data: unknown): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(schema, path, data)) {
    const d = def(s);
    if (d.type === 'object' && d.shape) for (const k of Object.keys(d.shape)) keys.add(k);
  }
  return [...keys];
}

/** The nearest candidate to a misspelt word, if it is near enough to be a likely typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0 || word === '') return undefined;
  const best = closest(word, candidates as string[]);
  const d = distance(word.toLowerCase(), best.toLowerCase());
  const limit = Math.max(2, Math.floor(best.length / 3));
  return d <= limit ? best : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function child(v: unknown, seg: PropertyKey): unknown {
  if (Array.isArray(v) && typeof seg === 'number') return v[seg];
  if (isRecord(v)) return v[String(seg)];
  return undefined;
}

export function valueAt(data: unknown, path: KeyPath): unknown {
  let v = data;
  for (const seg of path) v = child(v, seg);
  return v;
}

/** `"abc"`, `5`, `a list`, `a mapping`, `nothing`. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null (an empty value)';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

function expectedType(expected: string): string {
  switch (expected) {
    case 'object':
      return 'a mapping (key: value lines)';
    case 'array':
      return 'a list';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'int':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    default:
      return expected;
  }
}

function fmtList(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? `"${v}"` : String(v))).join(' | ');
}

function oneOfWithSuggestion(values: readonly unknown[], got: unknown): string {
  let msg = `expected one of ${fmtList(values)}, got ${describeValue(got)}`;
  if (typeof got === 'string') {
    const near = suggest(got, values.filter((v): v is string => typeof v === 'string'));
    if (near) msg += `; did you mean "${near}"?`;
  }
  return msg;
}

/** One problem per issue (an unknown-keys issue gives one per key). */
export function describeIssues(issues: readonly Issue[], schema: AnySchema, data: unknown, base: KeyPath = []): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) out.push(...describeIssue(issue, schema, data, base));
  return out;
}

function describeIssue(issue: Issue, schema: AnySchema, data: unknown, base: KeyPath): Problem[] {
  const path: KeyPath = [...base, ...(issue.path as PropertyKey[])];
  const value = valueAt(data, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, path, data);
      return issue.keys.map((key) => {
        const near = suggest(key, known.filter((k) => k !== key));
        let message = `unknown key "${key}"`;
        if (near) message += `; did you mean "${near}"?`;
        else if (known.length > 0) message += `; expected one of: ${known.join(', ')}`;
        return { path: [...path, key], message, at: 'key' as const };
      });
    }
    case 'invalid_type': {
      if (value === undefined) {
        return [{ path, message: `required key is missing (expected ${expectedType(issue.expected)})`, at: 'value' }];
      }
      return [{ path, message: `expected ${expectedType(issue.expected)}, got ${describeValue(value)}`, at: 'value' }];
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const limit = small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum;
      const inclusive = issue.inclusive !== false;
      let expected: string;
      if (issue.origin === 'string') {
        expected = small && Number(limit) === 1 ? 'a non-empty string' : `a string of ${small ? 'at least' : 'at most'} ${String(limit)} characters`;
      } else if (issue.origin === 'array' || issue.origin === 'set') {
        expected = `${small ? 'at least' : 'at most'} ${String(limit)} item${Number(limit) === 1 ? '' : 's'}`;
      } else {
        const op = small ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
        expected = `a number ${op} ${String(limit)}`;
      }
      return [{ path, message: `expected ${expected}, got ${describeValue(value)}`, at: 'value' }];
    }
    case 'invalid_value':
      return [{ path, message: oneOfWithSuggestion(issue.values, value), at: 'value' }];
    case 'invalid_format': {
      const what = issue.format === 'url' ? 'a URL (e.g. http://127.0.0.1:8080/health)' : issue.format === 'regex' ? `text matching ${(issue as { pattern?: string }).pattern ?? 'the pattern'}` : `a valid ${issue.format}`;
      return [{ path, message: `expected ${what}, got ${describeValue(value)}`, at: 'value' }];
    }
    case 'invalid_key': {
      const key = String((issue as { key?: unknown }).key ?? issue.path[issue.path.length - 1] ?? '');
      const keyPath = issue.path.length > 0 && String(issue.path[issue.path.length - 1]) === key ? path : [...path, key];
      return [{ path: keyPath, message: `invalid name "${key}": use letters, digits, "_", "." and "-", starting with a letter or digit`, at: 'key' }];
    }
    case 'invalid_union':
      return describeUnion(issue, schema, data, path, value);
    case 'custom':
      return [{ path, message: issue.message, at: 'value' }];
    default:
      return [{ path, message: issue.message, at: 'value' }];
  }
}

function describeUnion(issue: z.core.$ZodIssueInvalidUnion, schema: AnySchema, data: unknown, path: KeyPath, value: unknown): Problem[] {
  const disc = (issue as { discriminator?: string }).discriminator;
  const options = (issue as { options?: unknown[] }).options;
  if (issue.errors.length === 0 && disc && options) {
    // No matching discriminator: the path already ends with the discriminator key.
    if (value === undefined) return [{ path, message: `required key is missing (expected ${fmtList(options)})`, at: 'value' }];
    return [{ path, message: oneOfWithSuggestion(options, value), at: 'value' }];
  }
  if (issue.errors.length === 0) return [{ path, message: issue.message, at: 'value' }];

  // Forms told apart by a single key each (a health check: http, tcp or command).
  // (No kind key at all but other keys: those are reported as unknown keys below.)
  const kinds = kindKeys(schemasAt(schema, path, data));
  if (kinds && kinds.length === issue.errors.length && isRecord(value)) {
    const present = kinds.filter((k) => k in value);
    const one = `exactly one of ${kinds.join(', ')}`;
    if (present.length > 1) {
      return [{ path, message: `this item has ${present.length} kinds (${present.join(', ')}) but must have ${one}: split it into one list item per kind`, at: 'value' }];
    }
    if (present.length === 1) return describeIssues(issue.errors[kinds.indexOf(present[0] as string)] ?? [], schema, data, path);
    if (Object.keys(value).length === 0) return [{ path, message: `expected ${one}, got an empty mapping`, at: 'value' }];
  }

  const scored = issue.errors.map((branch) => {
    const rootMismatch = branch.some((i) => i.path.length === 0 && (i.code === 'unrecognized_keys' || i.code === 'invalid_type'));
    const depth = Math.max(0, ...branch.map((i) => i.path.length));
    return { branch, score: (rootMismatch ? 0 : 100) + depth };
  });
  const best = Math.max(...scored.map((s) => s.score));
  const winners = scored.filter((s) => s.score === best);
  if (winners.length === 1 && winners[0]) return describeIssues(winners[0].branch, schema, data, path);

  // No branch stands out. Several forms that are all mappings: name the keys each form is known by.
  if (isRecord(value)) {
    const known = knownKeysAt(schema, path, data);
    const unknown = Object.keys(value).filter((k) => !known.includes(k));
    if (unknown.length > 0) {
      return unknown.map((key) => {
        const near = suggest(key, known);
        return {
          path: [...path, key],
          message: `unknown key "${key}"; ${near ? `did you mean "${near}"?` : `expected one of: ${known.join(', ')}`}`,
          at: 'key' as const,
        };
      });
    }
  }
  const expected = issue.errors
    .map((branch) => branch.find((i) => i.path.length === 0 && i.code === 'invalid_type'))
    .filter((i): i is z.core.$ZodIssueInvalidType => i !== undefined)
    .map((i) => expectedType(i.expected));
  if (expected.length === issue.errors.length) {
    return [{ path, message: `expected ${[...new Set(expected)].join(' or ')}, got ${describeValue(value)}`, at: 'value' }];
  }
  const first = winners[0];
  return first ? describeIssues(first.branch, schema, data, path) : [{ path, message: issue.message, at: 'value' }];
}
