/**
 * Rollbacks end to end through the BUILT CLI against a real symlink store and the real demo service.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, rmSync, appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { makeFixture, stateFiles, type Fixture } from './fixture.js';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

function json(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('rollback through the built CLI', () => {
  it('standard: 3 -> 2 restarts the service on 2, verifies, marks, records; a second rollback goes to 1, never back to 3', async () => {
    fx = await makeFixture();
    const [r1, r2, r3] = fx.names as [string, string, string];
    expect(await fx.serviceVersion()).toBe(r3);
    const a = await fx.cli(['rollback', '--env', 'test', '--reason', 'error spike', '--yes', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const doc = json(a.stdout);
    expect(Object.keys(doc).sort()).toEqual(['dry_run', 'duration_ms', 'env', 'exit_code', 'from', 'kind', 'ok', 'steps', 'to', 'verification'].sort());
    expect(doc).toMatchObject({ ok: true, env: 'test', kind: 'standard', dry_run: false, from: r3, to: r2, verification: 'passed', exit_code: 0 });
    const steps = doc.steps as Array<{ name: string; status: string; ms: number }>;
    expect(steps.map((s) => s.name)).toEqual(['lock', 'journal', 'validate', 'maintenance_on', 'stop', 'switch', 'start', 'verify', 'maintenance_off', 'mark', 'record', 'notify', 'unlock']);
    expect(steps.find((s) => s.name === 'switch')!.status).toBe('ok');
    expect(fx.live()).toBe(r2);
    expect(await fx.serviceVersion()).toBe(r2);
    expect(fx.marks()).toEqual({ known_good: [r2], bad: [r3] });
    expect(a.stderr).toContain('> stop');
    expect(a.stderr).toContain('service: started pid');

    const hist = fx.history();
    expect(hist).toHaveLength(1);
    expect(hist[0]).toMatchObject({ env: 'test', kind: 'standard', trigger: 'manual', from: r3, to: r2, reason: 'error spike', success: true, verification: 'passed', error: null });
    for (const k of ['id', 'timestamp', 'initiated_by', 'duration_ms', 'steps']) expect(hist[0]).toHaveProperty(k);
    expect(String(hist[0]!.initiated_by)).toMatch(/^.+@.+/);
    // incident report with timeline, changes and logs
    const report = readFileSync(String(hist[0]!.incident_report), 'utf8');
    expect(report).toContain(`# Incident: rollback of test from ${r3} to ${r2}`);
    expect(report).toContain('## Timeline');
    expect(report).toContain('file-2.txt');
    expect(report).toContain('## Last log lines');
    expect(report).toContain('listening on 127.0.0.1');
    // no lock or journal left
    expect(stateFiles(fx).filter((f) => f.startsWith('locks/') && f !== 'locks/' || f.startsWith('journal/') && f !== 'journal/')).toEqual([]);

    const b = await fx.cli(['rollback', '--env', 'test', '--reason', 'still bad', '--yes', '--json']);
    expect(b.code, b.stderr).toBe(0);
    expect(json(b.stdout)).toMatchObject({ from: r2, to: r1 });
    expect(fx.live()).toBe(r1);
    expect(fx.marks().bad.sort()).toEqual([r2, r3].sort());

    // nothing older than r1: exit 1, nothing changes
    const c = await fx.cli(['rollback', '--env', 'test', '--reason', 'again', '--yes']);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/nothing to roll back to/);
    expect(fx.live()).toBe(r1);

    // history and stats through the CLI
    const h = await fx.cli(['history', '--env', 'test', '--json', '--limit', '1']);
    expect(h.code).toBe(0);
    const entries = JSON.parse(h.stdout) as Array<Record<string, unknown>>;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ from: r2, to: r1 });
    const table = await fx.cli(['history']);
    expect(table.stdout).toContain('TIME (UTC)');
    expect(table.stdout).toContain('still bad');
    const s = await fx.cli(['stats', '--json']);
    expect(JSON.parse(s.stdout)).toMatchObject({ total: 2, succeeded: 2, failed: 0, success_rate: 1, by_trigger: { manual: 2 }, by_env: { test: 2 } });
    expect(typeof (JSON.parse(s.stdout) as { median_duration_ms: number }).median_duration_ms).toBe('number');
    const st = await fx.cli(['stats', '--env', 'test']);
    expect(st.stdout).toContain('Success rate:       100.0%');
  });

  it('emergency: skips validation and verification, says so loudly, exit 0', async () => {
    fx = await makeFixture();
    const [, r2, r3] = fx.names as [string, string, string];
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'site down', '--emergency', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = json(r.stdout);
    expect(doc).toMatchObject({ ok: true, kind: 'emergency', verification: 'skipped', from: r3, to: r2 });
    const st = Object.fromEntries((doc.steps as Array<{ name: string; status: string }>).map((s) => [s.name, s.status]));
    expect(st).toMatchObject({ validate: 'skipped', verify: 'skipped', switch: 'ok', start: 'ok', record: 'ok' });
    expect(r.stderr).toContain('VERIFICATION WAS SKIPPED');
    // what to run to see whether it is up: the health checks once, not `verify` (can it be rolled back?)
    expect(r.stderr).toContain(`${r2} is live but nobody checked it is healthy: run \`rollback-tui monitor --env test --once\` now`);
    expect(fx.live()).toBe(r2);
    expect(fx.marks()).toEqual({ known_good: [], bad: [r3] });
    expect(fx.history()[0]).toMatchObject({ kind: 'emergency', verification: 'skipped', success: true });
  });

  it('service.start fails after the switch: exit 2, the new release stays live, the message says so and names the health check', async () => {
    fx = await makeFixture();
    const [, r2, r3] = fx.names as [string, string, string];
    // The real stop runs; the start fails as a port clash would.
    const cfg = parse(readFileSync(fx.configFile, 'utf8')) as { environments: Record<string, { service: { start: string } }> };
    cfg.environments.test!.service.start = 'echo "bind: address already in use" >&2; exit 1';
    writeFileSync(fx.configFile, stringify(cfg, { lineWidth: 0 }));
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, from: r3, to: r2, exit_code: 2 });
    expect(r.stderr).toContain('address already in use');
    expect(r.stderr).toContain(`${r2} is live but the service did not start: check the service logs, then its health with \`rollback-tui monitor --env test --once\``);
    expect(fx.live()).toBe(r2);
    expect(await fx.serviceVersion()).toBeNull();
    expect(fx.history()[0]).toMatchObject({ success: false, to: r2 });
  });

  it('targeted: --to names any backup, even a bad one (warned in the preview)', async () => {
    fx = await makeFixture({ releases: [{}, {}, {}, {}] });
    const [r1, , , r4] = fx.names as [string, string, string, string];
    const first = await fx.cli(['rollback', '--env', 'test', '--reason', 'r', '--yes', '--to', r1, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(json(first.stdout)).toMatchObject({ kind: 'targeted', from: r4, to: r1, verification: 'passed' });
    // r4 is now bad; naming it explicitly is allowed, the dry run warns
    const dry = await fx.cli(['rollback', '--env', 'test', '--to', r4, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('MARKED BAD');
    expect(dry.stdout).toContain('rolls forward');
    const back = await fx.cli(['rollback', '--env', 'test', '--reason', 'r', '--yes', '--to', r4, '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(fx.live()).toBe(r4);
    // unknown backup: exit 1, nothing changes
    const nf = await fx.cli(['rollback', '--env', 'test', '--reason', 'r', '--yes', '--to', 'backup_20000101_000000']);
    expect(nf.code).toBe(1);
    expect(nf.stderr).toContain('not found');
    expect(fx.live()).toBe(r4);
  });

  it('dry run changes nothing: no history, no lock, no journal, current unchanged; exit 1 when invalid', async () => {
    fx = await makeFixture();
    const before = stateFiles(fx);
    const live = fx.live();
    const r = await fx.cli(['rollback', '--env', 'test', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('DRY RUN');
    expect(r.stdout).toContain('--stop --pid-file');
    expect(r.stdout).toContain('mv -T');
    expect(r.stdout).toContain('maintenance_on  skipped');
    const j = await fx.cli(['rollback', '--env', 'test', '--dry-run', '--json']);
    expect(json(j.stdout)).toMatchObject({ ok: true, dry_run: true, exit_code: 0, verification: 'skipped' });
    expect((json(j.stdout).steps as Array<{ status: string }>).every((s) => s.status === 'planned' || s.status === 'skipped')).toBe(true);
    expect(fx.live()).toBe(live);
    expect(stateFiles(fx)).toEqual(before);
    expect(fx.history()).toEqual([]);
    expect(await fx.serviceVersion()).toBe(live);
    const bad = await fx.cli(['rollback', '--env', 'test', '--dry-run', '--to', 'nope_x']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('NOT valid');
  });

  it('usage errors exit 64: no --reason, no terminal and no --yes, missing --env', async () => {
    fx = await makeFixture({ noStart: true });
    const live = fx.live();
    const a = await fx.cli(['rollback', '--env', 'test', '--yes']);
    expect(a.code).toBe(64);
    expect(a.stderr).toContain('--reason');
    const b = await fx.cli(['rollback', '--env', 'test', '--reason', 'x']);
    expect(b.code).toBe(64);
    expect(b.stderr).toContain('refusing to roll back test without confirmation: pass --yes');
    const c = await fx.cli(['rollback', '--reason', 'x', '--yes']);
    expect(c.code).toBe(64);
    const d = await fx.cli(['history', '--limit', '0']);
    expect(d.code).toBe(64);
    expect(fx.live()).toBe(live);
    expect(fx.history()).toEqual([]);
  });

  it('hostile --reason is recorded verbatim and never executed; hostile --to is refused', async () => {
    fx = await makeFixture();
    const pwned = path.join(fx.layout.root, 'pwned');
    const reason = `$(touch ${pwned}) \`touch ${pwned}\` "quoted" 'single' ; rm -rf / \n second line`;
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', reason, '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(pwned)).toBe(false);
    expect(fx.history()[0]!.reason).toBe(reason.trim());
    const live = fx.live();
    for (const to of ['../x', '-rf', 'a;b', `$(touch ${pwned})`, '../../etc']) {
      const t = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes', `--to=${to}`]);
      expect(t.code, `${to}: ${t.stderr}`).toBe(1);
      expect(t.stderr).toMatch(/invalid backup name|not found/);
      expect(fx.live()).toBe(live);
    }
    expect(existsSync(pwned)).toBe(false);
    expect(fx.history()).toHaveLength(1);
  });

  it('a torn last history line is set aside and never breaks history, stats or the next rollback', async () => {
    fx = await makeFixture({ releases: [{}, {}, {}, {}] });
    const ok1 = await fx.cli(['rollback', '--env', 'test', '--reason', 'one', '--yes']);
    expect(ok1.code, ok1.stderr).toBe(0);
    const hf = path.join(fx.layout.stateDir, 'history.jsonl');
    appendFileSync(hf, '{"id":"rb-torn","timestamp":"2024-');
    const h = await fx.cli(['history', '--json']);
    expect(h.code).toBe(0);
    expect(JSON.parse(h.stdout)).toHaveLength(1);
    expect(h.stderr).toMatch(/incomplete.*saved as history\.torn\./);
    const s = await fx.cli(['stats', '--json']);
    expect(JSON.parse(s.stdout)).toMatchObject({ total: 1 });
    const ok2 = await fx.cli(['rollback', '--env', 'test', '--reason', 'two', '--yes']);
    expect(ok2.code, ok2.stderr).toBe(0);
    const h2 = await fx.cli(['history', '--json']);
    const entries = JSON.parse(h2.stdout) as Array<{ reason: string }>;
    expect(entries.map((e) => e.reason)).toEqual(['two', 'one']);
    expect(readdirSync(fx.layout.stateDir).some((f) => f.startsWith('history.torn.'))).toBe(true);
    rmSync(hf);
  });
});
