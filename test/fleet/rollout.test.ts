/**
 * The rollout scheduler with fake host callbacks: order, batches, concurrency bound, pauses, failure
 * limits (count and percent), the canary rule, abort, and the fleet exit codes (0 done, 2 verification failed, 1 stopped).
 */
import { describe, expect, it } from 'vitest';
import {
  fleetExit,
  formatFleetSummary,
  planBatches,
  rolloutSettings,
  runRollout,
  stoppedAdvice,
  type HostRun,
  type HostRunStatus,
  type RunRolloutOptions,
} from '../../src/core/fleet/rollout.js';

const names = (n: number) => Array.from({ length: n }, (_, i) => `app-${i + 1}`);

interface Recorder {
  started: string[];
  maxInFlight: number;
  pauses: number[];
  run: (o: Omit<Partial<RunRolloutOptions>, 'hosts'> & { outcomes?: Record<string, HostRunStatus>; hosts: string[] }) => ReturnType<typeof runRollout>;
}

/** Each fake host resolves on a later tick, so hosts of a batch are really in flight together. */
function recorder(): Recorder {
  const rec: Recorder = {
    started: [],
    maxInFlight: 0,
    pauses: [],
    run: (o) => {
      let inFlight = 0;
      const { outcomes = {}, hosts, ...rest } = o;
      return runRollout({
        hosts: hosts.map((name) => ({ name, from: 'r3' })),
        to: 'r2',
        settings: rolloutSettings(undefined, hosts.length),
        pause: async (ms) => {
          rec.pauses.push(ms);
        },
        runHost: async (name): Promise<HostRun> => {
          rec.started.push(name);
          inFlight++;
          rec.maxInFlight = Math.max(rec.maxInFlight, inFlight);
          for (let i = 0; i < 3; i++) await Promise.resolve();
          inFlight--;
          const status = outcomes[name] ?? 'verified';
          return { status, from: 'r3', verification: status === 'verify_failed' ? 'failed' : 'passed', steps: [], duration_ms: 1, error: status === 'verified' ? null : `${name} broke` };
        },
        ...rest,
      });
    },
  };
  return rec;
}

describe('rollout settings and batches', () => {
  it('defaults: parallel, every host in one batch, no failure tolerated, no pause', () => {
    const s = rolloutSettings(undefined, 5);
    expect(s).toMatchObject({ order: 'parallel', batch: 5, maxFailures: 0, pauseMs: 0 });
    expect(planBatches(names(5), s)).toEqual([names(5)]);
  });

  it('batch as a count and as a percentage (rounded up), max_failures percent rounded down', () => {
    expect(planBatches(names(5), rolloutSettings({ order: 'parallel', batch: 2, max_failures: 0, pause_seconds: 0 }, 5))).toEqual([
      ['app-1', 'app-2'],
      ['app-3', 'app-4'],
      ['app-5'],
    ]);
    const pct = rolloutSettings({ order: 'parallel', batch: '25%', max_failures: '10%', pause_seconds: 1.5 }, 10);
    expect(pct).toMatchObject({ batch: 3, maxFailures: 1, pauseMs: 1500 });
    expect(rolloutSettings({ order: 'parallel', batch: '1%', max_failures: '10%', pause_seconds: 0 }, 5)).toMatchObject({ batch: 1, maxFailures: 0 });
  });

  it('serial is one host a batch; canary is the first host alone, then the rest in batches', () => {
    expect(planBatches(names(3), rolloutSettings({ order: 'serial', batch: 5, max_failures: 0, pause_seconds: 0 }, 3))).toEqual([['app-1'], ['app-2'], ['app-3']]);
    expect(planBatches(names(5), rolloutSettings({ order: 'canary', batch: 2, max_failures: 0, pause_seconds: 0 }, 5))).toEqual([
      ['app-1'],
      ['app-2', 'app-3'],
      ['app-4', 'app-5'],
    ]);
    expect(planBatches(names(4), rolloutSettings({ order: 'canary', max_failures: 0, pause_seconds: 0 }, 4))).toEqual([['app-1'], ['app-2', 'app-3', 'app-4']]);
  });
});

