/**
 * JSON Schema for `rollback-config.yml`, generated from the zod schema (the single source of truth)
 * so editors complete and check the file through `# yaml-language-server: $schema=...`.
 */
import { z } from 'zod';
import { ConfigSchema, PolicySchema } from './schema.js';

type Json = Record<string, unknown>;

/** Per-environment overrides: the policy's keys, none of them required. */
function stripRequired(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripRequired);
  if (typeof node !== 'object' || node === null) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'required' || k === 'default' || k === '$schema') continue;
    out[k] = stripRequired(v);
  }
  return out;
}

export function configJsonSchema(): Json {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', target: 'draft-2020-12' }) as Json;
  const policy = stripRequired(z.toJSONSchema(PolicySchema, { io: 'input', target: 'draft-2020-12' })) as Json;
  const env = ((schema.properties as Json).environments as Json).additionalProperties as Json;
  const envProps = env.properties as Json;
  envProps.policy = {
    ...policy,
    description: 'Overrides of rollback_policy for this environment, merged deeply (lists are replaced).',
  };
  return {
    $schema: schema.$schema,
    title: 'rollback-tui configuration (rollback-config.yml)',
    description: 'The rollback policy and the environments rollback-tui can roll back. See docs/CONFIG.md.',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}

/** The schema file as written to disk (`rollback-config.schema.json`). */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
