/**
 * What the fleet monitor needs to roll a fleet back: a runner it is given (the fleet rollback of the
 * `rollback` command: pre-check, all-or-nothing lock, the environment's rollout settings, per-host
 * history), so the monitor decides when and on which hosts, and never how.
 *
 * `hostByHostRunner` is a runner over an opened fleet from the parts every host already has: one
 * target for the fleet (chooseFleetTarget), the rollout scheduler with the environment's rollout
 * settings, and each host's own engine for its rollback (its lock, journal and history). It has no
 * fleet-wide pre-check nor all-or-nothing lock: a host whose lock is held fails on its own.
 */
import type { RollbackRequest, RollbackResult } from '../engine/types.js';
import { chooseFleetTarget, fleetExit, idleHost, rolloutSettings, runRollout, type FleetHostResult, type FleetMember, type HostRun, type OpenFleet } from '../fleet/index.js';
import type { MonitorEngine } from './context.js';
import { errorText } from './sources/sample.js';

export interface FleetRollbackRequest {
  /** The target; absent: the fleet's default target (newest older than live on every host, bad on none). */
  to?: string;
  /** The hosts to roll back (names), in configuration order; the others are left out as by `--hosts`. */
  hosts: string[];
  reason: string;
  /** The policy trigger that fired (history's `trigger`). */
  trigger: string;
  /** Recorded in each host's history: the hosts, values, thresholds and baselines. */
  explanation: string;
  /** Each host's live release when the rollback was decided: a host where it changed is refused. */
  expectFrom: Record<string, string | null>;
  signal?: AbortSignal;
}

export interface FleetRollbackOutcome {
  ok: boolean;
  exit_code: number;
  /** The fleet's target (null: none could be chosen; `error` says why). */
  to: string | null;
  /** Every host asked for, with its status (verified, failed, untouched ...). */
  hosts: FleetHostResult[];
  error?: string;
}

export type FleetRollbackRunner = (req: FleetRollbackRequest) => Promise<FleetRollbackOutcome>;

function hostRun(r: RollbackResult): HostRun {
  const status: HostRun['status'] = r.ok ? 'verified' : r.exit_code === 2 ? 'verify_failed' : 'failed';
  return {
    status,
    from: r.from,
    to: r.to,
    verification: r.verification,
    steps: r.steps,
    duration_ms: r.duration_ms,
    error: r.ok ? null : (r.error ?? `exit ${r.exit_code}`),
  };
}

export function hostByHostRunner(fleet: OpenFleet, engineFor: (m: FleetMember) => MonitorEngine): FleetRollbackRunner {
  return async (req) => {
    const members = fleet.members.filter((m) => req.hosts.includes(m.host.name));
    const listings = await Promise.all(members.map(async (m) => ({ name: m.host.name, backups: await m.handle.store.list() })));
    const choice = chooseFleetTarget(listings, req.to);
    if (!choice.ok) {
      const hosts = members.map((m) => idleHost(m.host.name, choice.live[m.host.name] ?? null, req.to ?? '', 'untouched'));
      return { ok: false, exit_code: 1, to: null, hosts, error: choice.reason };
    }
    const to = choice.target;
    const outcome = await runRollout({
      hosts: members.map((m) => ({ name: m.host.name, from: choice.live[m.host.name] ?? null })),
      to,
      settings: rolloutSettings(fleet.fleet.env.rollout, members.length, fleet.concurrency),
      ...(req.signal ? { signal: req.signal } : {}),
      runHost: async (name, signal) => {
        const m = members.find((x) => x.host.name === name) as FleetMember;
        if (choice.onTarget.includes(name)) return { ...idleHost(name, to, to, 'skipped'), status: 'skipped' as const };
        const request: RollbackRequest = {
          env: m.host.env.name,
          kind: 'standard',
          to,
          reason: req.reason,
          trigger: req.trigger,
          explanation: req.explanation,
          expectFrom: req.expectFrom[name] ?? null,
          ...(signal ? { signal } : {}),
        };
        try {
          return hostRun(await engineFor(m).run(request));
        } catch (err) {
          return { ...idleHost(name, choice.live[name] ?? null, to, 'failed'), status: 'failed' as const, error: errorText(err) };
        }
      },
    });
    const exit = fleetExit(outcome.hosts);
    return { ok: exit.ok, exit_code: exit.exitCode, to, hosts: outcome.hosts };
  };
}
