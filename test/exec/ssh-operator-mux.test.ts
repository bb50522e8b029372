/**
 * The operator's own multiplexing (ssh-mux.ts) against a real sshd on 127.0.0.1: with `ControlMaster
 * auto` and a `ControlPath` in their ssh configuration, the executor's calls go through the operator's
 * master (the same TCP connection as their own `ssh`), a master it opened stays for the operator's
 * ControlPersist, and close() ends the calls in flight without closing the operator's master.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SshExecutor } from '../../src/core/exec/ssh.js';
import { mayMultiplex, parseMultiplexing } from '../../src/core/exec/ssh-mux.js';
import { describeSsh, startSshd, type Sshd } from '../helpers/sshd.js';
import { running, uniqueSleep, waitGone, waitRunning } from './processes.js';

describe('reading the operator multiplexing from ssh -G', () => {
  const g = (lines: string[]): string => `${lines.join('\n')}\n`;
  it('only ControlMaster auto with a ControlPath counts; ControlPersist decides whether a master may be made', () => {
    expect(parseMultiplexing(g(['controlmaster auto', 'controlpath /s/cm-1', 'controlpersist 600']))).toEqual({ controlPath: '/s/cm-1', persists: true });
    expect(parseMultiplexing(g(['controlmaster auto', 'controlpath /s/cm-1', 'controlpersist no']))).toEqual({ controlPath: '/s/cm-1', persists: false });
    expect(parseMultiplexing(g(['controlmaster auto', 'controlpath /s/cm-1']))).toEqual({ controlPath: '/s/cm-1', persists: false });
    for (const master of ['false', 'true', 'ask', 'autoask']) {
      expect(parseMultiplexing(g([`controlmaster ${master}`, 'controlpath /s/cm-1', 'controlpersist 600'])), master).toBeNull();
    }
    expect(parseMultiplexing(g(['controlmaster auto', 'controlpath none', 'controlpersist 600']))).toBeNull();
    expect(parseMultiplexing(g(['controlmaster auto', 'controlpersist 600']))).toBeNull();
  });
});

describe('whether a configuration could multiplex at all (no ssh -G per host when not)', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  function write(name: string, text: string): string {
    const f = path.join(dir, name);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
    return f;
  }

  it('follows Include lines (absolute, globbed, quoted) and sees ControlMaster in any form', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-maymux-'));
    const plain = write('plain', 'Host *\n  StrictHostKeyChecking no\n');
    expect(mayMultiplex({ ssh_config: plain })).toBe(false);
    expect(mayMultiplex({ ssh_config: plain, options: { controlmaster: 'auto' } })).toBe(true);
    write('conf.d/10-none.conf', 'Host db\n  User admin\n');
    const globbed = write('globbed', `Include "${dir}/conf.d/*.conf"\nHost *\n  Port 22\n`);
    expect(mayMultiplex({ ssh_config: globbed })).toBe(false);
    write('conf.d/20-mux.conf', 'Host app-*\n  ControlMaster=auto\n  ControlPath ~/.ssh/cm-%C\n');
    const globbed2 = write('globbed2', `Include ${dir}/conf.d/*.conf\n`);
    expect(mayMultiplex({ ssh_config: globbed2 })).toBe(true);
    const nested = write('nested', `Include ${globbed2}\n`);
    expect(mayMultiplex({ ssh_config: nested })).toBe(true);
    expect(mayMultiplex({ ssh_config: write('direct', 'Host *\n\tcontrolmaster auto\n') })).toBe(true);
    expect(mayMultiplex({ ssh_config: write('missing-include', `Include ${dir}/nowhere/*.conf\n`) })).toBe(false);
  });

  it('counts what it cannot follow for sure as "could", so ssh -G decides', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-maymux-'));
    expect(mayMultiplex({ ssh_config: write('tokens', 'Include ~/.ssh/%h.conf\n') })).toBe(true);
    expect(mayMultiplex({ ssh_config: write('dir-glob', `Include ${dir}/*/x.conf\n`) })).toBe(true);
    const unreadable = write('unreadable', 'Host *\n');
    expect(mayMultiplex({ ssh_config: path.join(unreadable, 'not-a-dir') })).toBe(true);
  });
});

describeSsh('the operator multiplexing over a real sshd', () => {
  let sshd: Sshd;
  let dir: string;
  const sockets: string[] = [];
  beforeAll(async () => {
    sshd = await startSshd();
  }, 60_000);
  afterAll(async () => {
    await sshd?.stop();
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) ssh(['-o', `ControlPath=${s}`, '-O', 'exit', '--', sshd.alias], true);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** An ssh_config as an operator's: the fixture's host, then multiplexing for every host. */
  function operatorConfig(persist: string | null): { config: string; socket: string } {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-opmux-'));
    const socket = path.join(dir, 'cm-%C');
    const config = path.join(dir, 'ssh_config');
    const lines = [`Include ${sshd.sshConfigPath}`, 'Host *', '  ControlMaster auto', `  ControlPath ${socket}`];
    if (persist !== null) lines.push(`  ControlPersist ${persist}`);
    writeFileSync(config, `${lines.join('\n')}\n`);
    return { config, socket: expanded(config) };
  }

  /** The socket path with its tokens expanded, as ssh -G prints it. */
  function expanded(config: string): string {
    const out = execFileSync('ssh', ['-F', config, '-G', '--', sshd.alias], { encoding: 'utf8' });
    return out.split('\n').find((l) => l.startsWith('controlpath '))!.slice('controlpath '.length);
  }

  function ssh(args: string[], quiet = false): string {
    try {
      return execFileSync('ssh', ['-F', sshd.sshConfigPath, '-o', 'BatchMode=yes', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      if (quiet) return '';
      throw e;
    }
  }

  /** `Master running (pid=N)` -> N, or null when no master answers on the socket. */
  function masterPid(socket: string): number | null {
    try {
      execFileSync('ssh', ['-F', sshd.sshConfigPath, '-o', `ControlPath=${socket}`, '-O', 'check', '--', sshd.alias], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch {
      return null;
    }
    const r = execFileSync('sh', ['-c', 'ssh "$@" 2>&1', 'sh', '-F', sshd.sshConfigPath, '-o', `ControlPath=${socket}`, '-O', 'check', '--', sshd.alias], { encoding: 'utf8' });
    return Number(/pid=(\d+)/.exec(r)?.[1]);
  }

  it('calls go through the master the operator opened, and close() leaves it up', async () => {
    const { config, socket } = operatorConfig('60');
    execFileSync('ssh', ['-F', config, '-o', 'BatchMode=yes', '-f', '-N', '--', sshd.alias]);
    sockets.push(socket);
    const pid = masterPid(socket);
    expect(pid).toBeGreaterThan(0);
    // Each TCP connection has its own client port: the same SSH_CONNECTION is the same connection.
    const byHand = execFileSync('ssh', ['-F', config, '-o', 'BatchMode=yes', '--', sshd.alias, 'echo "$SSH_CONNECTION"'], { encoding: 'utf8' });
    const ex = new SshExecutor({ ...sshd.aliasConfig(), ssh_config: config });
    try {
      ex.connect();
      const r = await ex.script('echo "$SSH_CONNECTION"');
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(byHand);
      expect(ex.sshArgs().some((a) => a.startsWith('ControlPath='))).toBe(false);
    } finally {
      await ex.close();
    }
    expect(masterPid(socket)).toBe(pid);
  });

  it('with no master yet it opens one on the operator socket that outlives the command, as plain ssh would', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-opmux-'));
    const socket = path.join(dir, 'm');
    // The multiplexing set in the environment's executor.options counts as the operator's too.
    const options = { ControlMaster: 'auto', ControlPath: socket, ControlPersist: '60' };
    const first = new SshExecutor({ ...sshd.aliasConfig(), options });
    let seen: string;
    try {
      first.connect();
      seen = (await first.script('echo "$SSH_CONNECTION"')).stdout;
    } finally {
      await first.close();
    }
    sockets.push(socket);
    expect(masterPid(socket)).toBeGreaterThan(0);
    const second = new SshExecutor({ ...sshd.aliasConfig(), options });
    try {
      expect((await second.script('echo "$SSH_CONNECTION"')).stdout).toBe(seen);
    } finally {
      await second.close();
    }
  });

  it('without ControlPersist and no master up, it keeps to a private master and makes none on the operator socket', async () => {
    const { config, socket } = operatorConfig(null);
    const ex = new SshExecutor({ ...sshd.aliasConfig(), ssh_config: config });
    let privateDir = '';
    try {
      ex.connect();
      expect((await ex.script('echo ok')).stdout).toBe('ok\n');
      const cp = ex.sshArgs().find((a) => a.startsWith('ControlPath='));
      expect(cp).toBeDefined();
      privateDir = path.dirname(cp!.slice('ControlPath='.length));
      expect(existsSync(socket)).toBe(false);
    } finally {
      await ex.close();
    }
    expect(existsSync(privateDir)).toBe(false);
    expect(existsSync(socket)).toBe(false);
  });

  it('close() ends a command still running through the operator master, and the master stays', async () => {
    const { config, socket } = operatorConfig('60');
    execFileSync('ssh', ['-F', config, '-o', 'BatchMode=yes', '-f', '-N', '--', sshd.alias]);
    sockets.push(socket);
    const pid = masterPid(socket);
    const ex = new SshExecutor({ ...sshd.aliasConfig(), ssh_config: config });
    const s = uniqueSleep();
    const call = ex.shell(s).then(
      () => 'finished',
      (e: unknown) => String(e),
    );
    await waitRunning(s, 20_000);
    await ex.close();
    await waitGone(s, 20_000);
    expect(await call).toMatch(/cancelled/);
    expect(running(s)).toEqual([]);
    expect(masterPid(socket)).toBe(pid);
  });
});
