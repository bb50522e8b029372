/**
 * `rollback-tui demo [--keep] [--speed N] [--hosts N] [--print-config]`: the console on a built-in demo environment
 * (actions/demo.ts, loaded when the command runs).
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';

export interface DemoOptions {
  keep?: boolean;
  speed: number;
  printConfig?: boolean;
  hosts?: number;
}

function parseHosts(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 2 || n > 20) throw new UsageError(`--hosts must be a whole number from 2 to 20 (got ${JSON.stringify(value)})`, 'rollback-tui demo --hosts 3');
  return n;
}

function parseSpeed(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 10) throw new UsageError(`--speed must be a number > 0 and <= 10 (got ${JSON.stringify(value)})`, 'rollback-tui demo --speed 0.5');
  return n;
}

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('the console on a built-in demo environment: a local service whose newest release leaks memory')
    .option('--keep', 'keep the sandbox directory after quitting (the service is still stopped)')
    .option('--speed <factor>', 'time scale of the demo policy: 1 = check every second, the memory trigger over 3 s, a 5 s countdown; 0.5 = twice as fast', parseSpeed, 1)
    .option('--hosts <n>', 'a fleet: N local hosts (directories, each with its own service and port), rolled back together', parseHosts)
    .option('--print-config', 'create the sandbox, print its rollback-config.yml and exit; with --keep the sandbox and its service stay up for the subcommands')
    .addHelpText(
      'after',
      examples(
        ['rollback-tui demo', 'watch the monitor catch a memory leak and roll back (about half a minute)'],
        ['rollback-tui demo --speed 0.3', 'the same, about three times faster'],
        ['rollback-tui demo --hosts 3', 'a fleet of three: one sick host is an alert, most hosts sick roll the fleet back'],
        ['rollback-tui demo --keep --print-config', 'a demo environment to try the subcommands on (prints how to stop it)'],
      ),
    )
    .action(async (opts: DemoOptions) => {
      await (await import('../actions/demo.js')).runDemo(ctx, opts);
    });
}
