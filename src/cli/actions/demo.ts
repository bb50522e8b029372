/**
 * What `rollback-tui demo` runs (commands/demo.ts registers it): the console on a built-in demo
 * environment (`npm start`). It creates a sandbox (src/demo/sandbox.ts: a real local service whose newest release
 * leaks memory, four releases in a symlink store, a policy scaled to seconds, some history), opens the
 * console on it, and on quit (or SIGINT / SIGTERM / SIGHUP) stops the service and removes the sandbox
 * unless --keep.
 *
 * In the console, `R` deploys the sick release again to replay the automatic rollback (a demo-only
 * action: the sandbox does the deploy; the console shows the change like any deploy).
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../../core/errors.js';
import { loadConfig, resolveEnvironment } from '../../core/config/load.js';
import { createDemoSandbox, DEMO_TIMINGS, demoCrossingSeconds, type DemoSandbox } from '../../demo/sandbox.js';
import { createFleetDemoSandbox, FIRST_HOST_LEAK_FACTOR, OTHER_HOSTS_LEAK_DELAY_SECONDS } from '../../demo/fleet-sandbox.js';
import type { RunConsoleOptions } from '../../ui/run.js';
import { rollbackInProgress } from '../../core/engine/engine.js';
import type { DemoOptions } from '../commands/demo.js';
import type { CliContext } from '../context.js';
import { trackRollbacks } from '../in-flight.js';
import { loadConsoleUi } from './console.js';

/** What the operator sees before the console takes the screen, and after it gives it back. */
function storyLine(sb: DemoSandbox, hosts?: number): string {
  const t = DEMO_TIMINGS;
  if (hosts !== undefined) {
    const crossAt = Math.round(demoCrossingSeconds(sb.speed) + OTHER_HOSTS_LEAK_DELAY_SECONDS * sb.speed);
    return (
      `demo: a fleet of ${hosts} local hosts in ${sb.dir}, each on ${sb.sickRelease}, which leaks memory; app-1 leaks ` +
      `${FIRST_HOST_LEAK_FACTOR}x faster and trips alone first (an alert, not a rollback); the others cross ` +
      `${t.memoryThresholdPercent}% about ${crossAt} s after the console starts watching: most hosts sick, the fleet rolls back automatically`
    );
  }
  const crossAt = Math.round(demoCrossingSeconds(sb.speed));
  return (
    `demo: ${sb.releases.length} releases in ${sb.dir}; the newest (${sb.sickRelease}) leaks memory: it crosses ` +
    `${t.memoryThresholdPercent}% about ${crossAt} s after the console starts watching and the monitor rolls back automatically ` +
    `(R in the console deploys it again)`
  );
}

export async function runDemo(ctx: CliContext, opts: DemoOptions): Promise<void> {
  trackRollbacks(rollbackInProgress);
  if (!opts.printConfig && !ctx.isTTY) {
    throw new UsageError(
      'the demo opens the console, which needs a terminal (stdin and stdout are not a TTY)',
      'rollback-tui demo --keep --print-config  (a demo environment for the subcommands, no terminal needed)',
    );
  }
  const sandbox =
    opts.hosts !== undefined
      ? await createFleetDemoSandbox({ keep: Boolean(opts.keep), speed: opts.speed, hosts: opts.hosts })
      : await createDemoSandbox({ keep: Boolean(opts.keep), speed: opts.speed });
  if (opts.printConfig) {
    ctx.stdout.write(readFileSync(sandbox.configPath, 'utf8'));
    if (opts.keep) {
      ctx.log(storyLine(sandbox, opts.hosts));
      ctx.log(`demo: ${opts.hosts !== undefined ? `the first host's service runs` : 'the service runs'} on 127.0.0.1:${sandbox.port}; try: rollback-tui list --config ${sandbox.configPath} --env demo`);
      ctx.log(`demo: when done: ${sandbox.stopCommand} && rm -r '${sandbox.dir}'`);
    } else {
      await sandbox.stop();
    }
    return;
  }
  ctx.log(storyLine(sandbox, opts.hosts));
  ctx.exitCode = await runDemoConsole(ctx, sandbox);
}

/** A console action that only the demo has (`RunConsoleOptions.demoActions`: bound in the keybinding table). */
export type DemoAction = NonNullable<RunConsoleOptions['demoActions']>[number];

export function demoActions(sandbox: DemoSandbox): DemoAction[] {
  return [
    {
      id: 'redeploy',
      keys: ['R'],
      label: 'redeploy sick',
      description: `Demo: deploy the leaking release (${sandbox.sickRelease}) again to replay the automatic rollback`,
      run: () => sandbox.redeploySick(),
    },
  ];
}

/**
 * Open the console on the sandbox and clean up however it ends: `q`, an error, or a signal. While the
 * console runs, a signal (an external SIGINT: Ctrl-C itself reaches the console as a key; SIGTERM;
 * SIGHUP) aborts the console's `signal`, which quits the way `q` does (a running rollback is stopped
 * safely first); the finally below then stops the sandbox. Before or after the console, a signal stops
 * the sandbox directly.
 */
async function runDemoConsole(ctx: CliContext, sandbox: DemoSandbox): Promise<number> {
  let phase: 'console' | 'cleanup' | 'setup' = 'setup';
  const quit = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (phase === 'console') {
      quit.abort(signal);
      return;
    }
    if (phase === 'setup') {
      phase = 'cleanup';
      void sandbox.stop().finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1)));
    }
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  try {
    const { runConsole } = await loadConsoleUi(process.env);
    const loaded = await loadConfig({ configPath: sandbox.configPath, env: ctx.env, cwd: ctx.cwd });
    const env = resolveEnvironment(loaded, sandbox.env);
    if (phase !== 'setup') return 1;
    phase = 'console';
    const options: RunConsoleOptions = {
      env,
      version: ctx.version,
      theme: { flag: ctx.globals.theme, noColor: ctx.globals.color === false, baseDir: ctx.cwd },
      processEnv: ctx.env,
      warnings: loaded.warnings,
      demoActions: demoActions(sandbox),
      signal: quit.signal,
    };
    return await runConsole(options);
  } finally {
    phase = 'cleanup';
    await sandbox.stop();
    for (const s of signals) process.removeListener(s, onSignal);
    ctx.log(sandbox.keep ? `demo: stopped; the sandbox is kept in ${sandbox.dir}` : 'demo: stopped; the sandbox is removed');
  }
}