describe('running a rollout', () => {
  it('parallel: every host runs, at most `concurrency` at a time, exit 0', async () => {
    const rec = recorder();
    const out = await rec.run({ hosts: names(10), settings: { ...rolloutSettings(undefined, 10), concurrency: 3 } });
    expect(out.hosts.map((h) => h.status)).toEqual(Array(10).fill('verified'));
    expect(rec.maxInFlight).toBe(3);
    expect(out.stopped).toBeNull();
    expect(fleetExit(out.hosts)).toEqual({ ok: true, exitCode: 0 });
  });

  it('serial with max_failures 0: the first failure stops, the rest untouched, exit 1', async () => {
    const rec = recorder();
    const settings = rolloutSettings({ order: 'serial', max_failures: 0, pause_seconds: 2 }, 4);
    const out = await rec.run({ hosts: names(4), settings, outcomes: { 'app-2': 'verify_failed' } });
    expect(out.hosts.map((h) => [h.name, h.status])).toEqual([
      ['app-1', 'verified'],
      ['app-2', 'verify_failed'],
      ['app-3', 'untouched'],
      ['app-4', 'untouched'],
    ]);
    expect(rec.started).toEqual(['app-1', 'app-2']);
    expect(rec.pauses).toEqual([2000]);
    expect(out.stopped).toBe('max_failures');
    expect(out.hosts[2]).toMatchObject({ from: 'r3', to: 'r2', steps: [], error: null });
    expect(fleetExit(out.hosts)).toEqual({ ok: false, exitCode: 1 });
  });

  it('a failure within max_failures goes on; one more stops; hosts in flight finish', async () => {
    const rec = recorder();
    const settings = { ...rolloutSettings({ order: 'parallel', batch: 3, max_failures: 1, pause_seconds: 0 }, 6), concurrency: 3 };
    const out = await rec.run({ hosts: names(6), settings, outcomes: { 'app-1': 'failed', 'app-2': 'unreachable' } });
    // Batch 1 was in flight together: app-3 finishes although the limit was passed by app-2.
    expect(out.hosts.map((h) => h.status)).toEqual(['failed', 'unreachable', 'verified', 'untouched', 'untouched', 'untouched']);
    expect(out.failures).toBe(2);
    expect(out.stopped).toBe('max_failures');
  });

  it('past the limit no new host of the same batch starts', async () => {
    const rec = recorder();
    const settings = { ...rolloutSettings({ order: 'parallel', max_failures: 0, pause_seconds: 0 }, 5), concurrency: 1 };
    const out = await rec.run({ hosts: names(5), settings, outcomes: { 'app-2': 'failed' } });
    expect(rec.started).toEqual(['app-1', 'app-2']);
    expect(out.hosts.map((h) => h.status)).toEqual(['verified', 'failed', 'untouched', 'untouched', 'untouched']);
  });

  it('a failing canary touches nothing else, even with failures tolerated', async () => {
    const rec = recorder();
    const settings = rolloutSettings({ order: 'canary', max_failures: 3, pause_seconds: 0 }, 4);
    const out = await rec.run({ hosts: names(4), settings, outcomes: { 'app-1': 'verify_failed' } });
    expect(rec.started).toEqual(['app-1']);
    expect(out.stopped).toBe('canary');
    expect(out.hosts.map((h) => h.status)).toEqual(['verify_failed', 'untouched', 'untouched', 'untouched']);
    expect(fleetExit(out.hosts)).toEqual({ ok: false, exitCode: 1 });
  });

  it('a good canary, then the rest; a callback that throws is a failed host with its message', async () => {
    const rec = recorder();
    const settings = rolloutSettings({ order: 'canary', batch: 2, max_failures: 1, pause_seconds: 0 }, 3);
    const out = await runRollout({
      hosts: names(3).map((name) => ({ name, from: 'r3' })),
      to: 'r2',
      settings,
      pause: async () => {},
      runHost: async (name) => {
        rec.started.push(name);
        if (name === 'app-3') throw new Error('ssh: Connection reset');
        return { status: 'verified', from: 'r3', verification: 'passed', steps: [], duration_ms: 3, error: null };
      },
    });
    expect(out.hosts.map((h) => h.status)).toEqual(['verified', 'verified', 'failed']);
    expect(out.hosts[2]?.error).toBe('ssh: Connection reset');
    expect(out.stopped).toBeNull();
  });

  it('excluded hosts are reported and never run; an abort stops new hosts', async () => {
    const rec = recorder();
    const ac = new AbortController();
    const settings = rolloutSettings({ order: 'serial', max_failures: 5, pause_seconds: 0 }, 3);
    const out = await runRollout({
      hosts: names(3).map((name) => ({ name, from: 'r3' })),
      excluded: [{ name: 'app-9', from: 'r3' }],
      to: 'r2',
      settings,
      signal: ac.signal,
      runHost: async (name) => {
        rec.started.push(name);
        ac.abort();
        return { status: 'verified', from: 'r3', verification: 'passed', steps: [], duration_ms: 3, error: null };
      },
    });
    expect(rec.started).toEqual(['app-1']);
    expect(out.stopped).toBe('aborted');
    expect(out.hosts.map((h) => [h.name, h.status])).toEqual([
      ['app-1', 'verified'],
      ['app-2', 'untouched'],
      ['app-3', 'untouched'],
      ['app-9', 'excluded'],
    ]);
  });
});

