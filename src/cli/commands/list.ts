/**
 * `rollback-tui list --env NAME [--json] [--sizes]`: backups newest first, with the live one, known-good
 * and bad ones marked. One round trip to the target (sizes only with --sizes: `du` can be slow).
 */
import type { Command } from 'commander';
import { openEnvironment } from '../../core/environment.js';
import { reportInterrupted } from '../../core/engine/index.js';
import type { Backup } from '../../core/stores/types.js';
import type { CliContext } from '../context.js';
import { examples, formatTable } from '../output.js';

/** The contract's JSON entry for one backup. */
export interface ListJsonEntry {
  name: string;
  created: string;
  size_bytes: number | null;
  current: boolean;
  known_good: boolean;
  bad: boolean;
}

export function toListJson(b: Backup): ListJsonEntry {
  return { name: b.name, created: b.created, size_bytes: b.sizeBytes, current: b.current, known_good: b.knownGood, bad: b.bad };
}

export function formatSize(bytes: number | null): string {
  if (bytes === null) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** A name as it can be shown on one line: hostile names (newlines, escapes) are shown quoted. */
export function displayName(name: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\x00-\x1f\x7f]/.test(name) ? JSON.stringify(name) : name;
}

export function listTable(ctx: CliContext, backups: Backup[]): string {
  const c = ctx.color;
  const rows = backups.map((b) => {
    const marks = [b.current ? c.green('current') : '', b.knownGood ? c.cyan('known-good') : '', b.bad ? c.red('bad') : '']
      .filter(Boolean)
      .join(' ');
    return [
      b.current ? c.green('●') : ' ',
      b.current ? c.bold(displayName(b.name)) : displayName(b.name),
      b.created.slice(0, 19).replace('T', ' '),
      formatSize(b.sizeBytes),
      marks,
      b.detail ? displayName(b.detail) : '',
    ];
  });
  return formatTable([' ', 'NAME', 'CREATED (UTC)', 'SIZE', 'MARKS', 'DETAIL'], rows);
}

export function registerList(program: Command, ctx: CliContext): void {
  program
    .command('list')
    .description('backups, newest first, current / known-good / bad marked')
    .option('--env <name>', 'the environment')
    .option('--json', 'print a JSON array on stdout')
    .option('--sizes', 'compute sizes (du; can be slow on large releases)')
    .addHelpText(
      'after',
      examples(
        ['rollback-tui list --env prod', 'a table of prod backups'],
        ['rollback-tui list --env prod --sizes', 'with sizes'],
        ['rollback-tui list --env prod --json | jq -r ".[0].name"', 'the newest backup, for scripts'],
      ),
    )
    .action(async (opts: { env?: string; json?: boolean; sizes?: boolean }) => {
      const { env } = await ctx.resolveEnv(opts);
      const handle = openEnvironment(env);
      await reportInterrupted(handle, (m) => ctx.warn(m));
      try {
        const backups = await handle.store.list({ sizes: opts.sizes === true });
        if (opts.json) {
          ctx.json(backups.map(toListJson));
          return;
        }
        if (backups.length === 0) {
          ctx.out(`no backups for ${env.name} (${handle.executor.description})`);
          return;
        }
        ctx.stdout.write(listTable(ctx, backups));
        if (!backups.some((b) => b.current)) ctx.warn(`nothing in the list is live for ${env.name}`);
      } finally {
        await handle.close();
      }
    });
}
