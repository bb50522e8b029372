/**
 * The configuration `init` writes: a commented environment block, and the whole file around it. Every key
 * written is commented; every guess that could not be confirmed is written commented out, so the file
 * works as written: with no service found nothing is stopped or started, with no port found verification
 * is skipped (with the usual warning).
 */
import type { SshExecutorConfig } from '../config/schema.js';
import type { Detection, DetectedUnit } from './detect.js';

export const SCHEMA_FILE = 'rollback-config.schema.json';

/** A YAML scalar: plain when safe, else double-quoted (JSON strings are valid YAML). */
function q(value: string): string {
  return /^[A-Za-z0-9_./@-][A-Za-z0-9_./@ -]*$/.test(value) && !/ $/.test(value) && !/^(true|false|null|yes|no|on|off|~)$/i.test(value)
    ? value
    : JSON.stringify(value);
}

/** Lines with a comment aligned at a column. */
function withComment(line: string, comment: string): string {
  return `${line.padEnd(38)} # ${comment}`;
}

function layoutLines(d: Detection): string[] {
  const l = d.layout;
  switch (l.kind) {
    case 'capistrano':
    case 'deployer': {
      const what = l.kind === 'capistrano'
        ? "Capistrano: releases/YYYYMMDDHHMMSS by name, revisions.log kept as cap writes it, a fled release archived as cap deploy:rollback does"
        : 'Deployer: releases in the order of .dep/releases_log, BAD_RELEASE written as dep rollback does, .dep/deploy.lock honoured';
      return [
        withComment('      strategy: symlink', 'releases are directories; current is a symlink to the live one'),
        withComment(`      layout: ${l.kind}`, what),
        withComment(`      deploy_to: ${q(l.deployTo)}`, `holds releases/ and current; this tool's state goes to ${l.deployTo}/.rollback-tui`),
      ];
    }
    case 'releases':
      return [
        withComment('      strategy: symlink', 'releases are directories; current is a symlink to the live one'),
        withComment(`      backups_dir: ${q(l.backupsDir)}`, 'the releases'),
        withComment(`      current: ${q(l.current)}`, 'the symlink to the live release'),
        withComment(`      pattern: ${q(l.pattern)}`, 'every directory in it is a release (ordered by name: timestamps, versions, numbers)'),
      ];
    case 'backups':
      return [
        withComment('      strategy: symlink', 'backups are directories; current is a symlink to the live one'),
        withComment(`      backups_dir: ${q(l.backupsDir)}`, 'the backup_YYYYMMDD_HHMMSS folders'),
        withComment(`      current: ${q(l.current)}`, 'the symlink that pointed into it'),
      ];
  }
}

function unitCommand(u: DetectedUnit, verb: 'stop' | 'start'): string {
  return `systemctl${u.scope === 'user' ? ' --user' : ''} ${verb} ${u.name}`;
}

function serviceLines(d: Detection): string[] {
  const u = d.unit;
  if (u?.confirmed) {
    const why = u.workingDirectory !== null ? `WorkingDirectory=${u.workingDirectory}` : `ExecStart=${u.execStart ?? ''}`;
    return [
      withComment('    service:', `systemd unit ${u.name} (systemctl cat): ${why}`),
      withComment(`      stop: ${q(unitCommand(u, 'stop'))}`, 'run before the switch'),
      withComment(`      start: ${q(unitCommand(u, 'start'))}`, 'run after it; the user running rollbacks must be allowed to'),
    ];
  }
  const lines: string[] = [];
  if (u) {
    lines.push(
      withComment('    # service:', `unit file ${u.name} points here, but systemctl cat could not read it (systemd not running?): check, then uncomment`),
      `    #   stop: ${q(unitCommand(u, 'stop'))}`,
      `    #   start: ${q(unitCommand(u, 'start'))}`,
    );
  } else if (d.procfile) {
    lines.push(
      withComment('    # service:', `no systemd unit found; the Procfile runs ${q(d.procfile.process)}: ${d.procfile.command}`),
      withComment('    #   stop: "..."', 'how this process is stopped here (its process manager)'),
      withComment('    #   start: "..."', 'and started again from current/'),
    );
  } else {
    lines.push(
      withComment('    # service:', 'no service found: nothing is stopped or started. For example:'),
      '    #   stop: systemctl stop app',
      '    #   start: systemctl start app',
    );
  }
  return lines;
}

function healthLines(d: Detection, remote: boolean): string[] {
  const p = d.ports[0];
  const via = remote ? ', via: target' : '';
  if (p) {
    const host = p.host.includes(':') ? `"${p.host}"` : p.host;
    return [
      withComment('    health:', 'checked after a rollback, until they pass'),
      withComment(`      - tcp: { host: ${host}, port: ${p.port}${via} }`, `pid ${p.pid} (${p.command.slice(0, 60)}) listens here${remote ? '; probed on the host' : ''}`),
      `      # - http: { url: "http://${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}/health"${via} }   # better, if it serves a health URL`,
    ];
  }
  return [
    withComment('    # health:', 'no listening port of this deployment found: rollbacks are not verified (a warning says so). For example:'),
    `    #   - http: { url: "http://127.0.0.1:8080/health"${via} }`,
  ];
}

export interface RenderOptions {
  env: string;
  executor: { type: 'local' } | SshExecutorConfig;
}

function executorLine(e: RenderOptions['executor']): string {
  if (e.type === 'local') return withComment('    executor: { type: local }', 'commands run on this machine');
  const parts = [`type: ssh`, `host: ${q(e.host)}`];
  if (e.user) parts.push(`user: ${q(e.user)}`);
  if (e.port) parts.push(`port: ${e.port}`);
  if (e.identity_file) parts.push(`identity_file: ${q(e.identity_file)}`);
  if (e.ssh_config) parts.push(`ssh_config: ${q(e.ssh_config)}`);
  return withComment(`    executor: { ${parts.join(', ')} }`, 'every command runs there over ssh');
}

/** The environment block, indented to go under `environments:`. */
export function renderEnvironment(d: Detection, o: RenderOptions): string {
  const count = d.releases.length;
  return [
    withComment(`  ${o.env}:`, `${count} release${count === 1 ? '' : 's'} found at ${d.dir}${d.live ? `, live: ${d.live}` : ''}`),
    withComment('    confirm: yes-no', 'type-name: the operator types the name to confirm'),
    executorLine(o.executor),
    '    target:',
    ...layoutLines(d),
    ...serviceLines(d),
    ...healthLines(d, o.executor.type === 'ssh'),
    '',
  ].join('\n');
}

/** The whole file. */
export function renderConfigFile(d: Detection, o: RenderOptions, writtenAt: Date): string {
  return [
    `# yaml-language-server: $schema=./${SCHEMA_FILE}`,
    '#',
    `# Written by \`rollback-tui init\` on ${writtenAt.toISOString().slice(0, 10)}: what it could confirm is set, the`,
    '# rest is commented out. Check it with `rollback-tui config check`, then look with',
    `# \`rollback-tui list --env ${o.env}\` and \`rollback-tui verify --env ${o.env}\`.`,
    '# The monitor\'s policy (rollback_policy:) takes its defaults; docs/CONFIG.md and the example',
    '# rollback-config.yml show every key.',
    '',
    'environments:',
    renderEnvironment(d, o),
  ].join('\n');
}
