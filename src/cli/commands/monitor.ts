/**
 * `rollback-tui monitor --env NAME [--once] [--json]`: the monitor loop without the console
 * (actions/monitor.ts, loaded when the command runs).
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';

export interface MonitorOptions {
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
      await ctx.prepareEnv(opts);
      await (await import('../actions/monitor.js')).runMonitorCommand(ctx, opts);
    });
}
