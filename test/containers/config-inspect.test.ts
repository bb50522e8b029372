/**
 * The container target's configuration (defaults, refusals with file:line), and how inspect output of
 * both engines is read: docker's documents are recorded samples (no docker daemon runs here), podman's
 * are taken from the real podman in the other container tests.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText, resolveEnvironment } from '../../src/core/config/load.js';
import { containerInfo, imageInfo, inspectDifference, parseEngineTime, requiredBindSources } from '../../src/core/stores/container-inspect.js';
import { problemsOf } from '../config/helpers.js';

const CONTAINER_ENV = `environments:
  web:
    target: { strategy: container, name: web, keep: 3 }
`;

describe('container target configuration', () => {
  it('engine defaults to docker, state_dir to /var/lib/rollback-tui/<name>; service commands are optional', () => {
    const loaded = parseConfigText(CONTAINER_ENV, { filepath: '/cfg/test.yml', cwd: '/cfg', env: {} });
    const env = resolveEnvironment(loaded, 'web');
    expect(env.target).toEqual({ strategy: 'container', engine: 'docker', name: 'web', keep: 3 });
    expect(env.state_dir).toBe('/var/lib/rollback-tui/web');
    expect(env.service.stop).toBeUndefined();
  });

  it('an engine other than docker or podman, an invalid name, a backups_dir: exit 78 naming the line and key', () => {
    expect(problemsOf(CONTAINER_ENV.replace('name: web', 'name: web, engine: nerdctl'))[0]).toContain(
      'test.yml:3:55: environments.web.target.engine: expected one of "docker" | "podman", got the string "nerdctl"',
    );
    expect(problemsOf(CONTAINER_ENV.replace('name: web', 'name: "-web"'))[0]).toContain('test.yml:3:42: environments.web.target.name: expected text matching /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, got the string "-web"');
    expect(problemsOf(CONTAINER_ENV.replace('keep: 3', 'keep: 3, backups_dir: /x'))[0]).toContain('environments.web.target.backups_dir: unknown key "backups_dir"');
  });
});

/** `docker container inspect` of a container created with `--mount type=bind` and `-v`, trimmed. */
const DOCKER_CONTAINER = {
  Id: '4c5b2f0d9e1a',
  Created: '2024-11-12T15:30:45.123456789Z',
  Name: '/web-v42',
  State: { Status: 'exited', Running: false, ExitCode: 0 },
  Image: 'sha256:3f1c0a9e2b71d2e9c6a4f1b0e8d7c6b5a4938271605f4e3d2c1b0a9f8e7d6c5b',
  Config: { Image: 'registry/web:v42', Env: ['PATH=/usr/bin', 'DATABASE_URL=postgres://u:pw@db/web', 'VERSION=v42'], Cmd: ['serve'], Hostname: '4c5b2f0d9e1a' },
  HostConfig: {
    NetworkMode: 'web-net',
    Binds: ['/srv/uploads:/uploads'],
    Mounts: [{ Type: 'bind', Source: '/etc/web/certs', Target: '/certs' }],
    RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
  },
  Mounts: [
    { Type: 'volume', Name: 'web-data', Source: '/var/lib/docker/volumes/web-data/_data', Destination: '/data', RW: true },
    { Type: 'bind', Source: '/srv/uploads', Destination: '/uploads', RW: true },
    { Type: 'bind', Source: '/etc/web/certs', Destination: '/certs', RW: true },
  ],
  NetworkSettings: { Networks: { 'web-net': { NetworkID: 'abc' } } },
};

describe('reading inspect output', () => {
  it('docker: the leading / and sha256: go, the digest comes from RepoDigests, only --mount binds are required', () => {
    const c = containerInfo(DOCKER_CONTAINER);
    expect(c).toMatchObject({ name: 'web-v42', status: 'exited', running: false, imageRef: 'registry/web:v42', volumes: ['web-data'], networks: ['web-net'] });
    expect(c.imageId).toBe('3f1c0a9e2b71d2e9c6a4f1b0e8d7c6b5a4938271605f4e3d2c1b0a9f8e7d6c5b');
    expect(c.createdMs).toBe(Date.parse('2024-11-12T15:30:45.123Z'));
    expect(c.createdSubMs).toBe(456789);
    expect(requiredBindSources(c, 'docker')).toEqual(['/etc/web/certs']);
    expect(requiredBindSources(c, 'podman')).toEqual(['/srv/uploads', '/etc/web/certs']);
    expect(imageInfo({ Id: 'sha256:3f1c', RepoDigests: ['registry/web@sha256:6f6b3a0d'] })).toEqual({ id: '3f1c', digest: 'sha256:6f6b3a0d' });
    expect(imageInfo({ Id: 'sha256:3f1c', RepoDigests: [] })).toEqual({ id: '3f1c', digest: '' });
  });

  it('creation times with any number of fraction digits order within the same millisecond', () => {
    expect(parseEngineTime('2024-11-12T15:30:45Z')).toEqual({ ms: Date.parse('2024-11-12T15:30:45Z'), subMs: 0 });
    expect(parseEngineTime('2024-11-12T15:30:45.5Z')).toEqual({ ms: Date.parse('2024-11-12T15:30:45.500Z'), subMs: 0 });
    expect(parseEngineTime('2024-11-12T15:30:45.000000001+00:00').subMs).toBe(1);
  });

  it('the inspect difference names changed settings and env variables, never env values', () => {
    const older = containerInfo({
      ...DOCKER_CONTAINER,
      Name: '/web-v41',
      Image: 'sha256:9d02c4e81a55',
      Config: {
        ...DOCKER_CONTAINER.Config,
        Image: 'registry/web:v41',
        Env: ['PATH=/usr/bin', 'DATABASE_URL=postgres://u:old@db/web', 'LEGACY=1'],
        Cmd: ['serve', '--legacy'],
        Hostname: 'other',
        Annotations: { 'io.kubernetes.cri-o.Created': '2024-11-10T09:12:03Z' },
        CreateCommand: ['podman', 'create', '-e', 'DATABASE_URL=postgres://u:old@db/web'],
      },
      Mounts: DOCKER_CONTAINER.Mounts.map((m) => (m.Destination === '/uploads' ? { ...m, RW: false } : m)),
    });
    const lines = inspectDifference(containerInfo(DOCKER_CONTAINER), older);
    expect(lines[0]).toBe('image: 3f1c0a9e2b71 (registry/web:v42) -> 9d02c4e81a55 (registry/web:v41)');
    expect(lines).toContain('env DATABASE_URL: value changed (values redacted)');
    expect(lines).toContain('env LEGACY: added');
    expect(lines).toContain('env VERSION: removed');
    expect(lines).toContain('Config.Cmd: ["serve"] -> ["serve","--legacy"]');
    expect(lines.join('\n')).not.toMatch(/pw|old@|v42@/);
    expect(lines).toContain('Mounts[1].RW: true -> false');
    // Volatile fields that differ between any two containers say nothing about the release.
    expect(lines.filter((l) => /Hostname|Annotations|CreateCommand/.test(l))).toEqual([]);
  });
});
