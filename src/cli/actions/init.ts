/**
 * What `rollback-tui init` runs (commands/init.ts registers it): look at a deploy directory, locally or
 * over SSH, and write a commented rollback-config.yml that works as written; never overwrite one.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SshExecutorConfig } from '../../core/config/schema.js';
import { configJsonSchemaText } from '../../core/config/jsonschema.js';
import { ExitCode, UsageError, UserError } from '../../core/errors.js';
import { createExecutor } from '../../core/exec/index.js';
import { detectDeployment, type Detection } from '../../core/init/detect.js';
import { renderConfigFile, renderEnvironment, SCHEMA_FILE, type RenderOptions } from '../../core/init/render.js';
import type { CliContext } from '../context.js';
import type { InitOptions } from '../commands/init.js';

const CONFIG_FILE = 'rollback-config.yml';

function summary(d: Detection): string[] {
  const l = d.layout;
  const layout = 'deployTo' in l ? `${l.kind} layout at ${l.deployTo}` : `releases in ${l.backupsDir}, live link ${l.current}`;
  const lines = [`found: ${layout} (${d.releases.length} release${d.releases.length === 1 ? '' : 's'}${d.live ? `, live ${d.live}` : ''})`];
  if (d.unit?.confirmed) lines.push(`service: systemd unit ${d.unit.name}`);
  else if (d.unit) lines.push(`service: unit file ${d.unit.name} points here, but systemctl cat could not read it: written commented out`);
  else if (d.procfile) lines.push(`service: a Procfile (${d.procfile.process}); how it is started here is unknown: written commented out`);
  else lines.push('service: none found: nothing will be stopped or started (commented example written)');
  const p = d.ports[0];
  lines.push(p ? `health: tcp ${p.host}:${p.port} (pid ${p.pid} listens there)` : 'health: no listening port found: rollbacks will not be verified (commented example written)');
  return lines;
}

export async function runInit(ctx: CliContext, opts: InitOptions): Promise<void> {
  const env = ctx.envName(opts);
  if (!env) throw new UsageError('init needs --env NAME: the name of the environment to write', 'rollback-tui init --env prod --path /var/www/app');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(env)) throw new UsageError(`invalid environment name ${JSON.stringify(env)}`, 'letters, digits, _ . - (e.g. prod)');
  if (!opts.path) throw new UsageError('init needs --path DIR: the deploy directory', `rollback-tui init --env ${env} --path /var/www/app`);
  const port = opts.port === undefined ? undefined : Number(opts.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) throw new UsageError(`invalid --port ${JSON.stringify(opts.port)}`, '--port 22');
  let executor: RenderOptions['executor'] = { type: 'local' };
  let dir = path.resolve(ctx.cwd, opts.path);
  if (opts.host) {
    if (!path.posix.isAbsolute(opts.path)) throw new UsageError(`--path must be absolute with --host, got ${JSON.stringify(opts.path)}`, '--path /var/www/app');
    dir = path.posix.normalize(opts.path).replace(/(.)\/+$/, '$1');
    const ssh: SshExecutorConfig = {
      type: 'ssh',
      host: opts.host,
      connect_timeout_seconds: 10,
      ...(opts.user ? { user: opts.user } : {}),
      ...(port ? { port } : {}),
      ...(opts.identityFile ? { identity_file: path.resolve(ctx.cwd, opts.identityFile) } : {}),
      ...(opts.sshConfig ? { ssh_config: path.resolve(ctx.cwd, opts.sshConfig) } : {}),
    };
    executor = ssh;
  } else if (opts.user) {
    throw new UsageError('--user goes with --host', `rollback-tui init --env ${env} --path ${opts.path} --host HOST --user ${opts.user}`);
  }
  const ex = createExecutor(executor.type === 'ssh' ? executor : { type: 'local' });
  let detection: Detection;
  try {
    ctx.log(`looking at ${dir} on ${ex.description}...`);
    detection = await detectDeployment(ex, dir);
  } finally {
    await ex.close();
  }
  const render = { env, executor };
  for (const line of summary(detection)) ctx.log(line);
  const file = path.join(ctx.cwd, CONFIG_FILE);
  if (existsSync(file)) {
    ctx.out(renderEnvironment(detection, render).trimEnd());
    throw new UserError(`${file} exists: it was not changed; the environment block for ${env} is on stdout, to paste under environments:`, {
      exitCode: ExitCode.FAILED,
      code: 'INIT_EXISTS',
      hint: `paste it into ${CONFIG_FILE}, then run \`rollback-tui config check\``,
    });
  }
  writeFileSync(file, renderConfigFile(detection, render, new Date()), { flag: 'wx' });
  const schema = path.join(ctx.cwd, SCHEMA_FILE);
  if (!existsSync(schema)) writeFileSync(schema, configJsonSchemaText(), { flag: 'wx' });
  ctx.log(`wrote ${file}`);
  ctx.log(`next: rollback-tui config check && rollback-tui list --env ${env} && rollback-tui verify --env ${env}`);
}
