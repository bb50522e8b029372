/**
 * Entry point: `main(argv)` runs the command line and resolves to the exit code. It never calls
 * process.exit, so tests can call it in-process; bin/rollback-tui.js sets process.exitCode.
 * One handler renders every error: UserErrors as message + "try:" hint with their exit code,
 * anything else as a bug with a short stack and exit code 1. With `--json`, a failure also prints a
 * document on stdout (`{"ok": false, "error", "exit_code", ...}`) unless the command printed its own.
 */
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { exitCodeOf, formatError, isUserError } from '../core/errors.js';
import type { Registrar } from './commands/index.js';
import { Context, type CliIO } from './context.js';
import { argvAsksForJson, failureDocument } from './output.js';
import { buildProgram, commanderErrorExit } from './program.js';

let cachedVersion: string | undefined;

/** The version in package.json (dist/app, dist/cli and src/cli are all two levels below it). */
export function packageVersion(): string {
  if (cachedVersion === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    cachedVersion = pkg.version ?? '0.0.0';
  }
  return cachedVersion;
}

export function defaultIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  };
}

/**
 * Runs the CLI. `argv` is like process.argv (node, script, ...args). `io` replaces the process's
 * streams, environment, working directory and terminal detection (tests); `registrars` replaces the
 * subcommand registry.
 */
export async function main(argv: readonly string[] = process.argv, io: Partial<CliIO> = {}, registrars?: readonly Registrar[]): Promise<number> {
  const ctx = new Context({ ...defaultIO(), ...io }, packageVersion());
  let built: ReturnType<typeof buildProgram> | undefined;
  try {
    built = buildProgram(ctx, registrars);
    await built.program.parseAsync([...argv]);
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError && built) {
      const { code, text, error } = commanderErrorExit(err, built.lastFailure(), built.program);
      if (text) ctx.stderr.write(text);
      // The options were not parsed: `--json` is looked for among the words.
      if (error && argvAsksForJson(argv.slice(2))) ctx.jsonLine(failureDocument(error, code));
      return code;
    }
    const rendered = formatError(err);
    ctx.stderr.write(`${isUserError(err) ? colorFirst(ctx, rendered) : rendered}\n`);
    const code = exitCodeOf(err);
    if (ctx.jsonRequested && !ctx.documentPrinted) ctx.jsonLine(failureDocument(err, code));
    return code;
  } finally {
    await ctx.closeUnused();
  }
}

function colorFirst(ctx: Context, text: string): string {
  const [first, ...rest] = text.split('\n');
  return [ctx.color.red(first ?? ''), ...rest].join('\n');
}

/** For the launcher's closed-pipe handling: a rollback in flight must finish even if its reader is gone. */
export { rollbackInProgress } from './in-flight.js';
