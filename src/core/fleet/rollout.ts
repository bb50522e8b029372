/**
 * The rollout scheduler of a fleet rollback: which host goes when. Pure scheduling: the work on a host
 * (stop, switch, start, verify: one host's rollback) is the `runHost` callback, so the same scheduler
 * serves the engine, the dry run and the tests.
 *
 * - parallel: batches of `batch` hosts (default: all at once), each batch's hosts side by side (at most
 *   `concurrency` at a time), `pause_seconds` between batches;
 * - serial: one host at a time;
 * - canary: the first host alone, and it must end verified (or, in an emergency, switched); then the rest
 *   in batches.
 * A failing host (failed, verify_failed, unreachable) counts toward `max_failures`; past it no new host
 * starts, hosts in flight finish, the others stay `untouched`. A failed canary stops the rollout whatever
 * `max_failures` says.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RolloutConfig } from '../config/schema.js';
import { ExitCode } from '../errors.js';
import type { StepResult, Verification } from '../engine/types.js';
import { DEFAULT_FLEET_CONCURRENCY, mapLimit } from './open.js';

export type HostStatus = 'verified' | 'switched' | 'verify_failed' | 'failed' | 'untouched' | 'skipped' | 'unreachable' | 'planned' | 'excluded';
/** What a host's own run can end in (the scheduler sets untouched and excluded itself). */
export type HostRunStatus = Exclude<HostStatus, 'untouched' | 'excluded'>;

/** One host in the fleet result (the `hosts` entries of `rollback --json`). */
export interface FleetHostResult {
  name: string;
  status: HostStatus;
  from: string | null;
  to: string;
  verification: Verification;
  steps: StepResult[];
  duration_ms: number;
  error: string | null;
}

export type HostRun = Omit<FleetHostResult, 'name' | 'to'> & { status: HostRunStatus; to?: string };

export interface RolloutSettings {
  order: 'parallel' | 'serial' | 'canary';
  /** Hosts per batch (after the canary), at least 1. */
  batch: number;
  /** Failing hosts tolerated; one more stops the rollout. */
  maxFailures: number;
  pauseMs: number;
  /** Hosts worked on at once within a batch. */
  concurrency: number;
}

const FAILING: ReadonlySet<HostStatus> = new Set(['failed', 'verify_failed', 'unreachable']);

export function isFailing(status: HostStatus): boolean {
  return FAILING.has(status);
}

/** A count, or a percentage of `of` ("25%"), rounded up (batch) or down (max_failures). */
function countOf(value: number | string, of: number, round: (x: number) => number): number {
  if (typeof value === 'number') return value;
  return round((Number.parseFloat(value) / 100) * of);
}

/** The rollout key of an environment, for `hosts` selected hosts. */
export function rolloutSettings(cfg: RolloutConfig | undefined, hosts: number, concurrency = DEFAULT_FLEET_CONCURRENCY): RolloutSettings {
  const order = cfg?.order ?? 'parallel';
  const batch = order === 'serial' ? 1 : cfg?.batch === undefined ? Math.max(1, hosts) : Math.max(1, countOf(cfg.batch, hosts, Math.ceil));
  return {
    order,
    batch,
    maxFailures: Math.max(0, countOf(cfg?.max_failures ?? 0, hosts, Math.floor)),
    pauseMs: Math.round((cfg?.pause_seconds ?? 0) * 1000),
    concurrency: Math.max(1, concurrency),
  };
}

/** The batches, in order (canary: the first host alone). */
export function planBatches(hosts: readonly string[], s: RolloutSettings): string[][] {
  const rest = s.order === 'canary' ? hosts.slice(1) : [...hosts];
  const batches: string[][] = s.order === 'canary' && hosts.length > 0 ? [[hosts[0] as string]] : [];
  for (let i = 0; i < rest.length; i += s.batch) batches.push(rest.slice(i, i + s.batch));
  return batches;
}

export type StopReason = 'max_failures' | 'canary' | 'aborted';

export interface RolloutOutcome {
  /** Every host, selected and excluded, in the order given. */
  hosts: FleetHostResult[];
  batches: string[][];
  failures: number;
  /** Why the rollout stopped early (null: it ran to the end). */
  stopped: StopReason | null;
}

export interface RolloutEvents {
  onHostStart?: (name: string, batch: number) => void;
  onHostEnd?: (result: FleetHostResult) => void;
  onPause?: (ms: number, nextBatch: number) => void;
  onStop?: (reason: StopReason, failures: number) => void;
}

export interface RunRolloutOptions extends RolloutEvents {
  /** Selected hosts in order, each with its live release. */
  hosts: ReadonlyArray<{ name: string; from: string | null }>;
  /** Hosts left out by --hosts (reported `excluded`, never touched). */
  excluded?: ReadonlyArray<{ name: string; from: string | null }>;
  to: string;
  settings: RolloutSettings;
  emergency?: boolean;
  runHost: (name: string, signal: AbortSignal | undefined) => Promise<HostRun>;
  /** Waits between batches (default: a timer; it ends early on abort). */
  pause?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  signal?: AbortSignal;
}

const defaultPause = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  sleep(ms, undefined, signal ? { signal } : undefined).catch(() => undefined);

/** A host's result before (or without) any work on it: untouched, excluded, planned, skipped. */
export const idleHost = (name: string, from: string | null, to: string, status: HostStatus): FleetHostResult => ({
  name,
  status,
  from,
  to,
  verification: 'skipped',
  steps: [],
  duration_ms: 0,
  error: null,
});

