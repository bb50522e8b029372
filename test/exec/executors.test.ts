/** LocalExecutor and SshExecutor against real processes (and a real sshd on 127.0.0.1). */
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, ExecAbortedError, LocalExecutor, SshExecutor, TransportError } from '../../src/core/exec/index.js';
import type { Executor } from '../../src/core/exec/types.js';
import { describeSsh, startSshd, type Sshd } from '../helpers/sshd.js';

function contract(name: string, make: () => Executor) {
  describe(`${name}: Executor contract`, () => {
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
      expect(Date.now() - t0).toBeLessThan(10_000);
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
      const r = await ex.script('i=0; while [ $i -lt 5000 ]; do echo "line $i"; i=$((i+1)); done; echo tail >&2', [], {
        maxOutputBytes: 1000,
        onLine: (l, s) => {
          if (s === 'stdout') lines.push(l);
        },
      });
      expect(r.truncated).toBe(true);
      expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(1000);
      expect(r.stderr).toBe('tail\n');
      expect(lines).toHaveLength(5000);
      expect(lines.at(-1)).toBe('line 4999');
    });

    it('rejects NUL in arguments and stdin on script()', async () => {
      await expect(async () => ex.script('true', ['a\0b'])).rejects.toThrow(/NUL/);
      await expect(async () => ex.script('true', [], { stdin: 'x' })).rejects.toThrow(/stdin/);
    });
  });
}

contract('local', () => new LocalExecutor());

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

  contract('ssh', () => new SshExecutor(sshd.executorConfig()));

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

  it('a remote command failing is not a transport error', async () => {
    const ex = new SshExecutor(sshd.executorConfig());
    try {
      const r = await ex.shell('exit 3');
      expect(r.exitCode).toBe(3);
    } finally {
      await ex.close();
    }
  });
});
