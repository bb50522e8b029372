/**
 * The command line (commander 14): global options, the subcommands from the registry, the default
 * action (the console), and error handling that never exits the process: commander's own errors come
 * back as CommanderError and are turned into exit code 64 with the usage line and a fix.
 */
import { Command, CommanderError, Option } from 'commander';
import { UsageError, UserError, ExitCode } from '../core/errors.js';
import { registrars as defaultRegistrars, type Registrar } from './commands/index.js';
import type { Context } from './context.js';
import { examples } from './output.js';

/** The last commander error message and the command it came from (for the usage line). */
export interface CommanderFailure {
  command: Command;
  message: string;
}

export interface BuiltProgram {
  program: Command;
  /** Set when commander reported a usage problem. */
  lastFailure: () => CommanderFailure | undefined;
}

function forEachCommand(cmd: Command, fn: (c: Command) => void): void {
  fn(cmd);
  for (const sub of cmd.commands) forEachCommand(sub, fn);
}

/** `rollback-tui config check`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function usageLine(cmd: Command): string {
  return `usage: ${commandPath(cmd)} ${cmd.usage()}`;
}

export function buildProgram(ctx: Context, registrars: readonly Registrar[] = defaultRegistrars): BuiltProgram {
  let failure: CommanderFailure | undefined;
  const program = new Command('rollback-tui');
  program
    .description('A terminal console and CLI for on-call rollbacks.')
    .version(ctx.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--config <file>', 'configuration file (else ROLLBACK_CONFIG, else rollback-config.yml etc. from here upward)')
    .option('--env <name>', 'environment (else ROLLBACK_ENV)')
    .option('--theme <name>', 'console theme: a name in themes/ or a JSON file')
    .addOption(new Option('--no-color', 'no colours (also: NO_COLOR=1)'))
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    });

  program.hook('preAction', (_root, action) => {
    ctx.setGlobals(action.optsWithGlobals());
    ctx.jsonRequested = action.opts<{ json?: boolean }>().json === true;
  });

  for (const register of registrars) register(program, ctx);

  // The default action: the console. Extra words are a mistyped subcommand.
  program.allowExcessArguments(true);
  program.action(async (_opts, cmd: Command) => {
    const names = program.commands.map((c) => c.name());
    const word = cmd.args[0];
    if (word === 'help') {
      // `rollback-tui help [command...]` (commander only adds its help command without a default action).
      let target: Command = program;
      for (const name of cmd.args.slice(1)) {
        const sub = target.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (!sub) throw new UsageError(`no help for "${cmd.args.slice(1).join(' ')}": unknown command "${name}"`, 'rollback-tui --help');
        target = sub;
      }
      target.outputHelp();
      return;
    }
    if (word !== undefined) {
      const { suggest } = await import('../core/config/issues.js');
      const near = suggest(word, names);
      throw new UsageError(
        `unknown command "${word}"${near ? ` (did you mean "${near}"?)` : ''}; commands: ${names.join(', ')}`,
        near ? `rollback-tui ${near} --help` : 'rollback-tui --help',
      );
    }
    if (!ctx.isTTY) {
      throw new UsageError(
        // `demo` opens the console too: no alternative, except as a sandbox for the subcommands.
        `the console needs a terminal (stdin and stdout are not a TTY); without one use a subcommand: ${names.filter((n) => n !== 'help' && n !== 'demo').join(', ')}` +
          (names.includes('demo') ? ' (`demo --keep --print-config` sets up an environment to try them on)' : ''),
        names.includes('list') ? 'rollback-tui list --env NAME' : 'rollback-tui --help',
      );
    }
    if (!ctx.openConsole) {
      throw new UserError('the console is not available in this build', {
        exitCode: ExitCode.FAILED,
        code: 'NO_CONSOLE',
        hint: 'use the subcommands (rollback-tui --help)',
      });
    }
    ctx.exitCode = await ctx.openConsole(ctx, ctx.envName() === undefined ? {} : { env: ctx.envName() as string });
  });
  program.addHelpText(
    'after',
    examples(
      ['rollback-tui --env prod', 'the console on prod (needs a terminal)'],
      ['rollback-tui config check', 'validate the configuration'],
      ['rollback-tui config show --env prod --json', 'the resolved prod environment'],
    ) +
      '\nExit codes: 0 done, 1 failed, 2 rolled back but verification failed, 3 locked, 64 usage, 78 configuration.\n',
  );

  // Every command (the registrars' too) reports usage problems through us instead of exiting.
  forEachCommand(program, (cmd) => {
    cmd.exitOverride();
    cmd.configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      outputError: (message) => {
        failure = { command: cmd, message };
      },
    });
  });

  return { program, lastFailure: () => failure };
}

/**
 * Exit code and stderr text for a CommanderError, and the problem as a UsageError (what `--json`
 * reports); no error for help and version.
 */
export function commanderErrorExit(
  err: CommanderError,
  failure: CommanderFailure | undefined,
  program: Command,
): { code: number; text: string; error?: UsageError } {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return { code: ExitCode.OK, text: '' };
  if (err.code === 'commander.help' || err.code === 'commander.executeSubCommandAsync') {
    // Help was shown because a subcommand is missing (e.g. `rollback-tui config`).
    const error = new UsageError('a subcommand is missing: the help on stderr lists them', 'rollback-tui --help');
    return { code: ExitCode.USAGE, text: '', error };
  }
  const cmd = failure?.command ?? program;
  const message = (failure?.message ?? err.message)
    .replace(/^error:\s*/i, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
  const text = `rollback-tui: ${message}\n${usageLine(cmd)}\n  try: ${commandPath(cmd)} --help\n`;
  return { code: ExitCode.USAGE, text, error: new UsageError(message, `${commandPath(cmd)} --help`) };
}
