/**
 * A local fleet: "hosts" that are directories on this machine, each with its own symlink release store,
 * state directory and demo service (demo/service.mjs) on its own port. The environment is a real fleet
 * (`executor: {type: local, hosts: [...]}`): every path carries `{name}` and the health URL `{host}`,
 * which for a local host is `127.0.0.1:PORT`. `rollback-tui demo --hosts N` runs on one, and so do the
 * fleet monitor's tests: everything is real except that the hosts share one kernel.
 *
 * Each host's `service.sh start|stop` knows its port, so the environment's one service command serves
 * every host.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { shQuote } from '../core/exec/quote.js';
import { freePort } from '../core/net.js';
import { formatBackupName } from '../core/stores/names.js';

export interface LocalFleetRelease {
  /** When it was deployed (its backup name is made from it). */
  created: Date;
  /** release.json of the demo service: version, mode (healthy, errors, leak ...) and its knobs. */
  release: Record<string, unknown>;
}

export interface LocalFleetOptions {
  /** Where the hosts go (`<dir>/hosts/<name>`); must exist. */
  dir: string;
  hosts: number;
  /** Oldest first; the newest is live on every host. */
  releases: LocalFleetRelease[];
  /** Host names (default app-1, app-2, ...). */
  names?: string[];
}

export interface LocalFleetHost {
  name: string;
  port: number;
  dir: string;
  /** http://127.0.0.1:PORT */
  base: string;
}

export interface LocalFleet {
  hosts: LocalFleetHost[];
  /** Backup names, oldest first (the same on every host). */
  releases: string[];
  /** The environment's keys for a config file (executor, target, service, health, state_dir). */
  environment: Record<string, unknown>;
  startAll(): Promise<void>;
  stopAll(): Promise<void>;
  /** GET /control?<query> on one host's service (fault injection: mode=errors ...). */
  control(name: string, query: string): Promise<void>;
}

function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

function sh(command: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}`.trim() });
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

function serviceScript(host: LocalFleetHost): string {
  const node = shQuote(process.execPath);
  const service = shQuote(path.join(packageRoot(), 'demo', 'service.mjs'));
  const pid = shQuote(path.join(host.dir, 'run', 'service.pid'));
  return [
    '#!/bin/sh',
    `# The demo service of local fleet host ${host.name} on port ${host.port}: service.sh start | stop`,
    'case "$1" in',
    `  start) exec ${node} ${service} --port ${host.port} --release-dir ${shQuote(path.join(host.dir, 'current'))} --pid-file ${pid} --log-file ${shQuote(path.join(host.dir, 'logs', 'service.log'))} --daemon ;;`,
    `  stop) exec ${node} ${service} --stop --pid-file ${pid} ;;`,
    '  *) echo "usage: service.sh start|stop" >&2; exit 64 ;;',
    'esac',
    '',
  ].join('\n');
}

export async function createLocalFleet(o: LocalFleetOptions): Promise<LocalFleet> {
  const names = o.names ?? Array.from({ length: o.hosts }, (_, i) => `app-${i + 1}`);
  const root = path.join(fs.realpathSync(o.dir), 'hosts');
  const releases = o.releases.map((r) => formatBackupName(r.created));
  const hosts: LocalFleetHost[] = [];
  for (const name of names) {
    const port = await freePort();
    const host = { name, port, dir: path.join(root, name), base: `http://127.0.0.1:${port}` };
    for (const d of ['releases', 'state', 'run', 'logs']) fs.mkdirSync(path.join(host.dir, d), { recursive: true });
    o.releases.forEach((r, i) => {
      const dir = path.join(host.dir, 'releases', releases[i] as string);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'release.json'), `${JSON.stringify(r.release)}\n`);
      fs.utimesSync(dir, r.created, r.created);
    });
    fs.symlinkSync(path.join(host.dir, 'releases', releases[releases.length - 1] as string), path.join(host.dir, 'current'));
    fs.writeFileSync(path.join(host.dir, 'service.sh'), serviceScript(host), { mode: 0o755 });
    hosts.push(host);
  }
  const hostDir = path.join(root, '{name}');
  const environment = {
    executor: { type: 'local', hosts: hosts.map((h) => ({ host: `127.0.0.1:${h.port}`, name: h.name })) },
    target: { strategy: 'symlink', backups_dir: path.join(hostDir, 'releases'), current: path.join(hostDir, 'current') },
    service: { start: `sh ${shQuote(path.join(hostDir, 'service.sh'))} start`, stop: `sh ${shQuote(path.join(hostDir, 'service.sh'))} stop`, timeout_seconds: 20 },
    health: [{ http: { url: 'http://{host}/health', timeout_seconds: 2 } }],
    state_dir: path.join(hostDir, 'state'),
  };
  const run = async (h: LocalFleetHost, what: 'start' | 'stop'): Promise<void> => {
    const r = await sh(`sh ${shQuote(path.join(h.dir, 'service.sh'))} ${what}`);
    if (r.code !== 0) throw new Error(`local fleet: ${what} on ${h.name} failed (exit ${r.code}): ${r.out}`);
  };
  return {
    hosts,
    releases,
    environment,
    startAll: async () => {
      await Promise.all(hosts.map((h) => run(h, 'start')));
      for (const h of hosts) {
        const deadline = Date.now() + 15_000;
        while (!(await answers(`${h.base}/health`))) {
          if (Date.now() > deadline) throw new Error(`local fleet: the service of ${h.name} does not answer on port ${h.port}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    },
    stopAll: async () => {
      await Promise.all(hosts.map((h) => run(h, 'stop')));
    },
    control: async (name, query) => {
      const h = hosts.find((x) => x.name === name);
      if (!h) throw new Error(`local fleet: no host ${name}`);
      const res = await fetch(`${h.base}/control?${query}`);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`local fleet: /control on ${name}: HTTP ${res.status}`);
    },
  };
}
