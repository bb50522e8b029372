/**
 * `history` and `stats` over a real 200 MB+ history file through the built CLI: the answers are right
 * and the peak RSS of the CLI process stays flat (measured by /usr/bin/time -v), whatever the size.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bin } from './fixture.js';

const STEPS = ['lock', 'journal', 'validate', 'stop', 'switch', 'start', 'verify', 'mark', 'record', 'notify', 'unlock'].map((name, i) => ({
  name,
  status: 'ok',
  ms: i * 13,
}));
/** Peak RSS allowed for the CLI reading the file (the file is 200 MB+; the old reader needed 4x that). */
const MAX_RSS_KB = 150 * 1024;

let dir = '';
let config = '';
const expected = { total: 0, succeeded: 0, prod: 0, staging: 0, manual: 0, error_rate: 0, lastProd: '' };

function entryLine(i: number): string {
  const env = i % 2 ? 'prod' : 'staging';
  const kind = i % 97 === 0 ? 'lock_broken' : 'standard';
  const trigger = i % 3 ? 'manual' : 'error_rate';
  const success = i % 5 !== 0;
  const timestamp = new Date(Date.UTC(2020, 0, 1) + i * 1000).toISOString();
  if (kind === 'standard') {
    expected.total++;
    if (success) expected.succeeded++;
    expected[env]++;
    expected[trigger]++;
  }
  if (env === 'prod') expected.lastProd = timestamp;
  return JSON.stringify({
    id: `rb-${i}`,
    timestamp,
    trigger,
    from: `backup_${i}`,
    to: `backup_${i - 1}`,
    reason: `INC-${i}: "quoted", \\ and üñí "env":"x"`,
    success,
    verification: success ? 'passed' : 'failed',
    duration_ms: 1000 + (i % 7) * 100,
    steps: STEPS,
    error: success ? null : 'verification failed',
    env,
    kind,
    initiated_by: 'alice@bastion',
    incident_report: `/srv/state/incidents/${'x'.repeat(600)}-${i}.md`,
  });
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-hist-'));
  const state = path.join(dir, 'state');
  mkdirSync(state);
  const fd = openSync(path.join(state, 'history.jsonl'), 'w');
  let size = 0;
  for (let i = 1; size < 210 * 1024 * 1024; ) {
    const batch: string[] = [];
    for (let k = 0; k < 2000; k++, i++) batch.push(entryLine(i));
    const text = `${batch.join('\n')}\n`;
    writeSync(fd, text);
    size += Buffer.byteLength(text);
  }
  closeSync(fd);
  const envBlock = (name: string) =>
    `  ${name}:\n    target: { strategy: symlink, backups_dir: ${dir}/b-${name}, current: ${dir}/current-${name} }\n    state_dir: ${state}\n`;
  config = path.join(dir, 'rollback-config.yml');
  writeFileSync(config, `environments:\n${envBlock('prod')}${envBlock('staging')}`);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Run the CLI under /usr/bin/time -v: its output and its peak RSS in KB. */
function measured(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; maxRssKb: number }> {
  return new Promise((resolve) => {
    const c = spawn('/usr/bin/time', ['-v', process.execPath, bin, '--config', config, ...args], {
      env: { ...process.env, NO_COLOR: '1', ROLLBACK_ENV: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.on('close', (code) => {
      const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      resolve({ code, stdout, stderr, maxRssKb: m ? Number(m[1]) : NaN });
    });
  });
}

describe.runIf(existsSync('/usr/bin/time'))('history and stats stream a 200 MB+ history', () => {
  it('history --limit 1 reads the newest entry with flat memory', async () => {
    const r = await measured(['history', '--env', 'prod', '--limit', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const entries = JSON.parse(r.stdout) as Array<{ timestamp: string; env: string; reason: string }>;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ env: 'prod', timestamp: expected.lastProd });
    expect(entries[0]!.reason).toContain('üñí "env":"x"');
    expect(r.maxRssKb).toBeLessThan(MAX_RSS_KB);
  });

  it('stats counts every line with flat memory', async () => {
    const r = await measured(['stats', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      total: expected.total,
      succeeded: expected.succeeded,
      failed: expected.total - expected.succeeded,
      success_rate: Math.round((expected.succeeded / expected.total) * 10000) / 10000,
      by_trigger: { manual: expected.manual, error_rate: expected.error_rate },
      by_env: { prod: expected.prod, staging: expected.staging },
      median_duration_ms: 1300,
    });
    expect(r.stderr).not.toMatch(/corrupt/);
    expect(r.maxRssKb).toBeLessThan(MAX_RSS_KB);
  });
});
