/**
 * Container test fixture: real podman (rootful, offline) with a containers.conf that only the tests set
 * (CONTAINERS_CONF: host network, cgroupfs, runc). Images are built with `podman import` from a tiny
 * rootfs made of the static busybox: `busybox httpd` on 127.0.0.1:$PORT serving /www; /cgi-bin/health
 * prints the version's /www/health (or a 500 for a sick version), /cgi-bin/data the volume's log. Every
 * container appends "started <version>" to /data/starts on the named volume when it starts.
 *
 * Names are unique per fixture (`rtui<random>-<version>`, images `localhost/rtui<random>`), so test
 * files running in parallel never collide; cleanup removes the containers, images and volume.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { freePort } from '../../src/core/net.js';
import { pollUntil, spawnBuiltCli, type CliRun } from '../engine/fixture.js';

export const PODMAN = '/usr/bin/podman';
export const BUSYBOX = '/bin/busybox';
export const podmanAvailable = existsSync(PODMAN) && existsSync(BUSYBOX);

const CONTAINERS_CONF = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "host"
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
`;

/** The containers.conf of the tests, written once per process; set for this process and its children. */
export function containersConf(): string {
  const file = path.join(os.tmpdir(), `rtui-containers-${process.pid}.conf`);
  if (!existsSync(file)) writeFileSync(file, CONTAINERS_CONF);
  process.env.CONTAINERS_CONF = file;
  return file;
}

