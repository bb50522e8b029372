/**
 * Secrets in the process list: a configured command runs with its `${VAR}` values substituted, and
 * anyone on the machine can read every process's argv (/proc/PID/cmdline, `ps`). The local executor
 * sends the command and its env values on stdin, so no argv holds them while the command runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/core/exec/local.js';
import { runHealthCheck } from '../../src/core/health/checks.js';
import { uniqueSleep, until } from './processes.js';

/** Every readable process command line on this machine, NULs between arguments as spaces. */
function commandLines(): string[] {
  const lines: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      lines.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '));
    } catch {
      // gone meanwhile
    }
  }
  return lines;
}

describe('LocalExecutor.shell(): no secrets in argv', () => {
  it('neither the substituted command nor the env values appear in any /proc/*/cmdline while it runs', async () => {
    const ex = new LocalExecutor();
    const token = `tok-${process.pid}-${Date.now()}-secret`;
    const envSecret = `env-${process.pid}-${Date.now()}-secret`;
    const sleep = uniqueSleep();
    const ac = new AbortController();
    // The command as the configuration wrote it after interpolation: the token is part of its text.
    const call = ex.shell(`: --token=${token}; ${sleep}; echo done`, { env: { ROLLBACK_API_KEY: envSecret }, signal: ac.signal });
    try {
      // The sleep runs as a child of the shell that holds the command: argv is checked while both live.
      await until(() => commandLines().some((l) => l.includes(sleep)), 'the command to be running');
      const lines = commandLines();
      expect(lines.filter((l) => l.includes(sleep))).not.toHaveLength(0);
      expect(lines.filter((l) => l.includes(token))).toEqual([]);
      expect(lines.filter((l) => l.includes(envSecret))).toEqual([]);
    } finally {
      ac.abort();
      await call.catch(() => undefined);
    }
  });

  it('the command still gets its env values, its cwd, its stdin data and its exit status', async () => {
    const ex = new LocalExecutor();
    const r = await ex.shell('printf "%s|" "$SECRET_VALUE" "$(pwd)"; tr a-z A-Z; exit 3', { env: { SECRET_VALUE: "s'e\"c r$(id)" }, cwd: '/', stdin: 'hello\n' });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe(`s'e"c r$(id)|/|HELLO\n`);
  });
});

describe('a health check command run from here (via: local): no secrets in argv', () => {
  it('the check\'s command line with its substituted token appears in no /proc/*/cmdline while it runs', async () => {
    const token = `hc-${process.pid}-${Date.now()}-secret`;
    const sleep = uniqueSleep();
    const ac = new AbortController();
    const check = runHealthCheck({ command: { run: `curl_stub() { :; }; curl_stub -H "X-Api-Key: ${token}"; ${sleep}`, via: 'local', timeout_seconds: 60 } }, { executor: new LocalExecutor(), signal: ac.signal });
    try {
      await until(() => commandLines().some((l) => l.includes(sleep)), 'the check to be running');
      expect(commandLines().filter((l) => l.includes(token))).toEqual([]);
    } finally {
      ac.abort();
    }
    expect((await check).ok).toBe(false);
  });

  it('a passing and a failing local check still say so, with the failing one\'s output', async () => {
    const ex = new LocalExecutor();
    expect((await runHealthCheck({ command: { run: 'exit 0', via: 'local', timeout_seconds: 30 } }, { executor: ex })).ok).toBe(true);
    const failed = await runHealthCheck({ command: { run: 'echo "not ready" >&2; exit 4', via: 'local', timeout_seconds: 30 } }, { executor: ex });
    expect(failed).toMatchObject({ ok: false, error: expect.stringContaining('exit 4: not ready') as unknown });
  });
});

describe('a notification command: no secrets in argv', () => {
  it('the command text with its substituted token appears in no /proc/*/cmdline while it runs, and it still gets the event', async () => {
    const { Notifier } = await import('../../src/core/engine/notify.js');
    const { mkdtempSync, readFileSync: read } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rbtui-notify-'));
    const out = path.join(dir, 'event.json');
    const token = `nt-${process.pid}-${Date.now()}-secret`;
    const sleep = uniqueSleep().replace('299.', '3.');
    const n = new Notifier({ command: `: --routing-key=${token}; cat > ${out}; ${sleep}`, timeout_seconds: 10, retries: 0 });
    n.notify({ event: 'rollback_succeeded', env: 'prod', severity: 'info', title: 'rolled back' });
    const drained = n.drain(15_000);
    await until(() => commandLines().some((l) => l.includes(sleep)), 'the notification command to be running');
    expect(commandLines().filter((l) => l.includes(token))).toEqual([]);
    await drained;
    expect(JSON.parse(read(out, 'utf8')).env).toBe('prod');
  });
});
