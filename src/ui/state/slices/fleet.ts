/**
 * The fleet slice (a console on an environment with `executor.hosts`): one row per host for the Hosts
 * panel (live release, health, p95, memory, lock, drift), each host's chart series and monitor state,
 * so the charts and triggers follow the selected host, and the header's one-line summary. Null on a
 * one-host environment: nothing of it is drawn then.
 */
import type { FleetMonitorState } from '../../../core/monitor/fleet-monitor.js';
import type { MonitorState, Sample } from '../../../core/monitor/types.js';
import { SERIES_LIMIT, type SeriesPoint } from '../types.js';
import { appendBounded } from './bounded.js';
import { pointOf } from './monitor.js';

export type HostHealth = 'up' | 'down' | 'unreachable' | 'unknown';

export interface HostRow {
  name: string;
  live: string | null;
  health: HostHealth;
  p95: number | null;
  memory: number | null;
  /** Who holds the host's lock, when someone does. */
  lock: string | null;
  /** Runs another release than most of the fleet. */
  drift: boolean;
  /** Triggers breached on this host. */
  breached: string[];
}

export interface FleetSlice {
  hosts: HostRow[];
  states: Record<string, MonitorState>;
  series: Record<string, SeriesPoint[]>;
  locks: Record<string, string | null>;
}

export type FleetAction =
  | { type: 'fleet/state'; state: FleetMonitorState }
  | { type: 'fleet/sample'; host: string; sample: Sample }
  | { type: 'fleet/lock'; host: string; owner: string | null };

/** The release most hosts run (ties: the first host's), or null when none is live anywhere. */
export function majorityRelease(lives: ReadonlyArray<string | null>): string | null {
  const counts = new Map<string, number>();
  for (const l of lives) if (l !== null) counts.set(l, (counts.get(l) ?? 0) + 1);
  let best: string | null = null;
  for (const [release, n] of counts) if (best === null || n > (counts.get(best) ?? 0)) best = release;
  return best;
}

function healthOf(unreachable: string | null, state: MonitorState): HostHealth {
  if (unreachable !== null) return 'unreachable';
  const up = state.lastSample?.up;
  return up === true ? 'up' : up === false ? 'down' : 'unknown';
}

export function hostRows(fs: FleetMonitorState, locks: Record<string, string | null>): HostRow[] {
  const common = majorityRelease(fs.hosts.map((h) => h.state.live));
  return fs.hosts.map((h) => ({
    name: h.name,
    live: h.state.live,
    health: healthOf(h.unreachable, h.state),
    p95: h.state.lastSample?.p95_latency_ms ?? null,
    memory: h.state.lastSample?.memory_usage_percent ?? null,
    lock: locks[h.name] ?? null,
    drift: h.state.live !== common,
    breached: h.state.triggers.filter((t) => t.status === 'breached').map((t) => t.name),
  }));
}

/** "3 hosts · 3 on backup_x · 1 unhealthy" (and how many drift, are unreachable or locked). */
export function fleetHeadline(rows: readonly HostRow[]): string {
  const common = majorityRelease(rows.map((r) => r.live));
  const on = rows.filter((r) => r.live === common && common !== null).length;
  const parts = [`${rows.length} ${rows.length === 1 ? 'host' : 'hosts'}`, common ? `${on} on ${common}` : 'nothing live'];
  const drift = rows.filter((r) => r.drift).length;
  if (drift > 0) parts.push(`${drift} drift`);
  const unhealthy = rows.filter((r) => r.health === 'down' || r.breached.length > 0).length;
  if (unhealthy > 0) parts.push(`${unhealthy} unhealthy`);
  const unreachable = rows.filter((r) => r.health === 'unreachable').length;
  if (unreachable > 0) parts.push(`${unreachable} unreachable`);
  const locked = rows.filter((r) => r.lock !== null).length;
  if (locked > 0) parts.push(`${locked} locked`);
  return parts.join(' · ');
}

export const emptyFleet: FleetSlice = { hosts: [], states: {}, series: {}, locks: {} };

export function reduceFleet(s: FleetSlice, a: FleetAction): FleetSlice {
  switch (a.type) {
    case 'fleet/state':
      return { ...s, hosts: hostRows(a.state, s.locks), states: Object.fromEntries(a.state.hosts.map((h) => [h.name, h.state])) };
    case 'fleet/sample':
      return { ...s, series: { ...s.series, [a.host]: appendBounded(s.series[a.host] ?? [], pointOf(a.sample), SERIES_LIMIT) } };
    case 'fleet/lock': {
      if ((s.locks[a.host] ?? null) === a.owner) return s;
      const locks = { ...s.locks, [a.host]: a.owner };
      return { ...s, locks, hosts: s.hosts.map((h) => (h.name === a.host ? { ...h, lock: a.owner } : h)) };
    }
  }
}
