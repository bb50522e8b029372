/**
 * The console's registrar: fills `ctx.openConsole`, which the default action (`rollback-tui [--env
 * NAME]`) calls once it has checked for a terminal (no terminal: exit 64 naming the subcommands, in
 * program.ts). The UI is imported lazily (actions/console.ts), so subcommands do not pay for loading
 * React and ink.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerConsole(_program: Command, ctx: CliContext): void {
  ctx.openConsole = async (c, opts) => (await import('../actions/console.js')).openConsole(c, opts);
}
