/**
 * What `rollback-tui monitor` runs (commands/monitor.ts registers it): the monitor loop without the
 * console (systemd, tmux, CI). One readable line per event on stderr, or with --json one JSON object per line per event
 * on stdout. SIGTERM/SIGINT stop it cleanly: a rollback in progress finishes its current step and is
 * then safely abandoned by the engine (recorded in history, lock released).
 */
import os from 'node:os';
import { reportInterrupted } from '../../core/engine/index.js';
import { RollbackEngine, rollbackInProgress } from '../../core/engine/engine.js';
import { Notifier } from '../../core/engine/notify.js';
import { formatEvent, Monitor, type MonitorEvent } from '../../core/monitor/index.js';
import type { MonitorOptions } from '../commands/monitor.js';
import type { CliContext } from '../context.js';
import { trackRollbacks } from '../in-flight.js';
import { isFleet, parseHostsOption, selectHosts } from '../../core/fleet/index.js';
import { runFleetMonitor, runUntilStopped, stopOnSignals } from './monitor-fleet.js';

export async function runMonitorCommand(ctx: CliContext, opts: MonitorOptions): Promise<void> {
  trackRollbacks(rollbackInProgress);
  const { env } = await ctx.resolveEnv(opts);
  const hosts = parseHostsOption(opts.hosts);
  if (isFleet(env)) return runFleetMonitor(ctx, env, { once: opts.once === true, json: opts.json === true, ...(hosts ? { hosts } : {}) });
  if (hosts) selectHosts(env, hosts);
  const handle = await ctx.openEnvironment(env);
  await reportInterrupted(handle, (m) => ctx.warn(m));
  const notifier = new Notifier(env.policy.notifications, { onWarning: (m) => ctx.warn(m) });
  const engine = new RollbackEngine(handle, { version: ctx.version, notifier });
  const controller = new AbortController();
  // One owner of automation per environment: a second monitor (or a console) observes the first.
  const coordinate = opts.once ? undefined : { kind: 'monitor' as const, version: ctx.version };
  const monitor = new Monitor(handle, { engine, notifier, signal: controller.signal, actor: `monitor@${os.hostname()}`, ...(coordinate ? { coordinate } : {}) });
  const print = (e: MonitorEvent): void => {
    // Samples of the last hour replayed from the shared sample file were printed when they were taken.
    if (e.type === 'sample' && e.history) return;
    if (opts.json) {
      if (e.type !== 'state') ctx.jsonLine(e);
      return;
    }
    const line = formatEvent(e);
    if (line !== null) ctx.log(line);
  };
  monitor.on(print);
  const removeSignals = stopOnSignals(ctx, controller);
  try {
    if (opts.once) {
      const states = await monitor.tick();
      const state = monitor.getState();
      if (opts.json) ctx.jsonLine({ type: 'state', env: env.name, state });
      else for (const t of states) ctx.log(`${t.name.padEnd(12)} ${t.status.padEnd(12)} ${t.explanation}`);
      const breached = states.filter((t) => t.status === 'breached');
      if (breached.length > 0) {
        ctx.warn(`${breached.map((t) => t.name).join(', ')} breached on ${env.name} (--once never rolls back)`);
        ctx.exitCode = 1;
      }
      return;
    }
    await runUntilStopped(ctx, notifier, env, () => monitor.start());
  } finally {
    removeSignals();
    await handle.close();
  }
}
