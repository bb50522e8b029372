/**
 * The engine's small parts: history reading (torn lines, 100,000 lines), stats, the default target rule,
 * plan formatting, lock messages, and the notifier against real local servers.
 */
import { describe, expect, it } from 'vitest';
import http from 'node:http';
import type net from 'node:net';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeEntry, readHistoryFrom } from '../../src/core/engine/history.js';
import { LocalExecutor } from '../../src/core/exec/local.js';
import { computeStats, computeDashboard, formatDashboard, StatsAccumulator, statsFieldsOf } from '../../src/core/engine/stats.js';
import { buildPlan, formatPlan, pickDefaultTarget } from '../../src/core/engine/plan.js';
import { openEnvironment } from '../../src/core/environment.js';
import { makeReleaseLayout, resolvedEnv } from '../helpers/releases.js';
import { describeOwner, lockStatus, type LockOwner } from '../../src/core/engine/lock.js';
import { Notifier, redactSecrets } from '../../src/core/engine/notify.js';
import { currentIdentity, formatIdentity } from '../../src/core/engine/identity.js';
import type { Backup } from '../../src/core/stores/types.js';
import type { HistoryEntry } from '../../src/core/engine/types.js';

function entry(i: number, extra: Partial<HistoryEntry> = {}): HistoryEntry {
  return makeEntry({
    env: i % 2 ? 'prod' : 'staging',
    kind: 'standard',
    initiated_by: 'alice@bastion',
    timestamp: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
    trigger: i % 3 ? 'manual' : 'error_rate',
    success: i % 5 !== 0,
    duration_ms: 1000 + (i % 7) * 100,
    ...extra,
  });
}

