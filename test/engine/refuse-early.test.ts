/**
 * A hostile or mistyped --to is refused before anything runs: not even the (unreachable) host is
 * contacted, so the operator sees the real problem, not a transport error.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-early-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rollback --to validation', () => {
  it('rejects unsafe names before contacting the host', () => {
    const config = path.join(dir, 'rollback-config.yml');
    writeFileSync(
      config,
      [
        'environments:',
        '  far:',
        '    executor: { type: ssh, host: 127.0.0.1, port: 1, connect_timeout_seconds: 2 }',
        '    target: { strategy: symlink, backups_dir: /opt/app/backups, current: /opt/app/current }',
        '',
      ].join('\n'),
    );
    for (const to of ['../etc', '-rf', 'a/b', 'x\ny']) {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/rollback-tui.js'), '--config', config, 'rollback', '--env', 'far', '--reason', 'x', '--yes', `--to=${to}`], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain('invalid backup name');
      expect(r.stderr).not.toContain('cannot reach');
    }
  });
});
