/**
 * A real OpenSSH server for tests: `/usr/sbin/sshd` on 127.0.0.1 at a free high port with a throwaway
 * config, host key and client key in a temp directory. Reusable by any test that needs an SSH target:
 *
 *   const sshd = await startSshd();
 *   const exec = new SshExecutor(sshd.executorConfig());   // or { ...sshd.aliasConfig() }
 *   ...
 *   await sshd.stop();
 *
 * When sshd is not installed the suites using `describeSsh` are skipped with a loud warning, except under
 * CI (`CI` set), where that is a failure: CI installs openssh-server.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync, existsSync, chmodSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import type { SshExecutorConfig } from '../../src/core/config/schema.js';
import { freePort } from '../../src/core/net.js';
import { SshExecutor } from '../../src/core/exec/ssh.js';

export const SSHD_PATH = '/usr/sbin/sshd';
export const sshdAvailable = existsSync(SSHD_PATH);

if (!sshdAvailable) {
  const msg =
    `\n!!! ${SSHD_PATH} is not installed: the SSH tests are SKIPPED. ` +
    'Install it with `apt-get install -y openssh-server`.\n';
  if (process.env.CI) throw new Error(msg + '(CI must install openssh-server)');
  console.warn(msg);
}

/** `describe`, or a loudly skipped describe when sshd is absent (never silently: see above). */
export const describeSsh: typeof describe = sshdAvailable ? describe : (describe.skip as typeof describe);

export interface Sshd {
  /** The loopback address it listens on (127.0.0.1 unless `address` was given). */
  host: string;
  port: number;
  user: string;
  identityFile: string;
  /** A client ssh_config (pass as -F) with `Host <alias>` and host-key checking off for the temp server. */
  sshConfigPath: string;
  /** The Host alias defined in sshConfigPath. */
  alias: string;
  dir: string;
  /** Executor config by address: host (its address), port, user, identity_file, ssh_config. */
  executorConfig(extra?: Partial<SshExecutorConfig>): SshExecutorConfig;
  /** Executor config by alias only: everything else comes from the ssh_config file. */
  aliasConfig(extra?: Partial<SshExecutorConfig>): SshExecutorConfig;
  stop(): Promise<void>;
}

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'rollback-tui-test', '-f', file], {
    stdio: 'ignore',
  });
}

