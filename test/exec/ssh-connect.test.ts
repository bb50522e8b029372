/**
 * The early SSH connection (SshExecutor.connect(), openEnvironment, the CLI's prepareEnv) against a real
 * sshd on 127.0.0.1: the master is up before any call, calls reuse it, a failed one is reported once
 * with the transport message, and a connection no command took is closed with its control directory.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TransportError } from '../../src/core/exec/errors.js';
import { SshExecutor } from '../../src/core/exec/ssh.js';
import { openEnvironment } from '../../src/core/environment.js';
import { EnvironmentSchema, PolicySchema } from '../../src/core/config/schema.js';
import type { ResolvedEnvironment } from '../../src/core/config/schema.js';
import { runBin } from '../cli/bin.js';
import { describeSsh, startSshd, type Sshd } from '../helpers/sshd.js';

/** `ssh -O check` on the executor's control socket: is its master connection up? */
function masterRunning(ex: SshExecutor): boolean {
  try {
    execFileSync('ssh', [...ex.sshArgs().filter((a) => a !== '-T'), '-O', 'check', '--', '127.0.0.1'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function pollUntil(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describeSsh('early ssh connection', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  }, 60_000);
  afterAll(async () => {
    await sshd?.stop();
  });

  it('connect() brings the master up with no call made, and calls then go through it', async () => {
    const ex = new SshExecutor(sshd.executorConfig());
    try {
      expect(masterRunning(ex)).toBe(false);
      ex.connect();
      await pollUntil(() => masterRunning(ex), 'the master connection');
      const r = await ex.script('echo "$1"', ['through the master']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe('through the master\n');
      ex.connect(); // idempotent: still the one master
      expect(masterRunning(ex)).toBe(true);
    } finally {
      await ex.close();
    }
    expect(masterRunning(ex)).toBe(false);
  });

  it('calls made while it connects wait for it, and all of them run', async () => {
    const ex = new SshExecutor(sshd.executorConfig());
    try {
      ex.connect();
      const results = await Promise.all([1, 2, 3].map((n) => ex.script('echo "$1"', [String(n)])));
      expect(results.map((r) => r.stdout.trim())).toEqual(['1', '2', '3']);
    } finally {
      await ex.close();
    }
  });

  it('a connection that fails is the waiting call\'s TransportError; the next call tries again by itself', async () => {
    const ex = new SshExecutor(sshd.executorConfig({ port: 1, user: 'deploy' }));
    try {
      ex.connect();
      const first = await ex.script('true').catch((e: unknown) => e);
      expect(first).toBeInstanceOf(TransportError);
      expect((first as TransportError).message).toMatch(/cannot reach deploy@127\.0\.0\.1:1: Connection refused/);
      expect((first as TransportError).hint).toContain('ssh');
      const second = await ex.script('true').catch((e: unknown) => e);
      expect(second).toBeInstanceOf(TransportError);
    } finally {
      await ex.close();
    }
  });

  it('close() right after connect() ends the master and removes the control directory', async () => {
    const ex = new SshExecutor(sshd.executorConfig());
    const dir = path.dirname(ex.sshArgs().find((a) => a.startsWith('ControlPath='))!.slice('ControlPath='.length));
    ex.connect();
    await ex.close();
    expect(existsSync(dir)).toBe(false);
    expect(masterRunning(ex)).toBe(false);
  });

  it('openEnvironment starts the connection of an SSH environment before the first call', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'rtui-early-env-'));
    const parsed = EnvironmentSchema.parse({
      executor: sshd.executorConfig(),
      target: { strategy: 'symlink', backups_dir: path.join(root, 'releases'), current: path.join(root, 'current') },
    });
    const { policy: _p, ...rest } = parsed;
    const env = { ...rest, name: 'early', policy: PolicySchema.parse({}), state_dir: path.join(root, 'state') } as ResolvedEnvironment;
    const handle = openEnvironment(env);
    try {
      await pollUntil(() => masterRunning(handle.executor as SshExecutor), 'the master connection');
    } finally {
      await handle.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the CLI closes a connection it started early when the command fails before using it', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'rtui-early-cli-'));
    const tmp = path.join(root, 'tmp');
    execFileSync('mkdir', [tmp]);
    const config = path.join(root, 'rollback-config.yml');
    writeFileSync(
      config,
      JSON.stringify({
        environments: {
          remote: { executor: sshd.executorConfig(), target: { strategy: 'symlink', backups_dir: path.join(root, 'releases'), current: path.join(root, 'current') } },
        },
      }),
    );
    try {
      // No terminal and no --yes: refused (64) after the environment resolved and its connection started.
      const r = await runBin(['rollback', '--config', config, '--env', 'remote', '--reason', 'test'], { env: { TMPDIR: tmp } });
      expect(r.code, r.stderr).toBe(64);
      expect(r.stderr).toContain('without confirmation');
      // The control directory (and with it the master's socket) is gone when the process has exited.
      expect(readdirSync(tmp).filter((f) => f.startsWith('rtui-ssh-'))).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
