/**
 * What every subcommand gets: the writers, whether there is a terminal, colour, the configuration and
 * the environment (with the `--config`/ROLLBACK_CONFIG and `--env`/ROLLBACK_ENV fallbacks and the
 * usage (64) and configuration (78) errors), and a JSON printer. Registrars in commands/index.ts receive it.
 */
import { supportsColor, type ChalkInstance } from 'chalk';
import { UsageError } from '../core/errors.js';
import type { LoadedConfig, ResolvedEnvironment } from '../core/config/schema.js';
import type { EnvironmentHandle, OpenEnvironmentOptions } from '../core/environment.js';
import type { SshExecutor } from '../core/exec/ssh.js';
import { jsonText, makeColor, type Writer } from './output.js';

// The configuration loader (zod, yaml, cosmiconfig), executors and stores are imported when a command
// needs them, not at start-up: `--version`, `--help` and usage errors never load them.
const configLoader = () => import('../core/config/load.js');

/** The global options, as parsed (`--no-color` gives `color: false`). */
export interface GlobalOptions {
  config?: string;
  env?: string;
  theme?: string;
  color: boolean;
}

export interface CliIO {
  stdout: Writer;
  stderr: Writer;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** stdin and stdout are both terminals (prompts and the console are possible). */
  isTTY: boolean;
}

/** Opens the full-screen console; resolves to the exit code. Registered by the console's registrar. */
export type OpenConsole = (ctx: CliContext, opts: { env?: string }) => Promise<number>;

export interface CliContext {
  readonly prog: string;
  readonly version: string;
  readonly stdout: Writer;
  readonly stderr: Writer;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly isTTY: boolean;
  /** Global options of this run (set before any action runs). */
  readonly globals: GlobalOptions;
  /** chalk honouring --no-color / NO_COLOR and the terminal. */
  readonly color: ChalkInstance;
  /**
   * Exit code of the run when an action finishes without throwing (default 0). Actions set it for
   * results that are not errors, e.g. 2 when a rollback's verification failed; errors are thrown as
   * UserError (their exit code) instead.
   */
  exitCode: number;
  /** The configuration (loaded once; its warnings are printed to stderr once). ConfigError (78). */
  loadConfig(): Promise<LoadedConfig>;
  /** `--env` (the command's own or the global one), else ROLLBACK_ENV, else undefined. */
  envName(opts?: { env?: string }): string | undefined;
  /** The named environment, resolved; UsageError (64) when none is named or it is unknown. */
  resolveEnv(opts?: { env?: string }): Promise<{ loaded: LoadedConfig; env: ResolvedEnvironment }>;
  /**
   * resolveEnv(), and for an SSH environment start its connection now, so the handshake runs while the
   * command's implementation loads; openEnvironment() then hands that connection over.
   */
  prepareEnv(opts?: { env?: string }): Promise<void>;
  /** Open the environment (core/environment.ts), with the connection prepareEnv() started, if any. */
  openEnvironment(env: ResolvedEnvironment, options?: OpenEnvironmentOptions): Promise<EnvironmentHandle>;
  /** Prints one JSON document on stdout. */
  json(value: unknown): void;
  /** Prints one JSON object as a line on stdout (a stream of events, as `monitor --json` prints). */
  jsonLine(value: unknown): void;
  /**
   * The command run was asked for `--json`: a failure then also prints a document on stdout
   * (`{"ok": false, "error", "exit_code", ...}`) unless the command printed its own.
   */
  jsonRequested: boolean;
  /** A whole JSON document (not a line of a stream) has been printed on stdout. */
  readonly documentPrinted: boolean;
  /** A line on stdout. */
  out(line: string): void;
  /** `warning: ...` on stderr. */
  warn(message: string): void;
  /** A log/progress line on stderr. */
  log(line: string): void;
  /** Filled by the console's registrar; absent in a build without the console. */
  openConsole?: OpenConsole;
}

export class Context implements CliContext {
  readonly prog = 'rollback-tui';
  readonly stdout: Writer;
  readonly stderr: Writer;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly isTTY: boolean;
  exitCode = 0;
  jsonRequested = false;
  openConsole?: OpenConsole;
  private printed = false;
  private _globals: GlobalOptions = { color: true };
  private _color: ChalkInstance | undefined;
  private loaded: Promise<LoadedConfig> | undefined;
  /** Connections started by prepareEnv() and not yet handed to an environment, by environment name. */
  private readonly early = new Map<string, SshExecutor>();

