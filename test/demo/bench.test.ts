/**
 * The benchmark harness in quick mode (one iteration each), so it cannot rot: it must run against the
 * built CLI and write a JSON document with every section. Timings are never asserted.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rtui-bench-test-'));

afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

interface Figure {
  median: number;
  min: number;
  max: number;
  n: number;
}

describe('npm run bench --quick', () => {
  it('runs every section once and writes latest.json', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bench', 'run.mjs'), '--quick', '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 600_000,
    });
    expect(r.status, `bench failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
    const doc = JSON.parse(fs.readFileSync(path.join(out, 'latest.json'), 'utf8'));
    expect(doc.mode).toBe('quick');
    expect(doc.iterations).toBe(1);
    expect(doc.machine).toMatchObject({ nproc: expect.any(Number), cpu: expect.any(String), node: process.version });
    const s = doc.sections;
    expect(Object.keys(s).sort()).toEqual(['console', 'console_idle', 'demo', 'detection', 'fleet', 'monitor', 'recovery', 'rollback', 'scale', 'startup']);
    for (const [name, section] of Object.entries(s)) expect((section as { error?: string }).error, name).toBeUndefined();

    const fig = (f: Figure): void => {
      expect(f.n).toBe(1);
      expect(f.median).toBeGreaterThan(0);
      expect(f.min).toBeLessThanOrEqual(f.max);
    };
    expect(s.rollback.cases.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['standard local', 'emergency local']));
    for (const c of s.rollback.cases) {
      fig(c.tool);
      fig(c.by_hand);
      expect(c.ratio).toBeGreaterThan(0);
    }
    fig(s.detection.measured);
    expect(s.detection.theoretical_min_ms).toBeGreaterThan(0);
    if (!s.console.skipped) fig(s.console.first_full_frame);
    expect(s.monitor.idle_cpu_percent.n).toBe(1);
    expect(s.monitor.rss_after_1000_samples_mib).toBeGreaterThan(0);
    expect(s.monitor.rss_after_all_samples_mib).toBeGreaterThan(0);
    expect(s.monitor.simulated_samples).toBe(20_000);
    fig(s.scale.list_local_1000_backups);
    fig(s.scale.stats_100000_lines);

    // The speed table: recovery side by side (tool, by hand, the original script's flow with its sleeps).
    const local = s.recovery.cases.find((c: { where: string }) => c.where === 'local');
    for (const flow of ['tool', 'by_hand', 'script']) {
      fig(local[flow].recovery);
      fig(local[flow].total);
    }
    // The script sleeps 2 s before the switch: it cannot be back sooner.
    expect(local.script.recovery.median).toBeGreaterThan(2000);
    expect(typeof local.tool_minus_by_hand_ms).toBe('number');
    fig(s.startup.version);
    fig(s.startup.node_floor);
    if (!s.console_idle.skipped) {
      expect(s.console_idle.cpu_percent_of_one_core).toBeGreaterThanOrEqual(0);
      expect(s.console_idle.rss_mib.median).toBeGreaterThan(0);
    }
    if (!s.demo.skipped) fig(s.demo.launch_to_automatic_rollback);
    if (!s.fleet.skipped) {
      for (const f of ['rollback_1_host', 'rollback_1_host_fleet', 'rollback_10_hosts', 'precheck_10_hosts']) {
        fig(s.fleet[f]);
        fig(s.fleet[f].cpu_ms);
      }
      expect(s.fleet.fifty_hosts.skipped).toMatch(/quick mode/);
      fig(s.fleet.by_hand_1_host);
      fig(s.fleet.by_hand_10_hosts);
      expect(s.fleet.ratio_10_over_1).toBeGreaterThan(0);
      expect(s.fleet.tool_over_by_hand_10_hosts).toBeGreaterThan(0);
      for (const f of ['rollback_1_host', 'rollback_10_hosts', 'precheck_10_hosts']) fig(s.fleet.warm[f]);
      fig(s.fleet.warm.by_hand_10_hosts);
      expect(s.fleet.warm.ratio_10_over_1).toBeGreaterThan(0);
      expect(r.stdout).toMatch(/fleet, warm connections: rollback, 10 hosts/);
      expect(r.stdout).toMatch(/fleet: rollback, 10 hosts in parallel/);
    }
    expect(r.stdout).toMatch(/median/);
    expect(r.stdout).toMatch(/time to recovery, local/);
    expect(r.stdout).toMatch(/original script/);
  }, 900_000);
});
