/**
 * runConsole: the full-screen console on one environment. Opens the environment (unless given a
 * handle), builds the real RollbackEngine and Monitor, renders with ink in the alternate screen, and
 * always restores the terminal (alternate screen, cursor, raw mode): on quit, on SIGTERM/SIGHUP, on
 * process exit, after an uncaught exception and after a component crash (ink unmounts; the console
 * stops, monitor included, and resolves to 1 with the error on stderr). Resolves to the exit code.
 */
import React from 'react';
import { render } from 'ink';
import type { ResolvedEnvironment } from '../core/config/schema.js';
import { openEnvironment, type EnvironmentHandle } from '../core/environment.js';
import { RollbackEngine, type EngineOptions } from '../core/engine/engine.js';
import { currentIdentity, formatIdentity } from '../core/engine/identity.js';
import { Monitor, type MonitorOptions } from '../core/monitor/monitor.js';
import { isFleet } from '../core/fleet/hosts.js';
import type { Backup } from '../core/stores/types.js';
import { feed, openFleetConsole } from './fleet-console.js';
import { App } from './app.js';
import { ConsoleController, type ConsoleAction } from './controller.js';
import { isRunning } from './state/reducer.js';
import { loadTheme, type ThemeRequest } from './theme.js';

export interface RunConsoleOptions {
  /** The resolved environment to watch and act on. */
  env: ResolvedEnvironment;
  /** An already opened environment; otherwise runConsole opens one and closes it on exit. */
  handle?: EnvironmentHandle;
  /** The first listing of the backups, already under way (started while the console's code loaded). */
  firstBackups?: Promise<Backup[]>;
  /** Tool version (written into lock owners). */
  version?: string;
  /** Theme choice: --theme, the config's `theme:`, --no-color; NO_COLOR is read from `env`. */
  theme?: Omit<ThemeRequest, 'env'>;
  /** Extra engine options (notifier, identity). */
  engineOptions?: EngineOptions;
  /** Extra monitor options (clock, notifier); the engine is always the console's. */
  monitorOptions?: Omit<MonitorOptions, 'engine'>;
  /** Startup warnings to show in the events pane. */
  warnings?: string[];
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  /** Process environment (NO_COLOR); default process.env. */
  processEnv?: NodeJS.ProcessEnv;
  /**
   * Demo-only actions (`rollback-tui demo`: R deploys the sick release again), appended to the keybinding
   * table: the keys work, and the footer and the `?` help list them, only when some are given. Refused
   * while a rollback runs. A key the table already uses is an error.
   */
  demoActions?: { id: string; keys: string[]; label: string; description: string; run(): Promise<void> }[];
  /**
   * Aborting quits the console the way `q` does, without asking: at once when nothing runs; a running
   * rollback is first aborted through the engine (it stops safely and releases the lock).
   */
  signal?: AbortSignal;
}

const ENTER_ALT = '\x1b[?1049h\x1b[H';
const LEAVE_ALT = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';

export async function runConsole(opts: RunConsoleOptions): Promise<number> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const { theme, warnings: themeWarnings } = loadTheme({ ...opts.theme, env: opts.processEnv ?? process.env });
  const actor = formatIdentity(opts.engineOptions?.identity ?? currentIdentity());
  const engineOptions: EngineOptions = { ...(opts.version !== undefined ? { version: opts.version } : {}), ...opts.engineOptions };
  // A fleet: one monitor per host behind the fleet monitor, the Hosts panel fed from it.
  const fleet = isFleet(opts.env) ? await openFleetConsole(opts.env, engineOptions, actor) : null;
  const handle = fleet?.handle ?? opts.handle ?? openEnvironment(opts.env);
  const ownsHandle = opts.handle === undefined && fleet === null;
  const engine = fleet?.engine ?? new RollbackEngine(handle, engineOptions);
  // The console shares automation with a `monitor` service (or another console): one owns it, others observe.
  const coordinate = { kind: 'console' as const, ...(opts.version !== undefined ? { version: opts.version } : {}) };
  const monitor = fleet?.monitor ?? new Monitor(handle, { actor: `console:${actor}`, coordinate, ...opts.monitorOptions, engine });
  const controller = new ConsoleController({
    env: handle.env,
    handle,
    engine,
    monitor,
    actor,
    warnings: [...(opts.warnings ?? []), ...themeWarnings],
    extraActions: (opts.demoActions ?? []).map((a): ConsoleAction => ({ ...a, where: 'demo' })),
    ...(fleet ? { fleet: fleet.runner } : {}),
    ...(opts.firstBackups && fleet === null ? { firstBackups: opts.firstBackups } : {}),
  });
  const unfeed = fleet ? feed(fleet, controller) : null;

  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    try {
      if (stdin.isTTY) stdin.setRawMode(false);
    } catch {
      // The terminal may already be gone (SSH dropped).
    }
    try {
      stdout.write(SHOW_CURSOR + LEAVE_ALT);
    } catch {
      // Same.
    }
  };
  const onExit = (): void => restore();
  /** Stop everything (the monitor must not go on rolling back headless), give the terminal back, say why. */
  const crashed = (err: unknown): void => {
    controller.stop();
    restore();
    stderr.write(`rollback-tui: console crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  };
  const onFatal = (err: unknown): void => {
    crashed(err);
    process.exit(1);
  };
  // SIGTERM / SIGHUP / opts.signal: the same path as `q`, confirmed (a running rollback is aborted safely first).
  const onSignal = (): void => controller.requestQuit();
  process.on('exit', onExit);
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  // A broken theme is also in the events pane, but there it scrolls away: say it on the terminal too,
  // before the alternate screen takes it (it is there again after quitting).
  for (const w of themeWarnings) stderr.write(`warning: ${w}\n`);
  stdout.write(ENTER_ALT);
  let instance: ReturnType<typeof render> | null = null;
  let leaving = false;
  let failed = false;
  try {
    controller.start();
    // What is already at hand (the backups listed while the console's code loaded, the history) goes
    // into the first frame rather than a second one: one turn of the event loop for its dispatch.
    await new Promise((resolve) => setImmediate(resolve));
    instance = render(React.createElement(App, { controller, theme }), {
      stdin,
      stdout,
      stderr,
      exitOnCtrlC: false,
      patchConsole: true,
      maxFps: 20,
    });
    // A component that throws makes ink unmount and reject waitUntilExit: the console is gone, so that is
    // fatal, like an uncaught exception, except that a rollback of ours still running is stopped safely
    // (as on a confirmed `q`) rather than cut off. Should ink ever leave without an error, quit as on `q`.
    void instance.waitUntilExit().then(
      () => {
        if (!leaving) controller.requestQuit();
      },
      (err: unknown) => {
        failed = true;
        crashed(err);
        if (isRunning(controller.getState())) stderr.write('rollback-tui: stopping the running rollback safely first…\n');
        controller.requestQuit();
      },
    );
    opts.signal?.addEventListener('abort', onSignal, { once: true });
    if (opts.signal?.aborted) onSignal();
    const code = await controller.waitForExit();
    return failed ? 1 : code;
  } finally {
    leaving = true;
    opts.signal?.removeEventListener('abort', onSignal);
    controller.stop();
    instance?.unmount();
    instance?.cleanup();
    restore();
    process.off('exit', onExit);
    process.off('uncaughtException', onFatal);
    process.off('unhandledRejection', onFatal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    unfeed?.();
    if (ownsHandle) await handle.close().catch(() => undefined);
    await fleet?.close().catch(() => undefined);
  }
}
