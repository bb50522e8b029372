/**
 * Fleet resolution: from one environment with `executor.hosts`, one resolved environment per host
 * (its executor built from the host's entry over the executor's defaults, `{host}` and `{name}`
 * substituted), and the `--hosts A,B` selection.
 *
 * Every host environment keeps the fleet's environment name: the lock, journal and history on each
 * host are the environment's, so a command limited to one host (`--hosts app-1`) and a command on the
 * whole fleet exclude each other on that host.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { placeholdersIn, substituteEnvironment } from '../config/fleet-keys.js';
import type { FleetHostConfig, ResolvedEnvironment, SshExecutorConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { DEFAULT_FLEET_CONCURRENCY, mapLimit } from './open.js';

const execFileAsync = promisify(execFile);

/** One host of a fleet as resolved. */
export interface FleetHost {
  /** Its name: in `--hosts`, plans, history and `{name}`. */
  name: string;
  /** The host as written in `hosts:` (an address, a host name or an ssh alias). */
  host: string;
  /** What `{host}` became: the host as written, or for an ssh alias the HostName `ssh -G` resolves. */
  address: string;
  /** The environment on this host alone (a one-host environment: openEnvironment takes it). */
  env: ResolvedEnvironment;
}

export interface ResolvedFleet {
  /** The fleet's environment as configured. */
  env: ResolvedEnvironment;
  /** The selected hosts, in configuration order. */
  hosts: FleetHost[];
  /** Names of the hosts left out by `--hosts`, in configuration order. */
  excluded: string[];
}

/** Resolves an ssh host (an alias, maybe) to the HostName ssh would connect to. */
export type AliasResolver = (executor: SshExecutorConfig) => Promise<string>;

interface HostEntry {
  name: string;
  host: string;
  entry: Exclude<FleetHostConfig, string> | null;
}

export function isFleet(env: ResolvedEnvironment): boolean {
  return env.executor.hosts !== undefined;
}

/** The hosts of a fleet as written (name, host), in configuration order; [] for a one-host environment. */
export function fleetHostEntries(env: ResolvedEnvironment): HostEntry[] {
  return (env.executor.hosts ?? []).map((h) =>
    typeof h === 'string' ? { name: h, host: h, entry: null } : { name: h.name ?? h.host, host: h.host, entry: h },
  );
}

/** `--hosts A,B` -> the names, trimmed, each once (order kept); undefined stays undefined. */
export function parseHostsOption(value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = (typeof value === 'string' ? [value] : value).flatMap((v) => v.split(','));
  return [...new Set(parts.map((p) => p.trim()).filter((p) => p !== ''))];
}

/**
 * Which hosts a run covers: all of the fleet, or those `--hosts` names. An unknown name, an empty
 * list, or `--hosts` on a one-host environment is a usage error (exit 64) listing the known names.
 */
export function selectHosts(env: ResolvedEnvironment, wanted: readonly string[] | undefined): { selected: string[]; excluded: string[] } {
  const all = fleetHostEntries(env).map((h) => h.name);
  if (wanted === undefined) return { selected: all, excluded: [] };
  if (all.length === 0) {
    throw new UsageError(`--hosts works on a fleet, and environment ${env.name} has one host (executor.host)`, `leave --hosts out for ${env.name}`);
  }
  const known = all.join(', ');
  const unknown = wanted.filter((w) => !all.includes(w));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown ${unknown.length === 1 ? 'host' : 'hosts'} ${unknown.map((u) => JSON.stringify(u)).join(', ')} in --hosts; the hosts of ${env.name} are: ${known}`,
      `--hosts takes the names in executor.hosts, separated by commas, e.g. --hosts ${all.slice(0, 2).join(',')}`,
    );
  }
  if (wanted.length === 0) throw new UsageError(`--hosts names no host; the hosts of ${env.name} are: ${known}`, `e.g. --hosts ${all[0] ?? 'NAME'}`);
  return { selected: all.filter((n) => wanted.includes(n)), excluded: all.filter((n) => !wanted.includes(n)) };
}

/** `ssh -G` prints the configuration ssh would use; its `hostname` line is where it connects. */
export const resolveAliasWithSsh: AliasResolver = async (executor) => {
  const args = ['-G'];
  if (executor.ssh_config) args.push('-F', executor.ssh_config);
  if (executor.port !== undefined) args.push('-p', String(executor.port));
  if (executor.user) args.push('-l', executor.user);
  args.push('--', executor.host);
  try {
    const { stdout } = await execFileAsync('ssh', args, { timeout: 10_000 });
    const line = stdout.split('\n').find((l) => l.startsWith('hostname '));
    return line ? line.slice('hostname '.length).trim() : executor.host;
  } catch {
    // ssh cannot read its configuration: {host} stays the host as written, and the connection itself
    // reports the problem in the pre-check.
    return executor.host;
  }
};

/** The one-host executor of a fleet host: the host's entry over the executor's defaults. */
function hostExecutor(env: ResolvedEnvironment, h: HostEntry): ResolvedEnvironment['executor'] {
  const ex = env.executor;
  if (ex.type === 'local') return { type: 'local' };
  const { hosts: _hosts, host: _host, ...defaults } = ex;
  const e = h.entry;
  return {
    ...defaults,
    host: h.host,
    ...(e?.port !== undefined ? { port: e.port } : {}),
    ...(e?.user !== undefined ? { user: e.user } : {}),
    ...(e?.identity_file !== undefined ? { identity_file: e.identity_file } : {}),
  };
}

export interface ResolveFleetOptions {
  /** `--hosts` names (undefined: every host). */
  hosts?: readonly string[];
  /** Default: `ssh -G`; only asked when the environment uses `{host}` and its executor is ssh. */
  resolveAlias?: AliasResolver;
}

/** The per-host environments of a fleet (a one-host environment is a usage error: see isFleet). */
export async function resolveFleet(env: ResolvedEnvironment, options: ResolveFleetOptions = {}): Promise<ResolvedFleet> {
  if (!isFleet(env)) throw new UsageError(`environment ${env.name} is not a fleet (it has no executor.hosts)`);
  const { selected, excluded } = selectHosts(env, options.hosts);
  const entries = fleetHostEntries(env).filter((h) => selected.includes(h.name));
  const { executor: _executor, ...rest } = env;
  const usesHost = placeholdersIn(JSON.stringify(rest)).includes('host');
  const resolveAlias = options.resolveAlias ?? resolveAliasWithSsh;
  const settled = await mapLimit(
    entries,
    DEFAULT_FLEET_CONCURRENCY,
    async (h): Promise<FleetHost> => {
      const executor = hostExecutor(env, h);
      const address = usesHost && executor.type === 'ssh' ? await resolveAlias(executor as SshExecutorConfig) : h.host;
      const substituted = substituteEnvironment(rest, { host: address, name: h.name });
      return { name: h.name, host: h.host, address, env: { ...substituted, executor } };
    },
  );
  const hosts = settled.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
  return { env, hosts, excluded };
}
