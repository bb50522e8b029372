/**
 * The demo sandbox against real parts: files on disk, the real demo service on a loopback port, the
 * generated config loaded by the project's own schema.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/core/config/schema.js';
import type { HistoryEntry } from '../../src/core/engine/types.js';
import { incidentFileName } from '../../src/core/engine/incident.js';
import { createDemoSandbox, DEMO_TIMINGS, demoCrossingSeconds, waitFor, type DemoSandbox } from '../../src/demo/sandbox.js';

const parents: string[] = [];
const sandboxes: DemoSandbox[] = [];

function tmpParent(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'rtui-demo-test-'));
  parents.push(d);
  return d;
}

async function metrics(port: number): Promise<{ version: string; mode: string; memory_usage_percent: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return (await res.json()) as { version: string; mode: string; memory_usage_percent: number };
}

/** A stopped service refuses at once; a running one may take seconds to answer on a loaded machine. */
async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

afterEach(async () => {
  for (const s of sandboxes.splice(0)) await s.stop();
  for (const d of parents.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('createDemoSandbox', () => {
  it('lays out four releases, current -> the sick newest one, a valid config, seeded state, and a live service', async () => {
    const parent = tmpParent();
    const sb = await createDemoSandbox({ dir: parent, speed: 0.5 });
    sandboxes.push(sb);

    expect(sb.env).toBe('demo');
    expect(path.dirname(sb.dir)).toBe(fs.realpathSync(parent));
    const releasesDir = path.join(sb.dir, 'releases');
    const names = fs.readdirSync(releasesDir).sort();
    expect(names).toHaveLength(4);
    for (const n of names) expect(n).toMatch(/^backup_\d{8}_\d{6}$/);
    expect(sb.releases.map((r) => r.name)).toEqual(names);
    expect(sb.releases.map((r) => r.sick)).toEqual([false, false, false, true]);
    const versions = names.map((n) => JSON.parse(fs.readFileSync(path.join(releasesDir, n, 'release.json'), 'utf8')));
    expect(versions.map((v) => v.version)).toEqual(['v1', 'v2', 'v3', 'v4']);
    expect(versions.map((v) => v.mode)).toEqual(['healthy', 'healthy', 'healthy', 'leak']);
    // The leak is scaled with the policy: at speed 0.5 it begins twice as soon and grows twice as fast.
    expect(versions[3].leak_percent_per_second).toBeCloseTo(DEMO_TIMINGS.leakPercentPerSecond * 2);
    expect(versions[3].leak_after_first_metrics_seconds).toBeCloseTo(DEMO_TIMINGS.leakAfterFirstSampleSeconds / 2);

    const current = path.join(sb.dir, 'current');
    expect(fs.lstatSync(current).isSymbolicLink()).toBe(true);
    expect(path.basename(fs.realpathSync(current))).toBe(sb.sickRelease);
    expect(sb.sickRelease).toBe(names[3]);

    // The config is the project's own format: the schema accepts it, with the policy scaled by speed.
    const cfg = ConfigSchema.parse(YAML.parse(fs.readFileSync(sb.configPath, 'utf8')));
    const env = cfg.environments.demo;
    expect(env).toBeDefined();
    expect(env?.target).toMatchObject({ strategy: 'symlink', backups_dir: releasesDir, current });
    expect(env?.health[0]).toEqual({ http: expect.objectContaining({ url: `http://127.0.0.1:${sb.port}/health` }) });
    expect(cfg.rollback_policy.monitoring.check_interval_seconds).toBe(0.5);
    expect(cfg.rollback_policy.triggers.memory?.threshold_percent).toBe(90);
    expect(cfg.rollback_policy.rollback.grace_seconds).toBe(2.5);
    // Load on the machine slows the health probe: that must not trip the latency trigger before memory.
    expect(cfg.rollback_policy.triggers.latency?.min_latency_ms).toBe(DEMO_TIMINGS.latencyFloorMs);

    // History: realistic past rollbacks with every history field and readable incident reports.
    const stateDir = env?.state_dir as string;
    const history = fs
      .readFileSync(path.join(stateDir, 'history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as HistoryEntry);
    expect(history.length).toBeGreaterThanOrEqual(3);
    for (const h of history) {
      for (const k of ['id', 'timestamp', 'env', 'kind', 'trigger', 'from', 'to', 'reason', 'initiated_by', 'success', 'verification', 'duration_ms', 'steps', 'error']) {
        expect(h).toHaveProperty(k);
      }
      expect(h.env).toBe('demo');
      // The engine's own incident report, under the engine's file name.
      expect(h.incident_report).toBe(path.join(stateDir, incidentFileName(h)));
      const report = fs.readFileSync(h.incident_report as string, 'utf8');
      expect(report).toContain(`# Incident: rollback of demo from ${h.from ?? '(none)'} to ${h.to ?? '(none)'}`);
      expect(report).toContain(`- **Kind:** ${h.kind}`);
      expect(report).toContain('## Timeline (UTC)');
    }
    expect(new Set(history.map((h) => h.kind))).toEqual(new Set(['standard', 'emergency', 'targeted']));
    expect(history.some((h) => !h.success)).toBe(true);
    expect(history.some((h) => h.trigger !== 'manual')).toBe(true);

    // The service answers, as the sick release. Its leak waits for the first look at its metrics (the
    // monitor's first sample), however long it has run: memory is at its base then, and grows after.
    const m = await metrics(sb.port);
    expect(m.version).toBe('v4');
    expect(m.mode).toBe('leak');
    expect(m.memory_usage_percent).toBe(DEMO_TIMINGS.leakBasePercent);
    await waitFor(async () => (await metrics(sb.port)).memory_usage_percent > DEMO_TIMINGS.leakBasePercent, 'the leak to begin', 30_000);
  });

  it('tells the whole story within half a minute at speed 1, and scales it with speed', () => {
    // The policy's own arithmetic, not a measurement (the benchmark measures): from the monitor's first
    // sample, memory crosses the threshold, holds for the window, the countdown runs, the rollback is
    // verified stable. The console's start and the rollback's own steps take the rest of the 30 s.
    const t = DEMO_TIMINGS;
    const story = (speed: number): number => demoCrossingSeconds(speed) + (t.memoryWindowSeconds + t.graceSeconds + t.stabilitySeconds) * speed;
    expect(story(1)).toBeLessThanOrEqual(20);
    expect(story(0.5)).toBeCloseTo(story(1) / 2);
    // The operator has time to read the countdown and press c.
    expect(t.graceSeconds).toBeGreaterThanOrEqual(5);
    // The baseline is established before memory leaves its base.
    expect(t.baselineSeconds).toBeLessThanOrEqual(t.leakAfterFirstSampleSeconds);
  });

  it('redeploySick puts the sick release back live after a rollback and restarts the service', async () => {
    const sb = await createDemoSandbox({ dir: tmpParent(), speed: 0.2 });
    sandboxes.push(sb);
    const cfg = ConfigSchema.parse(YAML.parse(fs.readFileSync(sb.configPath, 'utf8')));
    const svc = cfg.environments.demo?.service;
    const v3 = sb.releases[2]?.name as string;
    const current = path.join(sb.dir, 'current');

    // Roll back by hand, as the engine would: stop, point current at v3, start.
    const { execFileSync } = await import('node:child_process');
    execFileSync('sh', ['-c', svc?.stop as string]);
    const tmp = `${current}.test`;
    fs.symlinkSync(path.join(sb.dir, 'releases', v3), tmp);
    fs.renameSync(tmp, current);
    execFileSync('sh', ['-c', svc?.start as string]);
    await waitFor(async () => (await answers(sb.port)) && (await metrics(sb.port)).version === 'v3', 'v3 to answer', 30_000);

    await sb.redeploySick();
    expect(path.basename(fs.realpathSync(current))).toBe(sb.sickRelease);
    const m = await metrics(sb.port);
    expect(m.version).toBe('v4');
    expect(m.mode).toBe('leak');
  });

  it('redeploySick refuses while the sick release is live, and leaves the service running', async () => {
    const sb = await createDemoSandbox({ dir: tmpParent(), speed: 0.2 });
    sandboxes.push(sb);
    await expect(sb.redeploySick()).rejects.toThrow(/already live/);
    expect(await answers(sb.port)).toBe(true);
    expect(path.basename(fs.realpathSync(path.join(sb.dir, 'current')))).toBe(sb.sickRelease);
  });

  it('stop() stops the service and removes the sandbox; keep leaves the files', async () => {
    const sb = await createDemoSandbox({ dir: tmpParent(), speed: 0.2 });
    expect(await answers(sb.port)).toBe(true);
    await sb.stop();
    expect(fs.existsSync(sb.dir)).toBe(false);
    expect(await answers(sb.port)).toBe(false);
    await sb.stop(); // idempotent

    const kept = await createDemoSandbox({ dir: tmpParent(), speed: 0.2, keep: true });
    await kept.stop();
    expect(await answers(kept.port)).toBe(false);
    expect(fs.existsSync(path.join(kept.dir, 'rollback-config.yml'))).toBe(true);
    expect(fs.existsSync(path.join(kept.dir, 'run', 'service.pid'))).toBe(false);
  });

  it('rejects a nonsensical speed before touching the disk', async () => {
    const parent = tmpParent();
    await expect(createDemoSandbox({ dir: parent, speed: 0 })).rejects.toThrow(/speed/);
    expect(fs.readdirSync(parent)).toEqual([]);
  });
});