  constructor(
    io: CliIO,
    readonly version: string,
  ) {
    this.stdout = io.stdout;
    this.stderr = io.stderr;
    this.env = io.env;
    this.cwd = io.cwd;
    this.isTTY = io.isTTY;
  }

  get globals(): GlobalOptions {
    return this._globals;
  }

  setGlobals(g: Partial<GlobalOptions>): void {
    this._globals = {
      color: g.color !== false,
      ...(g.config !== undefined ? { config: g.config } : {}),
      ...(g.env !== undefined ? { env: g.env } : {}),
      ...(g.theme !== undefined ? { theme: g.theme } : {}),
    };
    this._color = undefined;
    this.loaded = undefined;
  }

  get color(): ChalkInstance {
    this._color ??= makeColor({
      color: this._globals.color,
      env: this.env,
      isTTY: this.isTTY,
      baseLevel: supportsColor ? supportsColor.level : 0,
    });
    return this._color;
  }

  loadConfig(): Promise<LoadedConfig> {
    this.loaded ??= configLoader().then(({ loadConfig }) => loadConfig({ configPath: this._globals.config, cwd: this.cwd, env: this.env }).then((loaded) => {
      for (const w of loaded.warnings) this.warn(w);
      return loaded;
    }));
    return this.loaded;
  }

  envName(opts: { env?: string } = {}): string | undefined {
    const name = opts.env ?? this._globals.env ?? this.env.ROLLBACK_ENV;
    return name === undefined || name === '' ? undefined : name;
  }

  async resolveEnv(opts: { env?: string } = {}): Promise<{ loaded: LoadedConfig; env: ResolvedEnvironment }> {
    const loaded = await this.loadConfig();
    const { environmentNames, resolveEnvironment } = await configLoader();
    const name = this.envName(opts);
    if (name === undefined) {
      const known = environmentNames(loaded);
      throw new UsageError(
        `missing --env NAME: this command works on one environment (known: ${known.length > 0 ? known.join(', ') : 'none defined'})`,
        known.length > 0 ? `add --env ${known[0]}, or export ROLLBACK_ENV=${known[0]}` : 'define one under environments: in the configuration',
      );
    }
    return { loaded, env: resolveEnvironment(loaded, name) };
  }

  async prepareEnv(opts: { env?: string } = {}): Promise<void> {
    const { env } = await this.resolveEnv(opts);
    // A fleet opens its hosts through src/core/fleet, host by host.
    if (env.executor.type !== 'ssh' || env.executor.hosts !== undefined || this.early.has(env.name)) return;
    const [{ SshExecutor }, { singleHostExecutor }] = await Promise.all([import('../core/exec/ssh.js'), import('../core/environment.js')]);
    const executor = new SshExecutor(singleHostExecutor(env) as ConstructorParameters<typeof SshExecutor>[0]);
    this.early.set(env.name, executor);
    executor.connect();
  }

  async openEnvironment(env: ResolvedEnvironment, options: OpenEnvironmentOptions = {}): Promise<EnvironmentHandle> {
    const { openEnvironment } = await import('../core/environment.js');
    const early = options.executor ? undefined : this.early.get(env.name);
    if (early) this.early.delete(env.name);
    return openEnvironment(env, early ? { ...options, executor: early } : options);
  }

  /** Close the connections prepareEnv() started that no command took (it failed before opening). */
  async closeUnused(): Promise<void> {
    const left = [...this.early.values()];
    this.early.clear();
    await Promise.allSettled(left.map((e) => e.close()));
  }

  get documentPrinted(): boolean {
    return this.printed;
  }

  json(value: unknown): void {
    this.printed = true;
    this.stdout.write(jsonText(value));
  }

  jsonLine(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  out(line: string): void {
    this.stdout.write(`${line}\n`);
  }

  warn(message: string): void {
    this.stderr.write(`${this.color.yellow('warning:')} ${message}\n`);
  }

  log(line: string): void {
    this.stderr.write(`${line}\n`);
  }
}
