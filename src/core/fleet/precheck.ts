/**
 * The fleet pre-check, before anything changes: every selected host is asked for its backups and its
 * lock owner side by side; from those listings the fleet's target is chosen (pure, target.ts) and then
 * validated on each host not already on it, side by side. Both rounds are bounded by the fleet's
 * concurrency, and neither waits on the other's hosts, so any number of hosts goes through.
 *
 * Verdict: a held lock on any host is exit 3 and wins over every other failure (also when every host is
 * already on the target); any other failure (unreachable, target missing or invalid, drift without
 * --to) is exit 1; the message names each host and what is wrong there. Nothing is changed either way.
 */
import { describeOwner, lockOwnerFile, lockStatus, parseOwner, type LockOwner } from '../engine/lock.js';
import { ExitCode, UserError } from '../errors.js';
import { TransportError } from '../exec/errors.js';
import type { Backup } from '../stores/types.js';
import type { OpenFleet } from './open.js';
import { chooseFleetTarget, liveOf, type FleetTargetChoice } from './target.js';

export interface HostPrecheck {
  name: string;
  reachable: boolean;
  /** Its backups could be listed (the fleet's target is chosen from the hosts that were). */
  listed: boolean;
  live: string | null;
  /** Its environment lock is held (by `lock`, or an owner file that cannot be read). */
  locked: boolean;
  lock: LockOwner | null;
  /** Already live on the target: nothing to switch there (a re-run verifies it or skips it). */
  onTarget: boolean;
  /** What is wrong on this host, one line each (empty: ready). */
  problems: string[];
  backups: Backup[];
}

export interface FleetPrecheck {
  ok: boolean;
  /** 0 ready, 3 a lock is held somewhere, 1 anything else. */
  exitCode: 0 | 1 | 3;
  env: string;
  target: string | null;
  choice: FleetTargetChoice | null;
  hosts: HostPrecheck[];
  /** Hosts left out by --hosts. */
  excluded: string[];
  /** One line: what is wrong where, or what is ready. */
  message: string;
}

export interface PrecheckOptions {
  to?: string;
  /** Emergency: the target must be present, but its validation is skipped (as on one host). */
  emergency?: boolean;
  /** --break-lock: a stale lock, or one whose process is gone from this machine, does not count as held (the lock step breaks it). */
  breakLock?: boolean;
  signal?: AbortSignal;
}

