/** LocalExecutor and SshExecutor against real processes (and a real sshd on 127.0.0.1). */
import { randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, ExecAbortedError, LocalExecutor, SshExecutor, TransportError } from '../../src/core/exec/index.js';
import type { Executor } from '../../src/core/exec/types.js';
import { describeSsh, startSshd, type Sshd } from '../helpers/sshd.js';
import { pidOf, running, uniqueSleep, until, waitGone, waitRunning } from './processes.js';

function executorBehaviour(name: string, make: () => Executor) {
  describe(`${name}: what every Executor does`, () => {
    let ex: Executor;
    beforeAll(() => {
      ex = make();
    });
    afterAll(async () => {
      await ex.close();
    });

    it('runs a script with arguments passed as data', async () => {
      const hostile = ["a b", "it's", '$(id)', '`id`', 'x; touch /tmp/rtui-pwned-exec', 'two\nlines', '-n', ''];
      const r = await ex.script('for a in "$@"; do printf "<%s>" "$a"; done; echo; echo oops >&2; exit 7', hostile);
      expect(r.exitCode).toBe(7);
      expect(r.stdout).toBe(`${hostile.map((a) => `<${a}>`).join('')}\n`);
      expect(r.stderr).toBe('oops\n');
      expect(r.timedOut).toBe(false);
      expect(existsSync('/tmp/rtui-pwned-exec')).toBe(false);
    });

    it('a command reading stdin cannot eat the rest of the script', async () => {
      const r = await ex.script('cat\necho after-cat\nread x || echo no-input');
      expect(r.stdout).toBe('after-cat\nno-input\n');
    });

    it('shell() delivers env values and cwd safely', async () => {
      const dir = make().kind === 'local' ? os.tmpdir() : '/tmp';
      const r = await ex.shell('printf "%s|" "$V" "$W"; pwd', { env: { V: "x'y $(id) `id`", W: 'a\nb' }, cwd: dir });
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(`x'y $(id) \`id\`|a\nb|${realpathSync(dir)}\n`);
    });

    it('shell() passes stdin and reports a bad cwd as a failure', async () => {
      expect((await ex.shell('tr a-z A-Z', { stdin: 'hello' })).stdout).toBe('HELLO');
      const r = await ex.shell('true', { cwd: '/nonexistent/dir' });
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/nonexistent/);
    });

    it('times out, killing the whole process group', async () => {
      const t0 = Date.now();
      const r = await ex.script('sleep 30 & sleep 30; echo never', [], { timeoutMs: 300 });
      expect(r.timedOut).toBe(true);
      expect(r.stdout).not.toMatch(/never/);
      // Well short of the 30 s sleep (not a measure of speed: a loaded machine is slow to kill too).
      expect(Date.now() - t0).toBeLessThan(25_000);
    });

    it('is cancelled by an AbortSignal', async () => {
      const ac = new AbortController();
      const p = ex.script('echo started; sleep 30', [], {
        signal: ac.signal,
        onLine: (l) => {
          if (l === 'started') ac.abort();
        },
      });
      await expect(p).rejects.toBeInstanceOf(ExecAbortedError);
      const already = new AbortController();
      already.abort();
      await expect(ex.script('true', [], { signal: already.signal })).rejects.toBeInstanceOf(ExecAbortedError);
    });

    it('caps output and streams lines', async () => {
      const lines: string[] = [];
      const errLines: string[] = [];
      const r = await ex.script('i=0; while [ $i -lt 5000 ]; do echo "line $i"; i=$((i+1)); done; echo tail >&2', [], {
        maxOutputBytes: 1000,
        onLine: (l, s) => {
          (s === 'stdout' ? lines : errLines).push(l);
        },
      });
      expect(r.truncated).toBe(true);
      expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(1000);
      expect(r.stderr).toBe('tail\n');
      expect(errLines).toEqual(['tail']);
      expect(lines).toHaveLength(5000);
      expect(lines.at(-1)).toBe('line 4999');
    });

    it('a timeout kills the command and everything it started, even a child that ignores SIGTERM', async () => {
      const [a, b] = [uniqueSleep(), uniqueSleep()];
      const flag = path.join(os.tmpdir(), `rtui-survivor-${randomInt(1e9)}`);
      const r = await ex.shell(`(trap '' TERM; ${a}; touch ${flag}) & ${b}; touch ${flag}`, { timeoutMs: 1000 });
      expect(r.timedOut).toBe(true);
      // The TERM-ignoring child gets SIGKILL after the grace period; nothing is left to touch the flag.
      await waitGone(a);
      await waitGone(b);
      expect(existsSync(flag)).toBe(false);
    });

    it('a cancel kills the command and its children', async () => {
      const s = uniqueSleep();
      const ac = new AbortController();
      const p = ex.shell(`sh -c '${s}; echo never'`, { signal: ac.signal });
      await waitRunning(s);
      ac.abort();
      await expect(p).rejects.toBeInstanceOf(ExecAbortedError);
      await waitGone(s);
    });

    it('a normal end leaves alone what the command started in the background (a service) and no watchdog behind', async () => {
      const s = uniqueSleep();
      const r = await ex.shell(`${s} >/dev/null 2>&1 </dev/null &`, { timeoutMs: 61_234 });
      expect(r).toMatchObject({ exitCode: 0, timedOut: false });
      // The remote deadline would be `sleep 67` (62 s + 5 s slack): disarmed with the call (the hang-up
      // reaches it a moment after the call returns, later on a loaded machine).
      const watchdog = (): string[] => running('sleep 67').filter((l) => l.endsWith('sleep 67'));
      await until(() => watchdog().length === 0, 'the deadline watchdog to be disarmed', 15_000, () => watchdog().join('\n'));
      // With the watchdog gone nothing is left that could stop the background command: it runs on.
      const daemon = running(s);
      expect(daemon).toHaveLength(1);
      process.kill(pidOf(daemon[0]!));
    });

    it('exit 255 of the command is an ordinary failure with its output', async () => {
      const r = await ex.shell('echo ran; echo err >&2; exit 255');
      expect(r).toMatchObject({ exitCode: 255, stdout: 'ran\n', stderr: 'err\n', timedOut: false });
      expect(await ex.script('echo ran; exit 255')).toMatchObject({ exitCode: 255, stdout: 'ran\n' });
    });

    it('shell() runs multi-line commands and hands stdin data over byte for byte', async () => {
      expect((await ex.shell('echo a\nif true; then\n  echo b\nfi')).stdout).toBe('a\nb\n');
      const json = JSON.stringify({ text: "it's \"quoted\"\n$(id) `id` \\ é", n: 1 });
      const r = await ex.shell('cat; echo; cat <&- 2>/dev/null; echo done', { stdin: json });
      expect(r.stdout).toBe(`${json}\ndone\n`);
      expect((await ex.shell('wc -c', { stdin: '' })).stdout.trim()).toBe('0');
    });

    it('rejects NUL in arguments and stdin on script()', async () => {
      await expect(async () => ex.script('true', ['a\0b'])).rejects.toThrow(/NUL/);
      await expect(async () => ex.script('true', [], { stdin: 'x' })).rejects.toThrow(/stdin/);
    });
  });
}

