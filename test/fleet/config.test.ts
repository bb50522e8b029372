/**
 * Fleet configuration: executor.hosts, rollout, rollback_policy.fleet, the placeholder rules, and the
 * resolution of a fleet into per-host environments (a local fleet of directories; an ssh alias resolved
 * by the real `ssh -G` for {host}), with --hosts selection.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText, resolveEnvironment } from '../../src/core/config/load.js';
import { singleHostExecutor } from '../../src/core/environment.js';
import { ExitCode, UserError } from '../../src/core/errors.js';
import { parseHostsOption, resolveFleet, selectHosts } from '../../src/core/fleet/hosts.js';
import { problemsOf, tmpDir } from '../config/helpers.js';

const load = (text: string) => parseConfigText(text, { filepath: '/cfg/test.yml', cwd: '/cfg', env: {} });

const FLEET = `environments:
  prod:
    executor:
      type: ssh
      user: deploy
      port: 22
      hosts:
        - app-1
        - { host: 10.0.0.2, name: app-2, port: 2222 }
        - { host: app-3, user: ops, identity_file: keys/ops }
    rollout: { order: canary, batch: "50%", max_failures: 1, pause_seconds: 2 }
    policy: { fleet: { breach: any } }
    target: { strategy: symlink, backups_dir: "/srv/{name}/backups", current: /srv/app/current }
    service: { stop: "stop-app {name}", start: "start-app {name} $\${host}" }
    health:
      - http: { url: "http://{host}:8080/health" }
    metrics:
      source: prometheus
      url: http://prom:9090
      queries: { error_rate: 'sum(rate(x{instance="{host}:8080"}[1m]))' }
`;

describe('fleet configuration keys', () => {
  it('loads hosts, rollout and fleet.breach; a one-host environment has neither rollout nor fleet', () => {
    const loaded = load(FLEET);
    const env = resolveEnvironment(loaded, 'prod');
    expect(env.executor.hosts).toHaveLength(3);
    expect(env.rollout).toEqual({ order: 'canary', batch: '50%', max_failures: 1, pause_seconds: 2 });
    expect(env.policy.fleet).toEqual({ breach: 'any' });
    // identity_file of a host entry is a local path, made absolute against the file's folder
    expect(env.executor.hosts?.[2]).toMatchObject({ identity_file: '/cfg/keys/ops' });
    const single = resolveEnvironment(load(`environments:\n  one:\n    executor: { type: ssh, host: app-1 }\n    target: { strategy: symlink, backups_dir: /b, current: /c }\n`), 'one');
    expect(single.rollout).toBeUndefined();
    expect(single.policy.fleet).toBeUndefined();
    expect(singleHostExecutor(single)).toEqual({ type: 'ssh', host: 'app-1', connect_timeout_seconds: 10 });
  });

  it('a fleet cannot be opened as one host: a usage error naming it', () => {
    const env = resolveEnvironment(load(FLEET), 'prod');
    expect(() => singleHostExecutor(env)).toThrow(/prod is a fleet of 3 hosts/);
  });

  it('host and hosts together, duplicate names, ssh keys on a local fleet, bad rollout values', () => {
    const target = '    target: { strategy: symlink, backups_dir: "/b/{name}", current: "/c/{name}" }\n';
    expect(problemsOf(`environments:\n  p:\n    executor: { type: ssh, host: a, hosts: [b] }\n${target}`)).toEqual([
      'test.yml:3:44: environments.p.executor.hosts: give either host: (one host) or hosts: (a fleet), not both',
    ]);
    expect(problemsOf(`environments:\n  p:\n    executor: { type: ssh, hosts: [a, { host: b, name: a }] }\n${target}`)).toEqual([
      'test.yml:3:39: environments.p.executor.hosts[1]: the host name "a" is already used by hosts[0]: give each host its own name (name: ...)',
    ]);
    expect(problemsOf(`environments:\n  p:\n    executor: { type: local, hosts: [a, { host: b, port: 22 }] }\n${target}`)).toEqual([
      'test.yml:3:52: environments.p.executor.hosts[1].port: port is for ssh hosts; a local fleet\'s hosts take host and name only',
    ]);
    const rollout = problemsOf(`environments:\n  p:\n    executor: { type: local, hosts: [a] }\n    rollout: { order: random, batch: 0, max_failures: "ten" }\n${target}`);
    expect(rollout.join('\n')).toMatch(/environments\.p\.rollout\.order: expected one of "parallel" \| "serial" \| "canary"/);
    expect(rollout.join('\n')).toMatch(/environments\.p\.rollout\.batch/);
    expect(rollout.join('\n')).toMatch(/environments\.p\.rollout\.max_failures/);
    expect(problemsOf(`rollback_policy: { fleet: { breach: most } }\n`)).toEqual([
      'test.yml:1:37: rollback_policy.fleet.breach: expected one of "majority" | "any" | "all", got the string "most"',
    ]);
  });

  it('config check names a placeholder in a key that does not take one', () => {
    const lines = problemsOf(`environments:
  p:
    description: "{name} is fine in a description"
    executor: { type: ssh, user: "{name}", hosts: [a, b] }
    target: { strategy: symlink, backups_dir: "/b/{name}", current: /c, pattern: "{host}_*" }
`);
    expect(lines).toEqual([
      'test.yml:4:34: environments.p.executor.user: {name} is a placeholder, but this key does not take one (they work in health URLs and commands, metrics url/queries/command/memory, service and maintenance commands, target paths, state_dir and logs)',
      'test.yml:5:82: environments.p.target.pattern: {host} is a placeholder, but this key does not take one (they work in health URLs and commands, metrics url/queries/command/memory, service and maintenance commands, target paths, state_dir and logs)',
    ]);
  });

  it('a placeholder in a one-host environment stays as written, with a warning', () => {
    const loaded = load(`environments:\n  one:\n    target: { strategy: symlink, backups_dir: "/b/{name}", current: /c }\n`);
    expect(loaded.warnings).toEqual([
      'test.yml:3:47: environments.one.target.backups_dir: {name} is substituted only in a fleet (executor.hosts); this environment has one host, so it stays as written',
    ]);
    expect(resolveEnvironment(loaded, 'one').target).toMatchObject({ backups_dir: '/b/{name}' });
  });
});

describe('resolving a fleet', () => {
  it('one environment per host: executor defaults with the host entry over them, placeholders substituted', async () => {
    const env = resolveEnvironment(load(FLEET), 'prod');
    const asked: string[] = [];
    const fleet = await resolveFleet(env, {
      resolveAlias: async (ex) => {
        asked.push(ex.host);
        return ex.host === 'app-1' ? '192.0.2.1' : ex.host;
      },
    });
    expect(fleet.hosts.map((h) => [h.name, h.host, h.address])).toEqual([
      ['app-1', 'app-1', '192.0.2.1'],
      ['app-2', '10.0.0.2', '10.0.0.2'],
      ['app-3', 'app-3', 'app-3'],
    ]);
    expect(asked).toEqual(['app-1', '10.0.0.2', 'app-3']);
    const [h1, h2, h3] = fleet.hosts;
    expect(h1?.env.executor).toEqual({ type: 'ssh', host: 'app-1', user: 'deploy', port: 22, connect_timeout_seconds: 10 });
    expect(h2?.env.executor).toMatchObject({ host: '10.0.0.2', user: 'deploy', port: 2222 });
    expect(h3?.env.executor).toMatchObject({ host: 'app-3', user: 'ops', port: 22, identity_file: '/cfg/keys/ops' });
    expect(h1?.env.health).toEqual([{ http: expect.objectContaining({ url: 'http://192.0.2.1:8080/health' }) }]);
    expect(h2?.env.target).toMatchObject({ backups_dir: '/srv/app-2/backups', current: '/srv/app/current' });
    expect(h2?.env.state_dir).toBe('/srv/app-2/backups/.rollback');
    // $${host} in the file is the shell's ${host}: left alone
    expect(h2?.env.service).toMatchObject({ stop: 'stop-app app-2', start: 'start-app app-2 ${host}' });
    expect(h3?.env.metrics.queries).toEqual({ error_rate: 'sum(rate(x{instance="app-3:8080"}[1m]))' });
    expect(h1?.env.name).toBe('prod');
    expect(fleet.excluded).toEqual([]);
  });

  it('{host} of an ssh alias is the HostName that the real `ssh -G` resolves', async () => {
    const dir = tmpDir('rbfleet-');
    const sshConfig = path.join(dir, 'ssh_config');
    writeFileSync(sshConfig, 'Host web-a\n  HostName 192.0.2.10\n');
    const env = resolveEnvironment(
      load(`environments:\n  f:\n    executor: { type: ssh, ssh_config: ${sshConfig}, hosts: [web-a, 192.0.2.11] }\n    target: { strategy: symlink, backups_dir: /b, current: /c }\n    health: [ { tcp: { host: "{host}", port: 80 } } ]\n`),
      'f',
    );
    const fleet = await resolveFleet(env);
    expect(fleet.hosts.map((h) => [h.name, h.address])).toEqual([
      ['web-a', '192.0.2.10'],
      ['192.0.2.11', '192.0.2.11'],
    ]);
    expect(fleet.hosts[0]?.env.health).toEqual([{ tcp: expect.objectContaining({ host: '192.0.2.10' }) }]);
  });

  it('--hosts selects by name; unknown names and one-host environments are usage errors listing the hosts', async () => {
    const env = resolveEnvironment(load(FLEET), 'prod');
    expect(parseHostsOption(' app-3, app-1,app-3 ')).toEqual(['app-3', 'app-1']);
    expect(selectHosts(env, ['app-3', 'app-1'])).toEqual({ selected: ['app-1', 'app-3'], excluded: ['app-2'] });
    const fleet = await resolveFleet(env, { hosts: ['app-2'], resolveAlias: async (ex) => ex.host });
    expect(fleet.hosts.map((h) => h.name)).toEqual(['app-2']);
    expect(fleet.excluded).toEqual(['app-1', 'app-3']);
    let err: unknown;
    try {
      selectHosts(env, ['app-4', 'app-1']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(ExitCode.USAGE);
    expect((err as UserError).message).toBe('unknown host "app-4" in --hosts; the hosts of prod are: app-1, app-2, app-3');
    const single = resolveEnvironment(load(`environments:\n  one:\n    target: { strategy: symlink, backups_dir: /b, current: /c }\n`), 'one');
    expect(() => selectHosts(single, ['x'])).toThrow(/--hosts works on a fleet/);
  });

  it('a local fleet: every host local, told apart by {name} in its paths', async () => {
    const env = resolveEnvironment(
      load(`environments:\n  lf:\n    executor: { type: local, hosts: [a, { host: 127.0.0.12, name: b }] }\n    target: { strategy: symlink, backups_dir: "hosts/{name}/backups", current: "hosts/{name}/current" }\n    health: [ { http: { url: "http://{host}:9000/health" } } ]\n`),
      'lf',
    );
    const fleet = await resolveFleet(env);
    expect(fleet.hosts.map((h) => [h.name, h.env.executor, h.env.target])).toEqual([
      ['a', { type: 'local' }, expect.objectContaining({ backups_dir: '/cfg/hosts/a/backups', current: '/cfg/hosts/a/current' })],
      ['b', { type: 'local' }, expect.objectContaining({ backups_dir: '/cfg/hosts/b/backups' })],
    ]);
    expect(fleet.hosts[1]?.env.health).toEqual([{ http: expect.objectContaining({ url: 'http://127.0.0.12:9000/health' }) }]);
  });
});
