import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/core/errors.js';
import { parseConfigText } from '../../src/core/config/load.js';
import { redactConfig } from '../../src/core/config/redact.js';

/** The loader either returns a config or throws a ConfigError with one-line problems: never anything else. */
function loadsCleanly(text: string, env: Record<string, string> = {}): void {
  try {
    const loaded = parseConfigText(text, { filepath: '/p/rollback-config.yml', cwd: '/p', env });
    // `$${` is the one way to write a literal `${`.
    if (!text.includes('$${')) expect(JSON.stringify(loaded.config)).not.toMatch(/\$\{[A-Za-z_]/);
    redactConfig(loaded.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const line of err.message.split('\n')) expect(line).toMatch(/^(rollback-config\.yml)(:\d+:\d+)?: /);
  }
}

const keys = fc.constantFrom(
  'rollback_policy', 'environments', 'enabled', 'monitoring', 'triggers', 'error_rate', 'latency', 'memory', 'health_check',
  'multiplier', 'window_minutes', 'metric', 'notifications', 'slack_webhook', 'prod', 'target', 'strategy', 'backups_dir',
  'current', 'executor', 'type', 'ssh', 'host', 'health', 'http', 'url', 'tcp', 'command', 'policy', 'state_dir', 'trigers',
);
const scalar = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('${SLACK_WEBHOOK_URL}', '${X:-5}', '${', 'symlink', 'ssh', 'p95', '$${Y}', '${A:-${B}}'),
);
const jsonish = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(fc.oneof(keys, fc.string()), tie('value'), { maxKeys: 5 })),
})).value;

describe('the loader never crashes (property tests)', () => {
  it('arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => loadsCleanly(text)), { numRuns: 500 });
  });

  it('arbitrary YAML-ish text built from YAML punctuation and known keys', () => {
    const piece = fc.oneof(keys, fc.constantFrom(':', ': ', '\n', '  ', '- ', '[', ']', '{', '}', ',', '"', "'", '#', '&a', '*a', '!!str', '${X}', '|', '>', '? ', '---', '...', '<<: *a'));
    fc.assert(fc.property(fc.array(piece, { maxLength: 60 }), (parts) => loadsCleanly(parts.join(''))), { numRuns: 500 });
  });

  it('arbitrary JSON-ish objects serialised as YAML', () => {
    fc.assert(
      fc.property(jsonish, fc.dictionary(fc.constantFrom('SLACK_WEBHOOK_URL', 'X', 'A', 'B'), fc.string()), (value, env) => loadsCleanly(stringify(value), env)),
      { numRuns: 500 },
    );
  });

  it('arbitrary objects under the real top-level keys', () => {
    const doc = fc.record({ rollback_policy: jsonish, environments: fc.dictionary(fc.constantFrom('prod', 'test', 'x y'), jsonish, { maxKeys: 2 }) }, { requiredKeys: [] });
    fc.assert(fc.property(doc, (value) => loadsCleanly(stringify(value))), { numRuns: 500 });
  });
});
