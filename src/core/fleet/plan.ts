/**
 * The fleet's plan from a passed pre-check: per host from -> to (or already on the target), the batches
 * the rollout will run, and the hosts left out. It is the dry run (`planned` statuses, exit 0) and the
 * preview an operator confirms. Pure.
 */
import type { FleetPrecheck } from './precheck.js';
import { idleHost, planBatches, type FleetHostResult, type RolloutSettings } from './rollout.js';

export interface FleetPlan {
  env: string;
  to: string;
  /** Selected hosts (planned, or skipped when already on the target) and excluded ones. */
  hosts: FleetHostResult[];
  /** Host names per batch, hosts already on the target left out. */
  batches: string[][];
  settings: RolloutSettings;
  warnings: string[];
}

export function fleetPlan(p: FleetPrecheck, settings: RolloutSettings, liveOfExcluded: Record<string, string | null> = {}): FleetPlan {
  if (!p.ok || p.target === null) throw new Error(`fleetPlan needs a passed pre-check (${p.message})`);
  const to = p.target;
  const entry = (name: string, from: string | null, status: FleetHostResult['status']) => idleHost(name, from, to, status);
  const selected = p.hosts.map((h) => entry(h.name, h.live, h.onTarget ? 'skipped' : 'planned'));
  const excluded = p.excluded.map((n) => entry(n, liveOfExcluded[n] ?? null, 'excluded'));
  const moving = p.hosts.filter((h) => !h.onTarget).map((h) => h.name);
  const warnings = p.choice?.ok ? [...p.choice.warnings] : [];
  if (settings.order === 'parallel' && settings.batch >= moving.length && moving.length > 1) {
    warnings.push(`every host restarts at once (${moving.length} hosts in one batch): set rollout.batch to keep capacity`);
  }
  return { env: p.env, to, hosts: [...selected, ...excluded], batches: planBatches(moving, settings), settings, warnings };
}

/** The text preview: one line per host, the batches, what is left out. */
export function formatFleetPlan(plan: FleetPlan): string {
  const s = plan.settings;
  const lines = [`fleet rollback of ${plan.env} to ${plan.to}: ${s.order}, batches of ${s.batch}, max_failures ${s.maxFailures}${s.pauseMs > 0 ? `, ${s.pauseMs / 1000} s between batches` : ''}`];
  for (const w of plan.warnings) lines.push(`  warning: ${w}`);
  const width = Math.max(...plan.hosts.map((h) => h.name.length));
  for (const h of plan.hosts) {
    const what = h.status === 'planned' ? `${h.from ?? '(nothing live)'} -> ${h.to}` : h.status === 'skipped' ? `already on ${h.to} (verified again, skipped when healthy)` : `left out by --hosts (on ${h.from ?? 'unknown'})`;
    lines.push(`  ${h.name.padEnd(width)}  ${what}`);
  }
  plan.batches.forEach((b, i) => lines.push(`  batch ${i + 1}: ${b.join(', ')}`));
  return lines.join('\n');
}

/**
 * What moved between a confirmed plan and a pre-check of now (null: nothing): another target, or a
 * selected host whose live release is no longer the one the plan showed. What was confirmed is what
 * runs, so any of these refuses the run.
 */
export function planMovedSince(confirmed: FleetPlan, now: FleetPrecheck): string | null {
  if (now.target !== confirmed.to) return `the target would now be ${now.target ?? '(none)'}, not ${confirmed.to}`;
  const shown = new Map(confirmed.hosts.filter((h) => h.status !== 'excluded').map((h) => [h.name, h.from]));
  const moved = now.hosts.filter((h) => !shown.has(h.name) || shown.get(h.name) !== h.live);
  return moved.length > 0 ? `live moved on ${moved.map((h) => `${h.name} (now ${h.live ?? '(none)'})`).join(', ')}` : null;
}
