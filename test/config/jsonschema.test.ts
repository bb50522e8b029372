import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, configJsonSchemaText } from '../../src/core/config/jsonschema.js';
import { EXAMPLE, ROOT } from './helpers.js';

/** Every property name anywhere in a JSON Schema. */
function propertyNames(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const n of node) propertyNames(n, out);
  else if (typeof node === 'object' && node !== null) {
    const props = (node as { properties?: Record<string, unknown> }).properties;
    if (props) for (const k of Object.keys(props)) out.add(k);
    for (const v of Object.values(node)) propertyNames(v, out);
  }
  return out;
}

describe('configJsonSchema', () => {
  it('rollback-config.schema.json at the root is in sync with the zod schema (regenerate: rollback-tui config schema > rollback-config.schema.json)', () => {
    const onDisk = readFileSync(path.join(ROOT, 'rollback-config.schema.json'), 'utf8');
    expect(onDisk).toBe(configJsonSchemaText());
  });

  it('describes the top level, environments and per-environment policy overrides', () => {
    const schema = configJsonSchema() as { properties: Record<string, { additionalProperties?: { properties: Record<string, unknown> } }> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['rollback_policy', 'environments', 'theme']));
    const env = schema.properties.environments?.additionalProperties?.properties ?? {};
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['confirm', 'policy', 'executor', 'target', 'service', 'health', 'metrics', 'state_dir']));
    const policy = env.policy as { properties: Record<string, unknown>; required?: unknown };
    expect(Object.keys(policy.properties)).toEqual(['enabled', 'monitoring', 'triggers', 'rollback', 'notifications', 'fleet']);
    expect(JSON.stringify(policy)).not.toContain('"required"');
  });

  it('the example rollback-config.yml mentions every key of the schema', () => {
    const text = readFileSync(EXAMPLE, 'utf8');
    const names = [...propertyNames(configJsonSchema())].filter((k) => k !== '$schema');
    const missing = names.filter((k) => !new RegExp(`(^|[\\s{,])${k.replace(/[$]/g, '\\$')}:`, 'm').test(text));
    expect(missing).toEqual([]);
  });
});
