/**
 * `rollback-tui monitor` on a fleet (an environment with `executor.hosts`): every selected host sampled
 * by its own monitor, the triggers combined per `rollback_policy.fleet.breach`, and an automatic fleet
 * rollback when one holds for the fleet (the fleet monitor: src/core/monitor/fleet-monitor.ts). The
 * same output as on one host: a readable line per event on stderr, or with --json one JSON object per
 * line on stdout (host events carry the host's name).
 */
import os from 'node:os';
import type { ResolvedEnvironment } from '../../core/config/schema.js';
import { RollbackEngine } from '../../core/engine/engine.js';
import { Notifier } from '../../core/engine/notify.js';
import { openFleet, resolveFleet, type FleetMember } from '../../core/fleet/index.js';
import { FleetMonitor, formatFleetEvent, precheckedFleetRunner, type FleetMonitorEvent } from '../../core/monitor/index.js';
import type { CliContext } from '../context.js';

/**
 * SIGINT, SIGTERM and SIGHUP stop the monitor through `controller` (SIGHUP too: a monitor started in an
 * SSH session that drops stops like on SIGTERM, an automatic rollback in progress finishing its step,
 * instead of dying at once). Returns the function that removes the handlers.
 */
export function stopOnSignals(ctx: CliContext, controller: AbortController): () => void {
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) ctx.warn(`${sig} received: stopping the monitor (a rollback in progress finishes its current step first)`);
    else ctx.warn(`${sig} again: still stopping safely`);
    controller.abort();
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
  return () => {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, onSignal);
  };
}

export async function runFleetMonitor(ctx: CliContext, env: ResolvedEnvironment, opts: { once?: boolean; json?: boolean; hosts?: string[] }): Promise<void> {
  const fleet = openFleet(await resolveFleet(env, opts.hosts ? { hosts: opts.hosts } : {}));
  if (fleet.fleet.excluded.length > 0) ctx.warn(`left out by --hosts: ${fleet.fleet.excluded.join(', ')} (not sampled, never rolled back)`);
  const notifier = new Notifier(env.policy.notifications, { onWarning: (m) => ctx.warn(m) });
  const engines = new Map(fleet.members.map((m) => [m.host.name, new RollbackEngine(m.handle, { version: ctx.version, notifier })]));
  const engineFor = (m: FleetMember): RollbackEngine => engines.get(m.host.name) as RollbackEngine;
  const controller = new AbortController();
  const monitor = new FleetMonitor({ fleet, engineFor, runner: precheckedFleetRunner(fleet, { version: ctx.version, notifier }), signal: controller.signal, actor: `monitor@${os.hostname()}`, ...(opts.once ? {} : { coordinate: { kind: 'monitor' as const, version: ctx.version } }) });
  monitor.on((e: FleetMonitorEvent) => {
    if (opts.json) {
      if (e.type !== 'fleet_state' && !(e.type === 'host' && e.event.type === 'state')) ctx.jsonLine(e);
      return;
    }
    const line = formatFleetEvent(e);
    if (line !== null) ctx.log(line);
  });
  const removeSignals = stopOnSignals(ctx, controller);
  try {
    if (opts.once) {
      const triggers = await monitor.tick();
      const state = monitor.getState();
      if (opts.json) ctx.jsonLine({ type: 'fleet_state', env: env.name, state });
      else for (const t of triggers) ctx.log(`${t.name.padEnd(12)} ${(t.verdict.holds ? 'HOLDS' : 'ok').padEnd(6)} ${t.verdict.explanation}`);
      const held = triggers.filter((t) => t.verdict.holds);
      if (held.length > 0) {
        ctx.warn(`${held.map((t) => t.name).join(', ')} ${held.length === 1 ? 'holds' : 'hold'} for the fleet ${env.name} (--once never rolls back)`);
        ctx.exitCode = 1;
      }
      return;
    }
    await runUntilStopped(ctx, notifier, env, () => monitor.start());
  } finally {
    removeSignals();
    await fleet.close();
  }
}

/** Run the monitor loop until it stops, then give pending notifications their time (and say what was dropped). */
export async function runUntilStopped(ctx: CliContext, notifier: Notifier, env: ResolvedEnvironment, loop: () => Promise<void>): Promise<void> {
  await loop();
  const left = await notifier.drain(env.policy.notifications.timeout_seconds * 1000);
  if (left > 0) ctx.warn(`${left} notification(s) were still pending and were given up`);
}