export function podman(args: string[], opts: { input?: string; allowFail?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = execFile(PODMAN, args, { env: { ...process.env, CONTAINERS_CONF: containersConf() }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      if (code !== 0 && !opts.allowFail) reject(new Error(`podman ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
      else resolve({ code, stdout, stderr });
    });
    c.stdin?.end(opts.input ?? '');
  });
}

/**
 * A `podman` first on the PATH that runs `body` (sh, with the arguments in "$@") before the real one:
 * how the tests hold or fail one engine command at an exact point. Returns the PATH to run the CLI with.
 */
export function podmanWrapper(dir: string, body: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'podman'), `#!/bin/sh\n${body}\nexec ${PODMAN} "$@"\n`, { mode: 0o755 });
  return `${dir}:${process.env.PATH ?? ''}`;
}

/** ok: serves its health; sick: answers 500; nostart: its entrypoint does not exist (start fails). */
export type ReleaseMode = 'ok' | 'sick' | 'nostart';

export interface ReleaseSpec {
  version: string;
  mode?: ReleaseMode;
  /** Create the container from this earlier version's image instead of building one. */
  sameImageAs?: string;
  /** Bind-mount the directory <root>/bind-<version> (created) at /bind. */
  bind?: boolean;
  /** Listen on another free port than the fixture's (so it can run beside the live one). */
  otherPort?: boolean;
}

export interface ContainerFixtureOptions {
  /** Oldest first; created in this order. Default v1, v2, v3 (all ok). */
  releases?: ReleaseSpec[];
  /** The version running after setup (default the newest); null: none. */
  live?: string | null;
  /** Extra keys of the environment (executor, service, ...). */
  env?: Record<string, unknown>;
  /** rollback_policy overrides, merged over fast test defaults. */
  policy?: Record<string, unknown>;
  /** Extra target keys (keep, validate). */
  target?: Record<string, unknown>;
}

export interface ContainerFixture {
  root: string;
  name: string;
  port: number;
  volume: string;
  stateDir: string;
  configFile: string;
  container(version: string): string;
  /** Versions of the release containers running now. */
  running(): Promise<string[]>;
  /** The version the service answers with (null when nothing answers or it is not healthy). */
  serving(): Promise<string | null>;
  /** The lines the releases appended to the volume's /data/starts. */
  volumeLog(): Promise<string[]>;
  /** Create (not start) a release container, after the existing ones. */
  addRelease(spec: ReleaseSpec): Promise<void>;
  writeConfig(envExtra?: Record<string, unknown>): void;
  cli(args: string[], opts?: { env?: Record<string, string> }): Promise<CliRun>;
  spawnCli(args: string[], opts?: { env?: Record<string, string> }): ChildProcess & { out: () => CliRun };
  history(): Array<Record<string, unknown>>;
  marks(): { known_good: string[]; bad: string[] };
  cleanup(): Promise<void>;
}

const HTTP = (status: string, body: string) => `#!/bin/sh\nprintf 'HTTP/1.1 ${status}\\r\\nContent-Type: text/plain\\r\\n\\r\\n'\n${body}\n`;

async function rootfsTar(dir: string, version: string, mode: ReleaseMode): Promise<string> {
  const r = path.join(dir, `rootfs-${version}`);
  mkdirSync(path.join(r, 'bin'), { recursive: true });
  mkdirSync(path.join(r, 'www/cgi-bin'), { recursive: true });
  mkdirSync(path.join(r, 'data'), { recursive: true });
  copyFileSync(BUSYBOX, path.join(r, 'bin/busybox'));
  chmodSync(path.join(r, 'bin/busybox'), 0o755);
  for (const applet of ['sh', 'cat', 'printf']) symlinkSync('busybox', path.join(r, 'bin', applet));
  writeFileSync(path.join(r, 'www/health'), `${version}\n`);
  const health = mode === 'sick' ? HTTP('500 Internal Server Error', `echo "${version} is sick"`) : HTTP('200 OK', 'cat /www/health');
  writeFileSync(path.join(r, 'www/cgi-bin/health'), health, { mode: 0o755 });
  writeFileSync(path.join(r, 'www/cgi-bin/data'), HTTP('200 OK', 'cat /data/starts'), { mode: 0o755 });
  const tar = path.join(dir, `rootfs-${version}.tar`);
  await new Promise<void>((resolve, reject) => {
    const c = spawn('tar', ['-C', r, '-cf', tar, '.'], { stdio: 'ignore' });
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited ${code}`))));
  });
  return tar;
}

/** The service's start: log to the volume, stop cleanly on SIGTERM (PID 1 has no default handler). */
const CMD = JSON.stringify(['/bin/sh', '-c', `echo "started $VERSION" >> /data/starts; trap 'exit 0' TERM; /bin/busybox httpd -f -p 127.0.0.1:$PORT -h /www & wait`]);

export async function makeContainerFixture(o: ContainerFixtureOptions = {}): Promise<ContainerFixture> {
  containersConf();
  const root = mkdtempSync(path.join(os.tmpdir(), 'rtui-ctr-'));
  const name = `rtui${randomBytes(4).toString('hex')}`;
  const image = `localhost/${name}`;
  const volume = `${name}-data`;
  const port = await freePort();
  const stateDir = path.join(root, 'state');
  const configFile = path.join(root, 'rollback-config.yml');
  const container = (v: string) => `${name}-${v}`;
  const created: string[] = [];

  const addRelease = async (spec: ReleaseSpec): Promise<void> => {
    const mode = spec.mode ?? 'ok';
    if (!spec.sameImageAs) {
      const tar = await rootfsTar(root, spec.version, mode);
      await podman(['import', '-q', '--change', `CMD ${CMD}`, tar, `${image}:${spec.version}`]);
      created.push(spec.version);
    }
    const bind = path.join(root, `bind-${spec.version}`);
    if (spec.bind) mkdirSync(bind);
    await podman([
      'create', '--name', container(spec.version), '-v', `${volume}:/data`, ...(spec.bind ? ['-v', `${bind}:/bind`] : []),
      '-e', `VERSION=${spec.version}`, '-e', `PORT=${spec.otherPort ? await freePort() : port}`, '-e', `API_TOKEN=secret-of-${spec.version}`,
      ...(mode === 'nostart' ? ['--entrypoint', '/bin/does-not-exist'] : []),
      `${image}:${spec.sameImageAs ?? spec.version}`,
    ]);
  };

  const writeConfig = (envExtra: Record<string, unknown> = {}) => {
    const policy = {
      ...o.policy,
      rollback: { health_check_timeout_seconds: 5, stability_seconds: 0.3, poll_interval_seconds: 0.05, ...(o.policy?.rollback as object) },
      notifications: { timeout_seconds: 1, retries: 0 },
    };
    const env = {
      target: { strategy: 'container', engine: 'podman', name, ...o.target },
      service: { timeout_seconds: 5 },
      health: [{ http: { url: `http://127.0.0.1:${port}/cgi-bin/health`, timeout_seconds: 1 } }],
      state_dir: stateDir,
      ...o.env,
      ...envExtra,
    };
    writeFileSync(configFile, stringify({ rollback_policy: policy, environments: { test: env } }, { lineWidth: 0 }));
  };

  /** The HTTP status of the health URL, or null while nothing listens (10 s: a loaded machine answers late). */
  const answering = async (): Promise<number | null> => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/cgi-bin/health`, { signal: AbortSignal.timeout(10_000) })).status;
    } catch {
      return null;
    }
  };

  const serving = async (): Promise<string | null> => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/cgi-bin/health`, { signal: AbortSignal.timeout(10_000) });
      return res.ok ? (await res.text()).trim() : null;
    } catch {
      return null;
    }
  };

  const spawnCli = (args: string[], opts: { env?: Record<string, string> } = {}) =>
    spawnBuiltCli(configFile, args, { CONTAINERS_CONF: containersConf(), ...opts.env });

  const readJsonl = (file: string) =>
    existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];

  const fx: ContainerFixture = {
    root,
    name,
    port,
    volume,
    stateDir,
    configFile,
    container,
    running: async () => {
      const r = await podman(['ps', '--filter', 'status=running', '--format', '{{.Names}}']);
      return r.stdout.split('\n').filter((n) => n.startsWith(`${name}-`)).map((n) => n.slice(name.length + 1)).sort();
    },
    serving,
    volumeLog: async () => {
      const mount = (await podman(['volume', 'inspect', '--format', '{{.Mountpoint}}', volume])).stdout.trim();
      return readFileSync(path.join(mount, 'starts'), 'utf8').split('\n').filter(Boolean);
    },
    addRelease,
    writeConfig,
    cli: (args, opts) =>
      new Promise<CliRun>((resolve) => {
        const c = spawnCli(args, opts);
        c.on('close', () => resolve(c.out()));
      }),
    spawnCli,
    history: () => readJsonl(path.join(stateDir, 'history.jsonl')),
    marks: () => {
      const f = path.join(stateDir, 'marks.json');
      return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { known_good: string[]; bad: string[] }) : { known_good: [], bad: [] };
    },
    cleanup: async () => {
      const all = (await podman(['ps', '-a', '--format', '{{.Names}}'], { allowFail: true })).stdout.split('\n').filter((n) => n.startsWith(`${name}-`));
      if (all.length) await podman(['rm', '-f', '-t', '0', ...all], { allowFail: true });
      const images = created.map((v) => `${image}:${v}`);
      if (images.length) await podman(['rmi', '-f', ...images], { allowFail: true });
      await podman(['volume', 'rm', '-f', volume], { allowFail: true });
      rmSync(root, { recursive: true, force: true });
    },
  };

  try {
    await podman(['volume', 'create', volume]);
    for (const spec of o.releases ?? [{ version: 'v1' }, { version: 'v2' }, { version: 'v3' }]) await addRelease(spec);
    writeConfig();
    const live = o.live === undefined ? created.at(-1) : o.live;
    if (live) {
      await podman(['start', container(live)]);
      await pollUntil(async () => (await answering()) !== null, 15_000, `${container(live)} to answer`);
    }
  } catch (err) {
    await fx.cleanup();
    throw err;
  }
  return fx;
}