/** Read a history file with this text through the product's reader (a real file, the local executor). */
async function readText(text: string, options: { limit?: number; env?: string } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-hread-'));
  try {
    writeFileSync(path.join(dir, 'history.jsonl'), text);
    const ex = new LocalExecutor();
    const r = await readHistoryFrom({ path: (n) => path.join(dir, n) }, ex, options);
    const saved = readdirSync(dir).filter((n) => n.startsWith('history.torn.'));
    await ex.close();
    return { ...r, saved };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('history reading', () => {
  it('reads newest first, honours limit and env, sets a torn tail aside and skips corrupt lines', async () => {
    const lines = [entry(1), entry(2), entry(3)].map((e) => JSON.stringify(e));
    const text = `${lines[0]}\nnot json\n${lines[1]}\n${lines[2]}\n{"id":"x","times`;
    const p = await readText(text);
    expect(p.entries.map((e) => e.timestamp)).toEqual([entry(3).timestamp, entry(2).timestamp, entry(1).timestamp]);
    expect(p.warnings.join('\n')).toMatch(/last line of history\.jsonl is incomplete .* saved as history\.torn\.\d+/);
    expect(p.warnings.join('\n')).toContain('1 corrupt line(s) in history.jsonl skipped');
    expect(p.saved).toHaveLength(1);
    expect((await readText(text, { limit: 1 })).entries).toHaveLength(1);
    expect((await readText(text, { env: 'prod' })).entries.every((e) => e.env === 'prod')).toBe(true);
    // a complete last line without its newline is still torn (the next append would glue onto it)
    expect((await readText(lines[0]!)).entries).toEqual([]);
    expect((await readText('')).entries).toEqual([]);
  });

  it('100,000 lines: read whole newest first, or only the newest 20; stats from the lines agree', async () => {
    const text = `${Array.from({ length: 100_000 }, (_, i) => JSON.stringify(entry(i))).join('\n')}\n`;
    const all = await readText(text);
    expect(all.entries).toHaveLength(100_000);
    expect(all.warnings).toEqual([]);
    const few = await readText(text, { limit: 20 });
    expect(few.entries).toHaveLength(20);
    expect(few.entries[0]!.timestamp).toBe(entry(99_999).timestamp);
    const stats = computeStats(all.entries);
    expect(stats.total).toBe(100_000);
    expect(stats.failed).toBe(20_000);
    const acc = new StatsAccumulator();
    for (const line of text.split('\n').filter(Boolean)) acc.add(statsFieldsOf(line)!);
    expect(acc.stats()).toEqual(stats);
  });
});

describe('stats', () => {
  it('the stats numbers and the text dashboard', () => {
    const es = [
      entry(1, { trigger: 'manual', success: true, duration_ms: 1000 }),
      entry(2, { trigger: 'error_rate', success: true, duration_ms: 3000 }),
      entry(3, { trigger: 'error_rate', success: false, verification: 'failed', duration_ms: 2000 }),
      entry(4, { kind: 'lock_broken' }),
    ];
    expect(computeStats(es)).toEqual({
      total: 3,
      succeeded: 2,
      failed: 1,
      success_rate: 0.6667,
      by_trigger: { manual: 1, error_rate: 2 },
      by_env: { prod: 2, staging: 1 },
      median_duration_ms: 2000,
    });
    const d = computeDashboard(es, Date.UTC(2024, 0, 2));
    expect(d).toMatchObject({ automatic: 2, manual: 1, verification_failed: 1, average_duration_ms: 2000 });
    const text = formatDashboard(d, 'all environments');
    expect(text).toContain('Auto-rollbacks:     2 (66.7%)');
    expect(text).toContain('Success rate:       66.7%');
    expect(computeStats([])).toMatchObject({ total: 0, success_rate: null, median_duration_ms: null });
  });
});

describe('default target', () => {
  const b = (name: string, h: number, extra: Partial<Backup> = {}): Backup => ({
    name, created: new Date(h * 3600_000).toISOString(), createdMs: h * 3600_000, sizeBytes: null, current: false, knownGood: false, bad: false, ...extra,
  });
  it('newest older than live, not bad; never forward', () => {
    expect(pickDefaultTarget([b('r3', 3, { current: true }), b('r2', 2), b('r1', 1)], 'r3')?.name).toBe('r2');
    // after 3 -> 2 (3 marked bad): to 1, never back to 3
    expect(pickDefaultTarget([b('r3', 3, { bad: true }), b('r2', 2, { current: true }), b('r1', 1)], 'r2')?.name).toBe('r1');
    expect(pickDefaultTarget([b('r3', 3), b('r2', 2, { current: true }), b('r1', 1, { bad: true })], 'r2')).toBeNull();
    expect(pickDefaultTarget([b('r2', 2), b('r1', 1, { bad: true })], null)?.name).toBe('r2');
  });
});

describe('lock messages', () => {
  it('names owner, pid, op and since when; stale by refreshed_at', () => {
    const now = Date.parse('2024-11-12T10:06:11Z');
    const owner: LockOwner = { user: 'alice', host: 'bastion', pid: 123, operation_id: 'rb-1', operation: 'rollback', env: 'prod', started_at: '2024-11-12T10:02:11.000Z', refreshed_at: '2024-11-12T10:02:11.000Z', version: '0.1.0' };
    expect(describeOwner('prod', owner, now)).toBe('prod is locked by alice@bastion (pid 123, rollback op rb-1) since 10:02:11Z (4 min ago)');
    expect(lockStatus(owner, 30, now).stale).toBe(false);
    expect(lockStatus(owner, 3, now).stale).toBe(true);
  });
});

describe('identity', () => {
  it('user@host with the SSH client address and SUDO_USER', () => {
    const id = currentIdentity({ USER: 'root', SUDO_USER: 'alice', SSH_CONNECTION: '10.0.0.5 51000 10.0.0.1 22' });
    expect(id).toMatchObject({ user: 'root', ssh_client: '10.0.0.5', sudo_user: 'alice' });
    expect(formatIdentity(id)).toMatch(/^root@.+ \(sudo from alice\) from 10\.0\.0\.5$/);
  });
});

describe('notifier', () => {
  it('posts Slack-compatible JSON; a hanging endpoint is given up with a warning and no secret', async () => {
    const bodies: string[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        if (req.url?.includes('hang')) return; // never answer
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const ok = new Notifier({ slack_webhook: `http://127.0.0.1:${port}/ok/SECRET`, timeout_seconds: 2, retries: 0 });
      ok.notify({ event: 'rollback_succeeded', env: 'prod', severity: 'info', title: 'prod rolled back' });
      expect(await ok.drain(5000)).toBe(0);
      expect(ok.delivered).toBe(1);
      expect(JSON.parse(bodies[0]!)).toMatchObject({ text: expect.stringContaining('prod rolled back') });

      const warnings: string[] = [];
      const hang = new Notifier({ slack_webhook: `http://127.0.0.1:${port}/hang/SECRET`, timeout_seconds: 0.2, retries: 1 }, { onWarning: (m) => warnings.push(m), backoffMs: () => 10 });
      hang.notify({ event: 'rollback_failed', env: 'prod', severity: 'critical', title: 'x' });
      // Returns at once: both attempts (and the warning after them) are still to come.
      expect(warnings).toEqual([]);
      await hang.drain(10_000);
      expect(warnings.join('\n')).toMatch(/rollback_failed to slack webhook \(127\.0\.0\.1:\d+\) failed after 2 attempts: timed out/);
      expect(warnings.join('\n')).not.toContain('SECRET');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('email goes to sendmail -t -i: critical ones are flagged in the subject and headers; a header injection is refused', async () => {
    // sendmail is not installed here; a script on PATH that keeps what it is given stands in for it.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-sendmail-'));
    const PATH = process.env.PATH;
    try {
      writeFileSync(path.join(dir, 'sendmail'), `#!/bin/sh\necho "$@" > ${JSON.stringify(path.join(dir, 'args'))}\ncat >> ${JSON.stringify(path.join(dir, 'mail'))}\n`, { mode: 0o755 });
      process.env.PATH = `${dir}${path.delimiter}${PATH ?? ''}`;
      const n = new Notifier({ email: 'oncall@example.com', timeout_seconds: 5, retries: 0 });
      n.notify({ event: 'rollback_started', env: 'prod', severity: 'critical', title: 'prod: standard rollback started (b3 -> b2)', text: 'Reason: error_rate' });
      expect(await n.drain(5000)).toBe(0);
      const mail = readFileSync(path.join(dir, 'mail'), 'utf8');
      // -i: a line of just "." in the text must not end the mail early
      expect(readFileSync(path.join(dir, 'args'), 'utf8').trim()).toBe('-t -i');
      expect(mail).toMatch(/^To: oncall@example\.com\nSubject: \[rollback-tui CRITICAL\] prod: standard rollback started \(b3 -> b2\)\nX-Priority: 1\nImportance: high\n/);
      expect(mail).toContain('\n\nReason: error_rate\n');
      const warnings: string[] = [];
      new Notifier({ email: 'a@example.com\nBcc: everyone@example.com' }, { onWarning: (m) => warnings.push(m) });
      expect(warnings).toEqual(['notifications.email contains a line break: email notifications are disabled']);
    } finally {
      process.env.PATH = PATH;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('redacts URLs in messages', () => {
    expect(redactSecrets('POST https://hooks.slack.com/services/T0/B0/XYZ failed')).toBe('POST https://hooks.slack.com/*** failed');
  });
});

describe('plan', () => {
  it('never shows a token or password from a service command or health URL (dry run, confirmation, monitor --json)', async () => {
    const layout = makeReleaseLayout({ count: 2 });
    const env = resolvedEnv('prod', {
      executor: { type: 'local' },
      target: layout.symlinkTarget(),
      state_dir: layout.stateDir,
      service: {
        stop: "curl -fsS -H 'Authorization: Bearer pd-secret-123' https://ops.example/stop",
        start: 'systemctl start app',
      },
      health: [{ http: { url: 'https://admin:hunter2@app.example/health' } }],
    });
    const handle = openEnvironment(env);
    try {
      const plan = await buildPlan({ env, store: handle.store }, { env: 'prod', kind: 'standard', reason: 'x', trigger: 'manual', dryRun: true });
      const text = formatPlan(plan);
      expect(text).toContain('systemctl start app');
      expect(text).toContain('https://ops.example/stop');
      expect(text).toMatch(/https:\/\/\S*\*\*\*@app\.example\/health/);
      expect(text).not.toContain('pd-secret-123');
      expect(text).not.toContain('hunter2');
    } finally {
      await handle.close();
      layout.cleanup();
    }
  });
});
