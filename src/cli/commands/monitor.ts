/**
 * `rollback-tui monitor --env NAME [--once] [--json]`: the monitor loop without the console (systemd,
 * tmux, CI). It owns automation of the environment, or observes the process that does (the monitor
 * lease). One readable line per event on stderr, or with --json one JSON object per line per event on
 * stdout. SIGTERM/SIGINT stop it cleanly: a rollback in progress finishes its current step and is
 * then safely abandoned by the engine (recorded in history, lock released).
 */
import os from 'node:os';
import type { Command } from 'commander';
import { openEnvironment } from '../../core/environment.js';
import { reportInterrupted } from '../../core/engine/index.js';
import { RollbackEngine } from '../../core/engine/engine.js';
import { Notifier } from '../../core/engine/notify.js';
import { isFleet, parseHostsOption, selectHosts } from '../../core/fleet/index.js';
import { formatEvent, Monitor, type MonitorEvent } from '../../core/monitor/index.js';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';
import { runFleetMonitor, runUntilStopped, stopOnSignals } from './monitor-fleet.js';

interface MonitorOptions {
  env?: string;
  once?: boolean;
  json?: boolean;
  hosts?: string;
}

export function registerMonitor(program: Command, ctx: CliContext): void {
  program
    .command('monitor')
    .description('watch the live release against its baseline and roll back automatically per the policy')
    .option('--env <name>', 'environment to monitor')
    .option('--once', 'take one sample, evaluate the triggers against the stored baseline, and exit (0: nothing breached, 1: a trigger is breached; nothing is rolled back)')
    .option('--hosts <names>', 'a fleet: monitor only these hosts (names from executor.hosts, comma-separated)')
    .option('--json', 'one JSON object per line per event on stdout (sample, baseline, trigger, alert, grace, rollback, escalation, stopped)')
    .addHelpText(
      'after',
      `
Exit codes: 0 stopped cleanly (or --once: no trigger breached); 1 --once found a breached trigger, or the
monitor could not start. SIGTERM/SIGINT stop it; a rollback in progress finishes its step first.
The policy (rollback_policy and the environment's policy overrides) sets the interval, windows and triggers;
with enabled: false it only alerts. One process owns automation per environment (the monitor lease in the
state_dir): a monitor that finds another monitor or a console owning it observes (prints the owner's samples
and alerts, never acts) and takes over when the owner stops or dies.
${examples(
  ['rollback-tui monitor --env prod', 'run headless, readable events on stderr'],
  ['rollback-tui monitor --env prod --json | jq -c .', 'events as JSON lines for a log pipeline'],
  ['rollback-tui monitor --env prod --once', 'one check (cron, CI): exit 1 when a trigger is breached'],
  ['rollback-tui monitor --env web', 'a fleet: every host sampled; a trigger holds for the fleet on most hosts (rollback_policy.fleet.breach)'],
)}`,
    )
    .action(async (opts: MonitorOptions) => {
      await runMonitorCommand(ctx, opts);
    });
}

export async function runMonitorCommand(ctx: CliContext, opts: MonitorOptions): Promise<void> {
  const { env } = await ctx.resolveEnv(opts);
  const hosts = parseHostsOption(opts.hosts);
  if (isFleet(env)) return runFleetMonitor(ctx, env, { once: opts.once === true, json: opts.json === true, ...(hosts ? { hosts } : {}) });
  if (hosts) selectHosts(env, hosts);
  const handle = openEnvironment(env);
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
