import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { parseConfigText } from '../../src/core/config/load.js';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const POLICY_BLOCK = path.join(ROOT, 'test', 'fixtures', 'config', 'auto-rollback-policy.yml');
export const EXAMPLE = path.join(ROOT, 'rollback-config.yml');

export function tmpDir(prefix = 'rbcfg-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
}

/** Parses YAML text as if from /cfg/test.yml; returns the ConfigError's lines (fails if it loads). */
export function problemsOf(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfigText(text, { filepath: '/cfg/test.yml', cwd: '/cfg', env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

export const MIN_ENV = `environments:
  test:
    target:
      strategy: symlink
      backups_dir: /tmp/rb/backups
      current: /tmp/rb/current
`;
