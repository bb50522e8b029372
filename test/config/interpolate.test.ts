import { describe, expect, it } from 'vitest';
import { parseDocument, type Node } from 'yaml';
import { interpolateDocument, interpolateString } from '../../src/core/config/interpolate.js';

describe('interpolateString', () => {
  const env = { A: 'alpha', EMPTY: '', PORT: '8080' };

  it('replaces ${NAME} and leaves text without references alone', () => {
    expect(interpolateString('x-${A}-y', env)).toEqual({ kind: 'ok', value: 'x-alpha-y', changed: true });
    expect(interpolateString('plain $A text', env)).toEqual({ kind: 'ok', value: 'plain $A text', changed: false });
  });

  it('${NAME:-default} uses the default when unset or empty', () => {
    expect(interpolateString('${B:-beta}', env)).toMatchObject({ value: 'beta' });
    expect(interpolateString('${EMPTY:-fallback}', env)).toMatchObject({ value: 'fallback' });
    expect(interpolateString('${A:-unused}', env)).toMatchObject({ value: 'alpha' });
    expect(interpolateString('http://h:${P:-${PORT}}/x', env)).toMatchObject({ value: 'http://h:8080/x' });
    expect(interpolateString('${B:-${C:-deep}}', env)).toMatchObject({ value: 'deep' });
    expect(interpolateString('${B:-}', env)).toMatchObject({ kind: 'ok', value: '' });
  });

  it('reports every unset variable without a default, but not those in unused defaults', () => {
    expect(interpolateString('${X}/${Y}/${A}', env)).toEqual({ kind: 'unset', variables: ['X', 'Y'] });
    expect(interpolateString('${EMPTY}', env)).toEqual({ kind: 'unset', variables: ['EMPTY'] });
    expect(interpolateString('${A:-${NOPE}}', env)).toMatchObject({ kind: 'ok', value: 'alpha' });
    expect(interpolateString('${B:-${NOPE}}', env)).toEqual({ kind: 'unset', variables: ['NOPE'] });
  });

  it('$${ is a literal ${, also inside defaults', () => {
    expect(interpolateString('kill $${PID}', env)).toMatchObject({ value: 'kill ${PID}' });
    expect(interpolateString('${B:-$${X}}', env)).toMatchObject({ value: '${X}' });
  });

  it('malformed references are errors', () => {
    for (const bad of ['${', '${A', '${1}', '${A:-x', '${A!}', '${}']) {
      const r = interpolateString(bad, env);
      expect(r.kind, bad).toBe('error');
    }
  });
});

describe('interpolateDocument', () => {
  const text = 'rollback_policy:\n  notifications: { email: "${MAIL}" }\nenvironments:\n  prod:\n    service: { stop: "${STOP}", start: "${START:-}" }\n';

  it('removes an unset notification key; keeps any other as written and reports it (the loader disables its environment)', () => {
    const doc = parseDocument(text);
    const { removals, problems } = interpolateDocument(doc.contents as Node, {});
    expect(removals.map((r) => [r.path, r.variables, r.silent, r.kept])).toEqual([
      [['rollback_policy', 'notifications', 'email'], ['MAIL'], false, false],
      [['environments', 'prod', 'service', 'stop'], ['STOP'], false, true],
      [['environments', 'prod', 'service', 'start'], [], true, false],
    ]);
    expect(problems).toEqual([]);
    expect(doc.toJS()).toEqual({ rollback_policy: { notifications: {} }, environments: { prod: { service: { stop: '${STOP}' } } } });
  });
});