export async function runRollout(o: RunRolloutOptions): Promise<RolloutOutcome> {
  const results = new Map<string, FleetHostResult>();
  for (const h of o.hosts) results.set(h.name, idleHost(h.name, h.from, o.to, 'untouched'));
  const batches = planBatches(o.hosts.map((h) => h.name), o.settings);
  let failures = 0;
  let stopped: StopReason | null = null;
  const stop = (reason: StopReason): void => {
    if (stopped) return;
    stopped = reason;
    o.onStop?.(reason, failures);
  };
  const good = (s: HostStatus) => s === 'verified' || s === 'skipped' || s === 'planned' || (o.emergency === true && s === 'switched');

  for (const [b, batch] of batches.entries()) {
    if (stopped) break;
    if (o.signal?.aborted) {
      stop('aborted');
      break;
    }
    if (b > 0 && o.settings.pauseMs > 0) {
      o.onPause?.(o.settings.pauseMs, b);
      await (o.pause ?? defaultPause)(o.settings.pauseMs, o.signal);
      if (o.signal?.aborted) {
        stop('aborted');
        break;
      }
    }
    const canary = o.settings.order === 'canary' && b === 0;
    await mapLimit(batch, o.settings.concurrency, async (name) => {
      if (stopped) return;
      if (o.signal?.aborted) return stop('aborted');
      o.onHostStart?.(name, b);
      const before = results.get(name) as FleetHostResult;
      let r: FleetHostResult;
      try {
        const run = await o.runHost(name, o.signal);
        r = { ...before, ...run, name, to: run.to ?? o.to };
      } catch (err) {
        r = { ...before, status: 'failed', error: err instanceof Error ? err.message : String(err) };
      }
      results.set(name, r);
      if (isFailing(r.status)) failures++;
      o.onHostEnd?.(r);
      if (canary && !good(r.status)) stop('canary');
      else if (failures > o.settings.maxFailures) stop('max_failures');
    });
  }
  const excluded = (o.excluded ?? []).map((h) => idleHost(h.name, h.from, o.to, 'excluded'));
  return { hosts: [...results.values(), ...excluded], batches, failures, stopped };
}

/**
 * `ok` and the exit code of a fleet rollback, from the selected hosts' statuses: ok when every one
 * ends verified, skipped, planned (dry run) or, in an emergency, switched (exit 0); 2 when every one
 * was switched but one or more failed verification; 1 otherwise (the rollout stopped, a host failed or
 * was unreachable).
 */
export function fleetExit(hosts: readonly Pick<FleetHostResult, 'status'>[], opts: { emergency?: boolean } = {}): { ok: boolean; exitCode: 0 | 1 | 2 } {
  const selected = hosts.filter((h) => h.status !== 'excluded');
  const done = (s: HostStatus) => s === 'verified' || s === 'skipped' || s === 'planned' || (opts.emergency === true && s === 'switched');
  if (selected.every((h) => done(h.status))) return { ok: true, exitCode: ExitCode.OK };
  const switched = (s: HostStatus) => done(s) || s === 'switched' || s === 'verify_failed';
  if (selected.every((h) => switched(h.status)) && selected.some((h) => h.status === 'verify_failed')) {
    return { ok: false, exitCode: ExitCode.VERIFICATION_FAILED };
  }
  return { ok: false, exitCode: ExitCode.FAILED };
}

const PHRASES: Record<HostStatus, string> = {
  verified: 'verified',
  switched: 'switched (not verified)',
  verify_failed: 'verification failed',
  failed: 'failed',
  untouched: 'untouched',
  skipped: 'already on the target',
  unreachable: 'unreachable',
  planned: 'planned',
  excluded: 'left out',
};

/** "app-1 verified on r2 · app-2 verification failed: on r2, /health 500 · app-3 untouched on r3". */
export function formatFleetSummary(hosts: readonly FleetHostResult[]): string {
  return hosts
    .map((h) => {
      const on = h.status === 'untouched' || h.status === 'excluded' || h.status === 'unreachable' || h.status === 'failed' ? h.from : h.to;
      if (h.status === 'verify_failed') return `${h.name} verification failed: on ${h.to}${h.error ? `, ${h.error.replace(/^verification failed: /, '')}` : ''}`;
      if (h.status === 'failed') return `${h.name} failed${h.error ? `: ${h.error}` : ''} (on ${on ?? 'nothing live'})`;
      if (h.status === 'planned') return `${h.name} planned: ${h.from ?? '(nothing live)'} -> ${h.to}`;
      return `${h.name} ${PHRASES[h.status]} on ${on ?? '(nothing live)'}`;
    })
    .join(' · ');
}

/**
 * After a stopped rollout the hosts are on mixed releases: how to go either way (re-run to finish, or
 * roll the switched hosts back to where they were).
 */
export function stoppedAdvice(env: string, hosts: readonly FleetHostResult[], reason: string): string[] {
  const moved = hosts.filter((h) => h.status === 'verified' || h.status === 'switched' || h.status === 'verify_failed');
  const left = hosts.filter((h) => h.status === 'untouched' || h.status === 'failed' || h.status === 'unreachable');
  if (left.length === 0 || moved.length === 0) return [];
  const to = moved[0]?.to ?? '';
  const lines = [`the hosts are on mixed releases; to finish: rollback-tui rollback --env ${env} --to ${to} --reason "${reason}" (hosts already on ${to} are skipped)`];
  const byFrom = new Map<string, string[]>();
  for (const h of moved) if (h.from) byFrom.set(h.from, [...(byFrom.get(h.from) ?? []), h.name]);
  for (const [from, names] of byFrom) {
    lines.push(`to undo instead: rollback-tui rollback --env ${env} --hosts ${names.join(',')} --to ${from} --reason "${reason}"`);
  }
  return lines;
}
