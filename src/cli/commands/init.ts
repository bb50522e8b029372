/**
 * `rollback-tui init --env NAME --path DIR [--host HOST] [--user USER]`: look at a deploy directory
 * (locally, or over SSH) and write a commented rollback-config.yml for it in the working directory, plus
 * the JSON Schema its first line points editors at. Never overwrites: with a rollback-config.yml already
 * there it exits 1 and prints the environment block on stdout, to paste under `environments:`
 * (actions/init.ts, loaded when the command runs).
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { examples } from '../output.js';

export interface InitOptions {
  env?: string;
  path?: string;
  host?: string;
  user?: string;
  port?: string;
  identityFile?: string;
  sshConfig?: string;
}

export function registerInit(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description('detect the deployment at a directory and write a commented rollback-config.yml for it')
    .option('--env <name>', 'the environment name to write (e.g. prod)')
    .option('--path <dir>', 'the deploy directory: Capistrano deploy_to, Deployer deploy_path, or a backups folder')
    .option('--host <host>', 'look at the directory over SSH on this host (else on this machine)')
    .option('--user <user>', 'SSH user')
    .option('--port <port>', 'SSH port')
    .option('--identity-file <file>', 'SSH private key')
    .option('--ssh-config <file>', 'an ssh_config file (passed as -F)')
    .addHelpText(
      'after',
      examples(
        ['rollback-tui init --env prod --path /var/www/app --host app-1 --user deploy', 'a Capistrano or Deployer app on a server'],
        ['rollback-tui init --env staging --path /srv/app', 'on this machine'],
        ['rollback-tui config check && rollback-tui list --env prod', 'then check it and look'],
      ),
    )
    .action(async (opts: InitOptions) => {
      await (await import('../actions/init.js')).runInit(ctx, opts);
    });
}
