/**
 * The fleet's view of its hosts' triggers: each host's own monitor judges its trigger, and a trigger
 * holds for the fleet per `rollback_policy.fleet.breach` over the hosts that can say (an unreachable,
 * collecting or inconclusive host cannot). Pure functions over the host slots, for the fleet monitor.
 */
import type { FleetBreach } from '../config/schema.js';
import { fleetTrigger, type FleetMember, type FleetTriggerVerdict, type HostTriggerState } from '../fleet/index.js';
import type { Monitor } from './monitor.js';
import type { TriggerState } from './types.js';

/** One selected host as the fleet monitor keeps it: its own monitor, and why it is unreachable (or null). */
export interface HostSlot {
  member: FleetMember;
  monitor: Monitor;
  unreachable: string | null;
}

export interface FleetTriggerView {
  name: string;
  verdict: FleetTriggerVerdict;
}

/** A host is breached, ok, or cannot say (unreachable, collecting, inconclusive). */
function hostTriggerState(slot: HostSlot, t: TriggerState | undefined): HostTriggerState {
  if (slot.unreachable !== null || !t) return 'inconclusive';
  if (t.status === 'breached') return 'breached';
  return t.status === 'ok' || t.status === 'warning' ? 'ok' : 'inconclusive';
}

/** Every enabled trigger of any host, judged for the fleet. */
export function combineTriggers(slots: readonly HostSlot[], breach: FleetBreach): FleetTriggerView[] {
  const names = new Set<string>();
  for (const s of slots) for (const t of s.monitor.getState().triggers) if (t.status !== 'disabled') names.add(t.name);
  return [...names].map((name) => ({
    name,
    verdict: fleetTrigger(
      slots.map((s) => ({ host: s.member.host.name, state: hostTriggerState(s, s.monitor.getState().triggers.find((t) => t.name === name)) })),
      breach,
    ),
  }));
}

/** "error_rate: 2 of 3 hosts breached (...); majority needs 2 — app-1: error rate 300/min > 60/min (baseline 0.5 x 2); ...". */
export function explainTrigger(slots: readonly HostSlot[], view: FleetTriggerView): string {
  const perHost = slots.map((s) => {
    if (s.unreachable !== null) return `${s.member.host.name}: unreachable (${s.unreachable})`;
    const t = s.monitor.getState().triggers.find((x) => x.name === view.name);
    return `${s.member.host.name} on ${s.monitor.getState().live ?? 'nothing live'}: ${t ? `${t.status}, ${t.explanation}` : 'no sample yet'}`;
  });
  return `${view.name}: ${view.verdict.explanation} — ${perHost.join('; ')}`;
}

/** The release most of `hosts` run (what the fleet flees). */
export function commonRelease(slots: readonly HostSlot[], hosts: readonly string[]): string | null {
  const counts = new Map<string, number>();
  for (const s of slots) {
    const live = s.monitor.getState().live;
    if (hosts.includes(s.member.host.name) && live !== null) counts.set(live, (counts.get(live) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}
