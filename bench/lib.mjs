/**
 * Shared pieces of the benchmark harness (bench/run.mjs): timing of child processes, summary statistics,
 * fixtures (symlink stores, configs, history), a loopback sshd and a private tmux server. Plain ESM, no
 * TypeScript: the bench runs against the built CLI in dist/ as operators do.
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { shQuote } from '../dist/core/exec/quote.js';
import { freePort } from '../dist/core/net.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The CLI under test; RTUI_BENCH_BIN points at another build's bin (a "before" figure from an older tree). */
export const BIN = process.env.RTUI_BENCH_BIN ? path.resolve(process.env.RTUI_BENCH_BIN) : path.join(ROOT, 'bin', 'rollback-tui.js');
export const SERVICE = path.join(ROOT, 'demo', 'service.mjs');
export const SSHD_PATH = '/usr/sbin/sshd';

/** Single-quote for POSIX sh: the product's own quoting function. */
export const q = (s) => shQuote(String(s));

/** {median, min, max, n} of numbers (rounded to 0.1). */
export function summary(values, unit = 'ms') {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  if (n === 0) return { median: null, min: null, max: null, n: 0, unit };
  const median = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  const r = (x) => Math.round(x * 10) / 10;
  return { median: r(median), min: r(v[0]), max: r(v[n - 1]), n, unit };
}

/**
 * Run a process to completion; resolves {code, stdout, stderr, ms} (wall time from spawn to exit).
 * Never rejects on a non-zero exit: callers check `code`.
 */
export function run(file, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...opts.env }, cwd: opts.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : null;
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, ms: performance.now() - t0 });
    });
    // A child that exits without reading stdin (tmux new-session -d) must not crash the harness.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** The built CLI. */
export function cli(args, opts = {}) {
  return run(process.execPath, [BIN, ...args], { timeoutMs: 300_000, ...opts });
}

/** Throw with the CLI's output when it did not exit with one of `ok`. */
export function expectCode(r, what, ok = [0]) {
  if (!ok.includes(r.code)) {
    throw new Error(`${what} exited ${r.code}\n--- stdout\n${r.stdout.slice(-2000)}\n--- stderr\n${r.stderr.slice(-2000)}`);
  }
  return r;
}

export async function waitFor(check, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

export { freePort };

export function tmpDir(prefix) {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `rtui-bench-${prefix}-`)));
}

