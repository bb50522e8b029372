/**
 * When a trigger holds for a fleet (`rollback_policy.fleet.breach`): on more than half of the selected
 * hosts (`majority`, the default), on any one (`any`), or on every one (`all`). An unreachable or
 * not-yet-sampled host is inconclusive: it never counts as a breach, but it stays in the count of
 * selected hosts, so a fleet that cannot be seen is not rolled back on the word of a few hosts.
 * Pure: the monitor samples each host and asks this per trigger.
 */
import type { FleetBreach } from '../config/schema.js';

export type HostTriggerState = 'breached' | 'ok' | 'inconclusive';

export interface FleetTriggerVerdict {
  holds: boolean;
  breached: string[];
  inconclusive: string[];
  /** How many breached hosts make the fleet hold under the mode. */
  needed: number;
  /** "2 of 3 hosts breached (app-1, app-2; majority needs 2)". */
  explanation: string;
}

export function breachesNeeded(mode: FleetBreach, hosts: number): number {
  if (mode === 'any') return 1;
  if (mode === 'all') return hosts;
  return Math.floor(hosts / 2) + 1;
}

export function fleetTrigger(states: ReadonlyArray<{ host: string; state: HostTriggerState }>, mode: FleetBreach = 'majority'): FleetTriggerVerdict {
  const breached = states.filter((s) => s.state === 'breached').map((s) => s.host);
  const inconclusive = states.filter((s) => s.state === 'inconclusive').map((s) => s.host);
  const needed = breachesNeeded(mode, states.length);
  const holds = states.length > 0 && breached.length >= needed;
  const unseen = inconclusive.length > 0 ? `; inconclusive (not counted as breached): ${inconclusive.join(', ')}` : '';
  const explanation = `${breached.length} of ${states.length} ${states.length === 1 ? 'host' : 'hosts'} breached${breached.length > 0 ? ` (${breached.join(', ')})` : ''}; ${mode} needs ${needed}${unseen}`;
  return { holds, breached, inconclusive, needed, explanation };
}
