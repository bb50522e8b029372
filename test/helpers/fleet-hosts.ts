/**
 * Real fixture hosts for fleet tests. Host i (1-based) is:
 * - its own sshd (startSshd) on its own loopback address 127.A.B.(10+i), all on one port, started in its
 *   own mount namespace (`unshare -m`, root) where its own directory is bind-mounted onto ONE shared path
 *   (/srv/rbtui-fleet-<pid>-<n>/app), so every host has the same layout, as real app servers do;
 * - a symlink release layout in that directory (`backups/backup_*` with release.json, `current`);
 * - its own demo service (demo/service.mjs), started by the environment's service command through the
 *   host's sshd (so it runs in the host's namespace) and bound to the host's address.
 * The shared path is unique per process and fixture, and A.B come from the process id, so test files
 * running side by side never collide: not on paths, and not on addresses, where a port that freePort()
 * found free on 127.0.0.1 could be another file's sshd or service port on the same host address.
 *
 *   const fleet = await startFleetHosts({ count: 3 });
 *   fleet.writeConfig();                        // environment `fleet` over the three hosts
 *   await fleet.cli(['list', '--env', 'fleet', '--json']);
 *   await fleet.stop();                         // in afterAll
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';
import { stringify } from 'yaml';
import type { SshExecutorConfig } from '../../src/core/config/schema.js';
import { SshExecutor } from '../../src/core/exec/ssh.js';
import { shQuote } from '../../src/core/exec/quote.js';
import { freePort } from '../../src/core/net.js';
import { bin, pollUntil, serviceJs } from '../engine/fixture.js';
import { backupNameFor } from './releases.js';
import { sshdAvailable, startSshd, type Sshd } from './sshd.js';

const unshareAvailable = (() => {
  try {
    execFileSync('unshare', ['-m', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
export const fleetHostsAvailable = sshdAvailable && process.getuid?.() === 0 && unshareAvailable;
if (!fleetHostsAvailable) {
  const msg = '\n!!! fleet fixture hosts need root, unshare and sshd: the fleet host tests are SKIPPED.\n';
  if (process.env.CI) throw new Error(msg);
  console.warn(msg);
}
/** `describe`, or a loudly skipped one where fixture hosts cannot run. */
export const describeFleet: typeof describe = fleetHostsAvailable ? describe : (describe.skip as typeof describe);

/** What a release's service does (release.json for demo/service.mjs). */
export type ReleaseSpec = Record<string, unknown>;

export interface FleetHostsOptions {
  count: number;
  /** Releases on every host, oldest first (default 3 healthy); each host's live one is the newest. */
  releases?: ReleaseSpec[];
  /** Start each host's service on its live release (default true). */
  startServices?: boolean;
}

export interface FixtureHost {
  name: string;
  address: string;
  /** The host's real directory (what the host sees at the shared path). */
  dir: string;
  sshd: Sshd;
  executorConfig(): SshExecutorConfig;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface FleetHosts {
  hosts: FixtureHost[];
  /** The one path every host has its layout at. */
  sharedPath: string;
  sshPort: number;
  servicePort: number;
  /** Release names, oldest first. */
  names: string[];
  configFile: string;
  envName: string;
  /** The environment over every host (plus overrides), as written to the config file. */
  envConfig(extra?: Record<string, unknown>): Record<string, unknown>;
  writeConfig(extra?: Record<string, unknown>, more?: Record<string, Record<string, unknown>>): void;
  live(i: number): string;
  setLive(i: number, name: string): void;
  removeRelease(i: number, name: string): void;
  /** Put a removed release back as it was made. */
  restoreRelease(i: number, name: string): void;
  startService(i: number): Promise<void>;
  serviceVersion(i: number): Promise<string | null>;
  /** The built CLI on this fleet's configuration; `env` adds to its environment. */
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  stop(): Promise<void>;
}

let fixtures = 0;
const q = shQuote;
/** This process's loopback addresses: 127.<pid / 256 % 256>.<pid % 256>.x (all of 127/8 is loopback). */
const addressBlock = `127.${(process.pid >> 8) & 255}.${process.pid & 255}`;

export async function startFleetHosts(o: FleetHostsOptions): Promise<FleetHosts> {
  const specs = o.releases ?? [{}, {}, {}];
  const root = mkdtempSync(path.join(os.tmpdir(), 'rtui-fleet-'));
  const sharedPath = `/srv/rbtui-fleet-${process.pid}-${++fixtures}/app`;
  mkdirSync(sharedPath, { recursive: true });
  const start = Date.parse('2024-11-12T10:00:00Z');
  const names = specs.map((_, i) => backupNameFor(new Date(start + i * 3_600_000)));
  const envName = 'fleet';
  const configFile = path.join(root, 'rollback-config.yml');
  const servicePort = await freePort();

  const makeRelease = (dir: string, i: number, r: number): void => {
    const name = names[r] as string;
    const rel = path.join(dir, 'backups', name);
    mkdirSync(rel);
    writeFileSync(path.join(rel, 'VERSION'), `${name}\n`);
    writeFileSync(path.join(rel, 'release.json'), JSON.stringify({ version: name, ...specs[r] }));
    writeFileSync(path.join(rel, 'host.txt'), `host-${i + 1}\n`);
    const t = new Date(start + r * 3_600_000);
    utimesSync(rel, t, t);
  };
  const dirs = Array.from({ length: o.count }, (_, i) => {
    const dir = path.join(root, `host-${i + 1}`);
    mkdirSync(path.join(dir, 'backups'), { recursive: true });
    names.forEach((_name, r) => makeRelease(dir, i, r));
    return dir;
  });
  const setLive = (i: number, name: string): void => {
    const current = path.join(dirs[i] as string, 'current');
    rmSync(current, { force: true });
    symlinkSync(`${sharedPath}/backups/${name}`, current);
  };
  dirs.forEach((_, i) => setLive(i, names[names.length - 1] as string));

  // One port for every host's sshd (on its own address); another port if one was taken meanwhile.
  let sshds: Sshd[] = [];
  let sshPort = 0;
  for (let attempt = 0; attempt < 3 && sshds.length < o.count; attempt++) {
    // Never the service's port: nothing holds that one on 127.0.0.1, where freePort() looks.
    do sshPort = await freePort();
    while (sshPort === servicePort);
    const started = await Promise.allSettled(
      dirs.map((dir, i) => startSshd({ address: `${addressBlock}.${11 + i}`, port: sshPort, bindMounts: [{ source: dir, target: sharedPath }] })),
    );
    sshds = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    if (sshds.length < o.count) {
      await Promise.all(sshds.map((s) => s.stop()));
      sshds = [];
      if (attempt === 2) throw (started.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason;
    }
  }
  const hosts: FixtureHost[] = sshds.map((sshd, i) => ({
    name: `app-${i + 1}`,
    address: sshd.host,
    dir: dirs[i] as string,
    sshd,
    executorConfig: () => sshd.executorConfig(),
  }));

  const pidFile = `${sharedPath}/service.pid`;
  const serviceStart = `${q(process.execPath)} ${q(serviceJs)} --daemon --host {host} --port ${servicePort} --release-dir ${sharedPath}/current --pid-file ${pidFile} --log-file ${sharedPath}/service.log`;
  const serviceStop = `${q(process.execPath)} ${q(serviceJs)} --stop --pid-file ${pidFile}`;
  const first = hosts[0]?.sshd as Sshd;
  const envConfig = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    executor: {
      type: 'ssh',
      port: sshPort,
      user: first.user,
      ssh_config: first.sshConfigPath,
      connect_timeout_seconds: 5,
      hosts: hosts.map((h) => ({ host: h.address, name: h.name, identity_file: h.sshd.identityFile })),
    },
    target: { strategy: 'symlink', backups_dir: `${sharedPath}/backups`, current: `${sharedPath}/current` },
    service: { start: serviceStart, stop: serviceStop, timeout_seconds: 30 },
    health: [{ http: { url: `http://{host}:${servicePort}/health`, timeout_seconds: 1 } }],
    state_dir: `${sharedPath}/state`,
    ...extra,
  });
  // Generous per request: a service that is down refuses at once, and one that is up may answer late
  // on a loaded machine (null then would read as "down").
  const serviceVersion = async (i: number): Promise<string | null> => {
    try {
      const res = await fetch(`http://${hosts[i]?.address}:${servicePort}/metrics`, { signal: AbortSignal.timeout(10_000) });
      return ((await res.json()) as { version: string }).version;
    } catch {
      return null;
    }
  };