const pad = (n, w = 2) => String(n).padStart(w, '0');
/** `backup_YYYYMMDD_HHMMSS` (UTC), as the symlink store names and parses them. */
export function backupName(ms) {
  const d = new Date(ms);
  return `backup_${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}_${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/**
 * A symlink store: `count` releases one hour apart in `<dir>/releases`, `current` -> the newest.
 * Returns {releasesDir, current, names (oldest first)}.
 */
export function makeStore(dir, count, release = () => ({ mode: 'healthy' })) {
  const releasesDir = path.join(dir, 'releases');
  fs.mkdirSync(releasesDir, { recursive: true });
  const start = Date.now() - count * 3_600_000;
  const names = [];
  for (let i = 0; i < count; i++) {
    const name = backupName(start + i * 3_600_000);
    fs.mkdirSync(path.join(releasesDir, name));
    fs.writeFileSync(path.join(releasesDir, name, 'release.json'), JSON.stringify({ version: `r${i + 1}`, ...release(i) }));
    names.push(name);
  }
  const current = path.join(dir, 'current');
  pointCurrent(current, path.join(releasesDir, names[names.length - 1]));
  return { releasesDir, current, names };
}

/** Point `current` at `target` (setup between timed runs, not timed). */
export function pointCurrent(current, target) {
  const tmp = `${current}.bench-tmp`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(target, tmp);
  fs.renameSync(tmp, current);
}

/** Write a config with one or more environments and the given policy; returns its path. */
export function writeConfig(dir, environments, policy = {}) {
  const file = path.join(dir, 'rollback-config.yml');
  fs.writeFileSync(file, YAML.stringify({ rollback_policy: policy, environments }, { lineWidth: 0 }));
  return file;
}

/** The `mv` flag that renames onto a symlink to a directory instead of into it: GNU/busybox -T, BSD -h. */
export function mvNoFollowFlag() {
  const d = tmpDir('mv');
  try {
    fs.mkdirSync(path.join(d, 'a'));
    fs.symlinkSync(path.join(d, 'a'), path.join(d, 'cur'));
    fs.symlinkSync(path.join(d, 'a'), path.join(d, 'tmp'));
    try {
      execFileSync('mv', ['-T', path.join(d, 'tmp'), path.join(d, 'cur')], { stdio: 'ignore' });
      return '-T';
    } catch {
      return '-h';
    }
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
}

/** The machine the numbers come from. */
export function machine() {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism ? os.availableParallelism() : cpus.length,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    memory_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    date: new Date().toISOString(),
  };
}

// ------------------------------------------------------------------------------------------------
// A loopback sshd (the same recipe as test/helpers/sshd.ts, without vitest): throwaway host and client
// keys, authorized_keys, StrictModes/UsePAM off, a client ssh_config with an alias.

function keygen(file) {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'rollback-tui-bench', '-f', file], { stdio: 'ignore' });
}

/**
 * A throwaway sshd. Options for fleet hosts (bench/fleet.mjs): `address` (a loopback address of its own),
 * `port` (one port shared by every host, each on its own address) and `bindMounts` (root: sshd runs in its
 * own mount namespace, `unshare -m`, where each `source` is bind-mounted on `target`, so every host has the
 * same layout at one path).
 */
export async function startSshd({ address = '127.0.0.1', port: fixedPort, bindMounts = [] } = {}) {
  if (!fs.existsSync(SSHD_PATH)) return null;
  const dir = tmpDir('sshd');
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync(path.join(dir, 'home'), { recursive: true });
  const hostKey = path.join(dir, 'host_ed25519');
  const identityFile = path.join(dir, 'id_ed25519');
  keygen(hostKey);
  keygen(identityFile);
  const authorizedKeys = path.join(dir, 'authorized_keys');
  fs.writeFileSync(authorizedKeys, fs.readFileSync(`${identityFile}.pub`), { mode: 0o600 });
  if (process.getuid?.() === 0) fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const user = os.userInfo().username;
  const alias = 'rollback-bench-host';
  const sshConfigPath = path.join(dir, 'ssh_config');
  for (let attempt = 0; attempt < (fixedPort === undefined ? 5 : 1); attempt++) {
    const port = fixedPort ?? (await freePort());
    const cfg = path.join(dir, 'sshd_config');
    fs.writeFileSync(
      cfg,
      [
        `Port ${port}`, `ListenAddress ${address}`, `HostKey ${hostKey}`, `PidFile ${path.join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${authorizedKeys}`, 'StrictModes no', 'UsePAM no', 'PermitRootLogin yes',
        'PubkeyAuthentication yes', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
        'MaxStartups 200:30:400', 'MaxSessions 200', 'PrintMotd no', 'LogLevel ERROR',
        // The login shell still reads the user's rc files for every command; a slow ~/.bashrc (pyenv
        // init here: ~0.5 s) would be measured as our cost. A fresh HOME measures the tool, as the tests do.
        `SetEnv HOME=${path.join(dir, 'home')}`, '',
      ].join('\n'),
    );
    fs.writeFileSync(
      sshConfigPath,
      [
        `Host ${alias}`, `  HostName ${address}`, `  Port ${port}`, `  User ${user}`, `  IdentityFile ${identityFile}`,
        '  IdentitiesOnly yes', 'Host *', '  StrictHostKeyChecking no', `  UserKnownHostsFile ${path.join(dir, 'known_hosts')}`,
        '  LogLevel ERROR', '',
      ].join('\n'),
    );
    const sshd = [SSHD_PATH, '-D', '-e', '-f', cfg];
    const mounts = bindMounts.map((_, i) => `mount --bind "\${${2 * i + 1}}" "\${${2 * i + 2}}"`);
    const mountArgs = bindMounts.flatMap((m) => [m.source, m.target]);
    // unshare execs sh in the new namespace, sh execs sshd: the child's pid is sshd's.
    const child =
      bindMounts.length === 0
        ? spawn(SSHD_PATH, sshd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] })
        : spawn('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', `${mounts.join(' && ')} && shift ${mountArgs.length} && exec "$@"`, 'sh', ...mountArgs, ...sshd], { stdio: ['ignore', 'ignore', 'pipe'] });
    let exited = false;
    child.on('exit', () => (exited = true));
    child.stderr.resume();
    const login = async () =>
      exited || (await run('ssh', ['-F', sshConfigPath, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=2', '--', alias, 'true'])).code === 0;
    await waitFor(login, `sshd on port ${port}`, 15_000);
    if (exited) continue;
    return {
      port,
      user,
      alias,
      sshConfigPath,
      identityFile,
      host: address,
      executor: { type: 'ssh', host: address, port, user, identity_file: identityFile, ssh_config: sshConfigPath, connect_timeout_seconds: 5 },
      /** One fresh ssh connection running a script on stdin (the "by hand" baseline). */
      sshArgs: ['-F', sshConfigPath, '-o', 'BatchMode=yes', '--', alias, 'sh -s'],
      stop: async () => {
        if (!exited) {
          const done = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await done;
        }
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error('sshd would not start on a free port');
}

// ------------------------------------------------------------------------------------------------
// A private tmux server (-L): launch a command in a pane of a given size and read the screen.

export function tmuxAvailable() {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export class Tmux {
  constructor() {
    this.socket = `rtui-bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  }
  async start(command, { width = 120, height = 40, env = {} } = {}) {
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const r = await run('tmux', ['-L', this.socket, '-f', '/dev/null', 'new-session', '-d', '-x', String(width), '-y', String(height), ...envArgs, command]);
    if (r.code !== 0) throw new Error(`tmux new-session failed: ${r.stderr}`);
  }
  async screen() {
    const r = await run('tmux', ['-L', this.socket, 'capture-pane', '-p', '-t', '0']);
    return r.code === 0 ? r.stdout : '';
  }
  async keys(...keys) {
    await run('tmux', ['-L', this.socket, 'send-keys', '-t', '0', ...keys]);
  }
  async kill() {
    await run('tmux', ['-L', this.socket, 'kill-server']);
  }
}

// ------------------------------------------------------------------------------------------------
// CPU and memory of another process.

/** CPU seconds (user + system) used so far by `pid`: /proc on Linux, `ps` elsewhere. */
export async function cpuSeconds(pid) {
  const stat = `/proc/${pid}/stat`;
  if (fs.existsSync(stat)) {
    const fields = fs.readFileSync(stat, 'utf8').split(') ')[1].split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return ticks / hz;
  }
  const r = await run('ps', ['-o', 'time=', '-p', String(pid)]);
  const parts = r.stdout.trim().split(/[:.]/).map(Number);
  // [[dd-]hh:]mm:ss.cc
  const [cs = 0, s = 0, m = 0, h = 0] = parts.reverse();
  return h * 3600 + m * 60 + s + cs / 100;
}

/** Resident set size of `pid` in MiB. */
export async function rssMiB(pid) {
  const r = await run('ps', ['-o', 'rss=', '-p', String(pid)]);
  return Math.round((Number(r.stdout.trim()) / 1024) * 10) / 10;
}