executorBehaviour('local', () => new LocalExecutor());

describe('createExecutor', () => {
  it('defaults to local and rejects hosts starting with "-"', () => {
    expect(createExecutor().kind).toBe('local');
    expect(createExecutor({ type: 'local' }).description).toBe('local');
    expect(() => createExecutor({ type: 'ssh', host: '-oProxyCommand=touch /tmp/x', connect_timeout_seconds: 1 })).toThrow(/must not/);
  });
});

describeSsh('ssh executor through a real sshd', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  executorBehaviour('ssh', () => new SshExecutor(sshd.executorConfig()));

  it('reaches a host alias from a temporary ssh config file', async () => {
    const ex = new SshExecutor(sshd.aliasConfig());
    try {
      const r = await ex.script('printf "%s" "$SSH_CONNECTION"');
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain(String(sshd.port));
      expect(ex.description).toBe(sshd.alias);
    } finally {
      await ex.close();
    }
  });

  it('multiplexes: one master in a private 0700 dir, removed by close()', async () => {
    const ex = new SshExecutor(sshd.executorConfig());
    await ex.script('true');
    const args = ex.sshArgs();
    const cp = args.find((a) => a.startsWith('ControlPath='))!.slice('ControlPath='.length);
    const dir = path.dirname(cp);
    const mode = (await import('node:fs')).statSync(dir).mode & 0o777;
    expect(mode).toBe(0o700);
    const check = await new LocalExecutor().script('ssh "$@" -O check -- 127.0.0.1', args.filter((a) => a !== '-T'));
    expect(check.stderr).toMatch(/Master running/);
    await ex.close();
    expect(existsSync(dir)).toBe(false);
    await ex.close(); // idempotent
  });

  it('an unreachable port is a TransportError with a clear message', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-closed-'));
    rmSync(dir, { recursive: true });
    const ex = new SshExecutor(sshd.executorConfig({ port: 1, user: 'deploy' }));
    try {
      const err = await ex.script('true').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransportError);
      const te = err as TransportError;
      expect(te.code).toBe('TRANSPORT');
      expect(te.exitCode).toBe(1);
      expect(te.message).toMatch(/^cannot reach deploy@127\.0\.0\.1:1: Connection refused; check the host is up and `ssh .*deploy@127\.0\.0\.1` works$/);
    } finally {
      await ex.close();
    }
  });

  it('a remote command failing is not a transport error, exit 255 included', async () => {
    const ex = new SshExecutor(sshd.executorConfig());
    try {
      expect((await ex.shell('exit 3')).exitCode).toBe(3);
      const r = await ex.shell('echo ran; exit 255');
      expect(r).toMatchObject({ exitCode: 255, stdout: 'ran\n', stderr: '' });
    } finally {
      await ex.close();
    }
  });

  it('a timed-out remote command does not run on after the call, nor after close()', async () => {
    // `sleep 30; touch /tmp/x` with a 1 s timeout used to touch the file 30 s later.
    const ex = new SshExecutor(sshd.executorConfig());
    const s = uniqueSleep();
    const flag = `/tmp/rtui-timed-out-${randomInt(1e9)}`;
    try {
      const r = await ex.shell(`${s}; touch ${flag}`, { timeoutMs: 1000 });
      expect(r.timedOut).toBe(true);
      expect(running(s)).toEqual([]); // gone by the time the call returns
    } finally {
      await ex.close();
    }
    expect(running(s)).toEqual([]);
    expect(existsSync(flag)).toBe(false);
  });

  it('close() ends a command still running, and so does a killed ssh client', async () => {
    const ex = new SshExecutor(sshd.executorConfig());
    const s = uniqueSleep();
    const p = ex.shell(s);
    await waitRunning(s);
    await ex.close();
    await waitGone(s);
    await p.catch(() => undefined);

    const ex2 = new SshExecutor(sshd.executorConfig());
    const s2 = uniqueSleep();
    try {
      await ex2.script('true');
      const p2 = ex2.shell(s2);
      await waitRunning(s2);
      // As when rollback-tui itself is killed: the client goes, the master stays.
      const controlDir = path.dirname(ex2.sshArgs().find((a) => a.startsWith('ControlPath='))!.slice('ControlPath='.length));
      const clients = running(controlDir).filter((l) => l.endsWith(' sh -s'));
      expect(clients).toHaveLength(1);
      process.kill(pidOf(clients[0]!), 'SIGKILL');
      await waitGone(s2);
      await p2.catch(() => undefined);
    } finally {
      await ex2.close();
    }
  });

  it('calls that end at once never leave their deadline watchdog behind, many at once on a loaded host', async () => {
    // The disarm can reach the deadline's subshell before it has run a line; its sleep must not outlive it.
    const ex = new SshExecutor(sshd.executorConfig());
    // A timeout no other call uses, so that its deadline `sleep` is told from theirs.
    const timeoutMs = randomInt(300, 400) * 1000 + 456;
    const deadline = `sleep ${Math.ceil(timeoutMs / 1000) + 5}`;
    try {
      for (let round = 0; round < 3; round++) {
        const results = await Promise.all(Array.from({ length: 12 }, () => ex.shell('true', { timeoutMs })));
        expect(results.every((r) => r.exitCode === 0)).toBe(true);
      }
      const left = (): string[] => running(deadline).filter((l) => l.endsWith(deadline));
      await until(() => left().length === 0, 'every deadline watchdog to be disarmed', 20_000, () => left().join('\n'));
    } finally {
      await ex.close();
    }
  });

  it('shell() keeps the command off every command line (it goes on stdin)', async () => {
    const ex = new SshExecutor(sshd.executorConfig());
    const token = `rtui-token-${randomInt(1e9)}`;
    const s = uniqueSleep();
    try {
      const p = ex.shell(`: ${token}; ${s}`, { timeoutMs: 20_000 });
      await waitRunning(s);
      expect(running(token)).toEqual([]);
      await ex.close();
      await p.catch(() => undefined);
    } finally {
      await ex.close();
    }
  });
});