  const fleet: FleetHosts = {
    hosts,
    sharedPath,
    sshPort,
    servicePort,
    names,
    configFile,
    envName,
    envConfig,
    writeConfig: (extra = {}, more = {}) => {
      const policy = { rollback: { health_check_timeout_seconds: 5, stability_seconds: 0.2, poll_interval_seconds: 0.05 } };
      writeFileSync(configFile, stringify({ rollback_policy: policy, environments: { [envName]: envConfig(extra), ...more } }, { lineWidth: 0 }));
    },
    live: (i) => path.basename(readlinkSync(path.join(dirs[i] as string, 'current'))),
    setLive,
    removeRelease: (i, name) => rmSync(path.join(dirs[i] as string, 'backups', name), { recursive: true, force: true }),
    restoreRelease: (i, name) => makeRelease(dirs[i] as string, i, names.indexOf(name)),
    startService: async (i) => {
      const h = hosts[i] as FixtureHost;
      const ex = new SshExecutor(h.executorConfig());
      try {
        // The environment's own command, through the host's sshd: the service runs in its namespace.
        const r = await ex.shell(serviceStart.replace('{host}', h.address), { timeoutMs: 20_000 });
        if (r.exitCode !== 0) throw new Error(`service start on ${h.name} exited ${r.exitCode}: ${r.stderr}`);
      } finally {
        await ex.close();
      }
      await pollUntil(async () => (await serviceVersion(i)) !== null, 30_000, `the service of ${h.name} to listen`);
    },
    serviceVersion,
    cli: (args, env = {}) =>
      new Promise<CliResult>((resolve) => {
        const child = spawn(process.execPath, [bin, '--config', configFile, ...args], {
          env: { ...process.env, NO_COLOR: '1', ROLLBACK_ENV: '', ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (b: Buffer) => out.push(b));
        child.stderr.on('data', (b: Buffer) => err.push(b));
        child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
      }),
    stop: async () => {
      // Services first (their pid files are in the host directories), then the sshds: the namespaces
      // (and their bind mounts) end with their last process.
      for (const dir of dirs) {
        const pid = path.join(dir, 'service.pid');
        if (existsSync(pid)) {
          await new Promise<void>((r) => spawn(process.execPath, [serviceJs, '--stop', '--pid-file', pid], { stdio: 'ignore' }).on('close', () => r()));
        }
      }
      await Promise.all(hosts.map((h) => h.sshd.stop()));
      rmSync(path.dirname(sharedPath), { recursive: true, force: true });
      rmSync(root, { recursive: true, force: true });
    },
  };
  if (o.startServices !== false) {
    try {
      for (let i = 0; i < hosts.length; i++) await fleet.startService(i);
    } catch (err) {
      await fleet.stop();
      throw err;
    }
  }
  return fleet;
}
