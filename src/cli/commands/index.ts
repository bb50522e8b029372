/**
 * The subcommand registry. Each module exports a registrar that adds its command(s) to the program
 * with `program.command(...)` (so they inherit the error handling) and may fill context hooks such as
 * `ctx.openConsole`. To add a subcommand: write `commands/NAME.ts` exporting `register(program, ctx)`
 * and append it here.
 *
 * Conventions: read global options through `ctx` (`ctx.resolveEnv(cmd.opts())`, `ctx.globals`),
 * print JSON with `ctx.json`, logs with `ctx.log`/`ctx.warn` (stderr), throw UserError for failures
 * (its exit code is used) or set `ctx.exitCode`, and give every command examples with
 * `addHelpText('after', examples(...))`.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerConfig } from './config.js';
import { registerRollback } from './rollback.js';
import { registerHistory } from './history.js';
import { registerStats } from './stats.js';
import { registerDemo } from './demo.js';
import { registerList } from './list.js';
import { registerSnapshot } from './snapshot.js';
import { registerVerify } from './verify.js';
import { registerConsole } from './console.js';
import { registerMonitor } from './monitor.js';
import { registerInit } from './init.js';

export type Registrar = (program: Command, ctx: CliContext) => void;

export const registrars: Registrar[] = [registerConfig, registerRollback, registerHistory, registerStats, registerDemo, registerList, registerSnapshot, registerVerify, registerMonitor, registerConsole, registerInit];

export { examples } from '../output.js';