function errorLine(err: unknown): string {
  if (err instanceof TransportError) return `unreachable: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

export async function precheckFleet(open: OpenFleet, options: PrecheckOptions = {}): Promise<FleetPrecheck> {
  const { members } = open;
  const results: HostPrecheck[] = members.map((m) => ({
    name: m.host.name,
    reachable: true,
    listed: false,
    live: null,
    locked: false,
    lock: null,
    onTarget: false,
    problems: [],
    backups: [],
  }));
  // Every host is asked for its backups and its lock side by side (at most `concurrency` at a time);
  // the target is chosen from what came back, then validated on every host side by side.
  // Both questions side by side on a host too: its ssh master is opened when the fleet is opened, and
  // both calls wait for it and ride on it.
  const listing = await open.each(async (m) => {
    const [backups, owner] = await Promise.all([m.handle.store.list({ signal: options.signal }), m.handle.state.read(lockOwnerFile(m.host.env.name))]);
    return { backups, owner };
  }, options.signal);
  listing.forEach(({ result }, i) => {
    const r = results[i] as HostPrecheck;
    if (result.status === 'rejected') {
      r.reachable = !(result.reason instanceof TransportError);
      r.problems.push(errorLine(result.reason));
      return;
    }
    r.backups = result.value.backups;
    r.listed = true;
    r.live = liveOf(r.backups);
    if (result.value.owner !== null) {
      const owner = parseOwner(result.value.owner);
      const st = lockStatus(owner, members[i]?.host.env.policy.rollback.stale_lock_minutes ?? 30);
      if (options.breakLock && (owner === null || st.stale || st.deadOnThisHost)) return;
      r.locked = true;
      r.lock = owner;
      r.problems.push(describeOwner(members[i]?.host.env.name ?? open.fleet.env.name, r.lock));
    }
  });
  const listedHosts = results.filter((r) => r.listed);
  const c = listedHosts.length === 0 ? null : chooseFleetTarget(listedHosts, options.to);
  if (c?.ok) {
    for (const r of listedHosts) r.onTarget = c.onTarget.includes(r.name);
    const validating = members.filter((_, i) => results[i]?.listed && !results[i]?.onTarget);
    if (!options.emergency) {
      const validated = await open.each(async (m) => (validating.includes(m) ? m.handle.store.validateTarget(c.target, { signal: options.signal }) : undefined), options.signal);
      validated.forEach(({ result }, i) => {
        const r = results[i] as HostPrecheck;
        if (result.status === 'fulfilled') return;
        if (result.reason instanceof TransportError) r.reachable = false;
        r.problems.push(`${c.target}: ${errorLine(result.reason)}`);
      });
    }
  }
  return verdict(open.fleet.env.name, results, c, open.fleet.excluded);
}

function verdict(env: string, hosts: HostPrecheck[], choice: FleetTargetChoice | null, excluded: string[]): FleetPrecheck {
  const locked = hosts.filter((h) => h.locked);
  const failing = hosts.filter((h) => h.problems.length > 0);
  const perHost = failing.map((h) => `${h.name}: ${h.problems.join('; ')}`);
  const fleetProblem = choice && !choice.ok ? choice.reason : choice === null ? 'no host could be reached' : null;
  const exitCode: 0 | 1 | 3 = locked.length > 0 ? ExitCode.LOCKED : failing.length > 0 || fleetProblem ? ExitCode.FAILED : ExitCode.OK;
  const target = choice?.ok ? choice.target : null;
  let message: string;
  if (exitCode === ExitCode.OK) {
    const on = hosts.filter((h) => h.onTarget).map((h) => h.name);
    message = `${env}: ${hosts.length} ${hosts.length === 1 ? 'host' : 'hosts'} ready for ${target ?? '?'}${on.length > 0 ? ` (already on it: ${on.join(', ')})` : ''}`;
  } else {
    const lead = exitCode === ExitCode.LOCKED ? `${env} is locked on ${locked.map((h) => h.name).join(', ')}` : `cannot roll back ${env}`;
    message = `${lead}: ${[...perHost, ...(fleetProblem ? [fleetProblem] : [])].join(' · ')}; nothing was changed`;
  }
  if (excluded.length > 0) message += ` (left out by --hosts: ${excluded.join(', ')})`;
  return { ok: exitCode === ExitCode.OK, exitCode, env, target, choice, hosts, excluded, message };
}

/** The pre-check's failure as the error a command exits with (exit 3 for a held lock, else 1). */
export function precheckError(p: FleetPrecheck): UserError {
  const locked = p.exitCode === ExitCode.LOCKED;
  const drift = p.choice && !p.choice.ok && p.choice.code === 'DRIFT';
  const unreachable = p.hosts.filter((h) => !h.reachable).map((h) => h.name);
  const hint = locked
    ? 'wait for the rollback or deploy holding it to finish; --break-lock breaks only a stale lock'
    : drift
      ? `pass --to NAME (a release from \`rollback-tui list --env ${p.env}\`)`
      : unreachable.length > 0
        ? `bring ${unreachable.join(', ')} back, or leave ${unreachable.length === 1 ? 'it' : 'them'} out with --hosts ${p.hosts.filter((h) => h.reachable).map((h) => h.name).join(',')}`
        : `run \`rollback-tui list --env ${p.env}\` to see the backups on each host`;
  return new UserError(p.message, {
    exitCode: locked ? ExitCode.LOCKED : ExitCode.FAILED,
    code: locked ? 'LOCK_HELD' : drift ? 'DRIFT' : unreachable.length > 0 ? 'UNREACHABLE' : (p.choice && !p.choice.ok ? p.choice.code : 'PRECHECK_FAILED'),
    hint,
  });
}