async function waitUntil(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

function canLogin(sshd: { host: string; port: number; user: string; identityFile: string; sshConfigPath: string }): boolean {
  try {
    execFileSync(
      'ssh',
      ['-F', sshd.sshConfigPath, '-i', sshd.identityFile, '-p', String(sshd.port), '-l', sshd.user,
        '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '--', sshd.host, 'true'],
      // A login on a loaded machine (sshd re-execs itself per connection) can take seconds.
      { stdio: 'ignore', timeout: 15_000 },
    );
    return true;
  } catch {
    return false;
  }
}

export interface StartSshdOptions {
  /**
   * Give sessions HOME=<temp dir> (sshd SetEnv) so the test user's real rc files (a slow ~/.bashrc
   * running `pyenv init`, say) do not make every session cost seconds. Default true; false measures the
   * real login environment.
   */
  hermeticHome?: boolean;
  /** More variables for every session (sshd SetEnv), e.g. CONTAINERS_CONF for the container tests. */
  sessionEnv?: Record<string, string>;
  /** The loopback address to listen on (default 127.0.0.1): one per fixture host of a fleet. */
  address?: string;
  /** This port, not a free one picked here (a fleet's hosts share one port on their own addresses). */
  port?: number;
  /**
   * Run sshd in its own mount namespace (`unshare -m`, root only) with these bind mounts, so every
   * session of this server sees `source` at `target`: fixture hosts with one layout at one path.
   */
  bindMounts?: ReadonlyArray<{ source: string; target: string }>;
}

/** One SetEnv line (sshd uses the first SetEnv it reads, so all variables go on it), or none. */
function sessionSetEnv(...maps: (Record<string, string> | undefined)[]): string[] {
  const vars = Object.entries(Object.assign({}, ...maps) as Record<string, string>).map(([k, v]) => `${k}=${v}`);
  return vars.length ? [`SetEnv ${vars.join(' ')}`] : [];
}

/** The command that starts sshd: directly, or inside a new mount namespace with the bind mounts made. */
function sshdCommand(configFile: string, bindMounts: StartSshdOptions['bindMounts']): [string, string[]] {
  const sshd = [SSHD_PATH, '-D', '-e', '-f', configFile];
  if (!bindMounts || bindMounts.length === 0) return [SSHD_PATH, sshd.slice(1)];
  const mounts = bindMounts.map((_, i) => `mount --bind "\${${2 * i + 1}}" "\${${2 * i + 2}}"`).join(' && ');
  const args = bindMounts.flatMap((m) => [m.source, m.target]);
  // unshare execs sh in the new namespace, sh execs sshd: the child's pid is sshd's.
  return ['unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c', `${mounts} && shift ${args.length} && exec "$@"`, 'sh', ...args, ...sshd]];
}

export async function startSshd(options: StartSshdOptions = {}): Promise<Sshd> {
  if (!sshdAvailable) throw new Error(`${SSHD_PATH} is not installed (apt-get install -y openssh-server)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-sshd-'));
  chmodSync(dir, 0o755);
  const hostKey = path.join(dir, 'host_ed25519');
  const identityFile = path.join(dir, 'id_ed25519');
  keygen(hostKey);
  keygen(identityFile);
  const authorizedKeys = path.join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${identityFile}.pub`), { mode: 0o600 });
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const user = os.userInfo().username;
  const alias = 'rollback-test-host';
  const sshConfigPath = path.join(dir, 'ssh_config');
  const logFile = path.join(dir, 'sshd.log');
  mkdirSync(path.join(dir, 'home'), { mode: 0o700 });

  const address = options.address ?? '127.0.0.1';
  let lastError = '';
  for (let attempt = 0; attempt < (options.port === undefined ? 5 : 1); attempt++) {
    const port = options.port ?? (await freePort());
    const configFile = path.join(dir, 'sshd_config');
    writeFileSync(
      configFile,
      [
        `Port ${port}`,
        `ListenAddress ${address}`,
        `HostKey ${hostKey}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        'StrictModes no',
        'UsePAM no',
        'PermitRootLogin yes',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'MaxStartups 200:30:400',
        'MaxSessions 200',
        'PrintMotd no',
        ...sessionSetEnv(options.hermeticHome === false ? {} : { HOME: path.join(dir, 'home') }, options.sessionEnv),
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    writeFileSync(
      sshConfigPath,
      [
        `Host ${alias}`,
        `  HostName ${address}`,
        `  Port ${port}`,
        `  User ${user}`,
        `  IdentityFile ${identityFile}`,
        '  IdentitiesOnly yes',
        'Host *',
        '  StrictHostKeyChecking no',
        `  UserKnownHostsFile ${path.join(dir, 'known_hosts')}`,
        '  LogLevel ERROR',
        '',
      ].join('\n'),
    );
    const [file, args] = sshdCommand(configFile, options.bindMounts);
    const child: ChildProcess = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let exited = false;
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
      // Per-connection sshd processes outlive the listener and share its stderr: their last lines can
      // arrive after stop() removed the directory, and an error thrown here would fail the whole file.
      try {
        writeFileSync(logFile, stderr);
      } catch {
        // the directory is gone with the server; `stderr` still holds the text
      }
    });
    child.on('exit', () => {
      exited = true;
    });
    const info = { host: address, port, user, identityFile, sshConfigPath };
    try {
      await waitUntil(() => exited || canLogin(info), `sshd on port ${port}`, 45_000);
    } catch (e) {
      child.kill('SIGKILL');
      throw e;
    }
    if (exited) {
      lastError = stderr.trim();
      continue; // port taken between freePort() and bind: try another
    }
    const sshd: Sshd = {
      host: address,
      port,
      user,
      identityFile,
      sshConfigPath,
      alias,
      dir,
      executorConfig: (extra = {}) => ({
        type: 'ssh',
        host: address,
        port,
        user,
        identity_file: identityFile,
        ssh_config: sshConfigPath,
        connect_timeout_seconds: 5,
        ...extra,
      }),
      aliasConfig: (extra = {}) => ({
        type: 'ssh',
        host: alias,
        ssh_config: sshConfigPath,
        connect_timeout_seconds: 5,
        ...extra,
      }),
      stop: async () => {
        if (!exited) {
          const done = new Promise<void>((r) => child.once('exit', () => r()));
          child.kill('SIGTERM');
          await done;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return sshd;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`sshd would not start: ${lastError}`);
}

/**
 * Inside a describe block: one loopback sshd and one SshExecutor (one master connection, like one
 * console process) for the block's tests; the getter is valid once the block's beforeAll has run.
 */
export function sshExecutorForBlock(): () => SshExecutor {
  let sshd: Sshd | undefined;
  let ex: SshExecutor | undefined;
  beforeAll(async () => {
    sshd = await startSshd();
    ex = new SshExecutor(sshd.aliasConfig());
  });
  afterAll(async () => {
    await ex?.close();
    await sshd?.stop();
  });
  return () => {
    if (!ex) throw new Error('the block\'s sshd is not started (call the getter inside a test)');
    return ex;
  };
}