describe('fleet exit codes', () => {
  const st = (...s: string[]) => s.map((status) => ({ status }) as { status: never });
  it('0 when every selected host is verified or skipped; excluded hosts do not count', () => {
    expect(fleetExit(st('verified', 'skipped', 'excluded'))).toEqual({ ok: true, exitCode: 0 });
    expect(fleetExit(st('planned', 'planned'))).toEqual({ ok: true, exitCode: 0 });
  });
  it('switched is done only in an emergency', () => {
    expect(fleetExit(st('switched', 'switched'), { emergency: true })).toEqual({ ok: true, exitCode: 0 });
    expect(fleetExit(st('switched', 'verified'))).toEqual({ ok: false, exitCode: 1 });
  });
  it('2 when every host switched but one or more failed verification', () => {
    expect(fleetExit(st('verified', 'verify_failed', 'skipped'))).toEqual({ ok: false, exitCode: 2 });
  });
  it('1 when the rollout stopped or a host failed or was unreachable', () => {
    expect(fleetExit(st('verified', 'verify_failed', 'untouched'))).toEqual({ ok: false, exitCode: 1 });
    expect(fleetExit(st('verified', 'unreachable'))).toEqual({ ok: false, exitCode: 1 });
    expect(fleetExit(st('failed'))).toEqual({ ok: false, exitCode: 1 });
  });
});

describe('summary and advice', () => {
  it('one line per host, and both ways out of mixed releases', async () => {
    const rec = recorder();
    const out = await rec.run({ hosts: names(3), settings: rolloutSettings({ order: 'serial', max_failures: 0, pause_seconds: 0 }, 3), outcomes: { 'app-2': 'verify_failed' } });
    const hosts = out.hosts.map((h) => (h.name === 'app-2' ? { ...h, error: '/health 500' } : h));
    expect(formatFleetSummary(hosts)).toBe('app-1 verified on r2 · app-2 verification failed: on r2, /health 500 · app-3 untouched on r3');
    expect(stoppedAdvice('prod', hosts, 'INC-1')).toEqual([
      'the hosts are on mixed releases; to finish: rollback-tui rollback --env prod --to r2 --reason "INC-1" (hosts already on r2 are skipped)',
      'to undo instead: rollback-tui rollback --env prod --hosts app-1,app-2 --to r3 --reason "INC-1"',
    ]);
  });
});
