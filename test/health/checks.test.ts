import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalExecutor } from '../../src/core/exec/index.js';
import { SshExecutor } from '../../src/core/exec/ssh.js';
import { probeSample } from '../../src/core/monitor/sources/probe.js';
import { runHealthCheck, runHealthChecks, redactUrl } from '../../src/core/health/checks.js';
import { verifyRelease } from '../../src/core/engine/verify.js';
import { pollUntil } from '../engine/fixture.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const executor = new LocalExecutor();

async function startService(dir: string, release: Record<string, unknown>): Promise<{ child: ChildProcess; port: number }> {
  writeFileSync(path.join(dir, 'release.json'), JSON.stringify(release));
  const portFile = path.join(dir, `port.${Date.now()}.${Math.random()}`);
  const child = spawn(process.execPath, [path.join(repo, 'demo/service.mjs'), '--port', '0', '--release-dir', dir, '--port-file', portFile], {
    stdio: 'ignore',
  });
  await pollUntil(() => existsSync(portFile) && readFileSync(portFile, 'utf8').trim() !== '', 30_000);
  return { child, port: Number(readFileSync(portFile, 'utf8').trim()) };
}

describe('health checks against the real demo service', () => {
  let dir: string;
  let healthy: { child: ChildProcess; port: number };
  let sick: { child: ChildProcess; port: number };
  let hanging: http.Server;
  let hangPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-health-'));
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    for (const d of [a, b]) rmSync(d, { recursive: true, force: true });
    await import('node:fs').then((fs) => {
      fs.mkdirSync(a);
      fs.mkdirSync(b);
    });
    healthy = await startService(a, { version: 'v1' });
    sick = await startService(b, { version: 'v2', mode: 'errors', error_ratio: 1 });
    hanging = http.createServer(() => {
      // never answers
    });
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    hangPort = (hanging.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    // Both services gone before their directories are removed.
    for (const s of [healthy, sick]) {
      if (!s || s.child.exitCode !== null || s.child.signalCode !== null) continue;
      const exited = new Promise((r) => s.child.once('exit', r));
      s.child.kill();
      await exited;
    }
    hanging?.closeAllConnections();
    await new Promise((r) => hanging?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('http: healthy passes with its status, sick fails with the status and why', async () => {
    const ok = await runHealthCheck({ http: { url: `http://127.0.0.1:${healthy.port}/health`, status: 200, timeout_seconds: 2 } }, { executor });
    expect(ok).toMatchObject({ ok: true, status: 200, name: `http http://127.0.0.1:${healthy.port}/health` });
    expect(ok.latencyMs).toBeGreaterThanOrEqual(0);
    const bad = await runHealthCheck({ http: { url: `http://127.0.0.1:${sick.port}/health`, status: 200, timeout_seconds: 2 } }, { executor });
    expect(bad).toMatchObject({ ok: false, status: 500 });
    expect(bad.error).toContain('HTTP 500, expected 200');
  });

  it('http: body regex, expected non-200 status, timeout, refused', async () => {
    const url = `http://127.0.0.1:${healthy.port}/health`;
    expect((await runHealthCheck({ http: { url, status: 200, timeout_seconds: 2, body: '"version":"v1"' } }, { executor })).ok).toBe(true);
    const nomatch = await runHealthCheck({ http: { url, status: 200, timeout_seconds: 2, body: 'v9' } }, { executor });
    expect(nomatch.ok).toBe(false);
    expect(nomatch.error).toContain('body does not match');
    const notFound = await runHealthCheck({ http: { url: `http://127.0.0.1:${healthy.port}/nope`, status: 404, timeout_seconds: 2 } }, { executor });
    expect(notFound.ok).toBe(true);
    const t0 = Date.now();
    const timeout = await runHealthCheck({ http: { url: `http://127.0.0.1:${hangPort}/`, status: 200, timeout_seconds: 0.3 } }, { executor });
    expect(timeout).toMatchObject({ ok: false, error: 'timed out' });
    // Ended by its timeout, not by the test's (no measure of speed: a loaded machine is slow).
    expect(Date.now() - t0).toBeLessThan(25_000);
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const freePort = (srv.address() as net.AddressInfo).port;
    await new Promise((r) => srv.close(r));
    const refused = await runHealthCheck({ http: { url: `http://127.0.0.1:${freePort}/`, status: 200, timeout_seconds: 1 } }, { executor });
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatch(/ECONNREFUSED/);
  });

  it('http via target runs on the target through the executor (curl)', async () => {
    const r = await runHealthCheck({ http: { url: `http://127.0.0.1:${healthy.port}/health`, status: 200, timeout_seconds: 2, via: 'target' } }, { executor });
    expect(r).toMatchObject({ ok: true, status: 200 });
    const bad = await runHealthCheck({ http: { url: `http://127.0.0.1:${sick.port}/health`, status: 200, timeout_seconds: 2, via: 'target' } }, { executor });
    expect(bad).toMatchObject({ ok: false, status: 500 });
  });

  it('a target that cannot be reached over SSH makes via-target and remote command checks inconclusive, not failed', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const closedPort = (srv.address() as net.AddressInfo).port;
    await new Promise((r) => srv.close(r));
    // The real ssh client against a port nobody listens on: exit 255, a TransportError.
    const ssh = new SshExecutor({ type: 'ssh', host: '127.0.0.1', port: closedPort, user: 'deploy', connect_timeout_seconds: 2 });
    const target = `deploy@127.0.0.1:${closedPort}`;
    try {
      const url = `http://127.0.0.1:${healthy.port}/health`;
      const results = await runHealthChecks(
        [{ http: { url, status: 200, timeout_seconds: 2, via: 'target' } }, { tcp: { host: '127.0.0.1', port: healthy.port, timeout_seconds: 2, via: 'target' } }, { command: 'true' }],
        { executor: ssh },
      );
      for (const r of results) {
        // ok: false, so a verification can never pass on it; inconclusive, so the monitor does not count it.
        expect(r).toMatchObject({ ok: false, inconclusive: true });
        expect(r.error).toMatch(new RegExp(`^cannot reach ${target}: Connection refused`));
      }
      const metrics = { source: 'probe' as const, timeout_seconds: 5 };
      // Only checks that could not run: no verdict on up, error rate or latency.
      const blind = await probeSample(
        { health: [{ http: { url, status: 200, timeout_seconds: 2 } }, { http: { url, status: 200, timeout_seconds: 2, via: 'target' } }], metrics },
        { executor: ssh, at: Date.now(), release: 'r1', intervalMs: 1000 },
      );
      expect(blind.up).toBeNull();
      expect(blind.health_failures).toBe(0);
      expect(blind.error_rate).toBeNull();
      expect(blind.errors.up).toMatch(/^health check not run \(http http:\/\/127\.0\.0\.1:\d+\/health: cannot reach deploy@/);
      expect(blind.errors.error_rate).toBe(blind.errors.up);
      // A check that ran and failed is a failure, whatever else could not run.
      const down = await probeSample(
        { health: [{ http: { url: `http://127.0.0.1:${sick.port}/health`, status: 200, timeout_seconds: 2 } }, { command: 'true' }], metrics },
        { executor: ssh, at: Date.now(), release: 'r1', intervalMs: 1000 },
      );
      expect(down).toMatchObject({ up: false, health_failures: 1, error_rate: 60, errors: {} });
    } finally {
      await ssh.close();
    }
  });

  it('tcp: open port passes, closed port fails fast', async () => {
    expect((await runHealthCheck({ tcp: { host: '127.0.0.1', port: healthy.port, timeout_seconds: 1 } }, { executor })).ok).toBe(true);
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise((r) => srv.close(r));
    const closed = await runHealthCheck({ tcp: { host: '127.0.0.1', port, timeout_seconds: 1 } }, { executor });
    expect(closed).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
  });

  it('command: exit 0 healthy, non-zero unhealthy with output, timeout kills it', async () => {
    expect((await runHealthCheck({ command: 'true' }, { executor })).ok).toBe(true);
    const bad = await runHealthCheck({ command: 'echo db unreachable >&2; exit 3' }, { executor });
    expect(bad.ok).toBe(false);
    expect(bad.error).toContain('exit 3');
    expect(bad.error).toContain('db unreachable');
    const t0 = Date.now();
    const slow = await runHealthCheck({ command: { run: 'sleep 30', timeout_seconds: 0.3, via: 'local' } }, { executor });
    expect(slow.ok).toBe(false);
    expect(slow.error).toMatch(/timed out/);
    // Well short of the 30 s sleep (no measure of speed: a loaded machine is slow to kill too).
    expect(Date.now() - t0).toBeLessThan(25_000);
  });

  it('runHealthChecks keeps order; an abort ends a hanging check', async () => {
    const ac = new AbortController();
    // The abort comes once the hanging server has the request and the TCP check's target has accepted
    // its connection, two turns of the event loop later: the check sees its connect in the same turn as
    // the accept or the next. (A fixed 100 ms cut short a first check that spawned a process under load.)
    let accepted = false;
    let requested = false;
    const target = net.createServer((s) => {
      accepted = true;
      s.end();
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    hanging.once('request', () => (requested = true));
    const p = runHealthChecks(
      [{ tcp: { host: '127.0.0.1', port: (target.address() as net.AddressInfo).port, timeout_seconds: 30 } }, { http: { url: `http://127.0.0.1:${hangPort}/`, status: 200, timeout_seconds: 30 } }],
      { executor, signal: ac.signal },
    );
    await pollUntil(() => accepted && requested, 30_000, 'the TCP check to connect and the HTTP check to wait');
    for (let turn = 0; turn < 2; turn++) await new Promise((r) => setImmediate(r));
    ac.abort();
    const r = await p;
    await new Promise((closed) => target.close(closed));
    expect(r.map((x) => x.ok)).toEqual([true, false]);
    expect(r[1]!.error).toBe('aborted');
  });

  it('redacts credentials and query strings in names', () => {
    expect(redactUrl('https://user:pw@example.com/health?token=abc')).toBe('https://***:***@example.com/health?***');
  });

  it('verifyRelease: passes when healthy, times out when never healthy', async () => {
    const settings = { health_check_timeout_seconds: 0.5, stability_seconds: 0.2, poll_interval_seconds: 0.05 };
    const ok = await verifyRelease([{ http: { url: `http://127.0.0.1:${healthy.port}/health`, status: 200, timeout_seconds: 1 } }], { executor, settings });
    expect(ok.outcome).toBe('passed');
    expect(ok.rounds).toBeGreaterThan(1);
    const bad = await verifyRelease([{ http: { url: `http://127.0.0.1:${sick.port}/health`, status: 200, timeout_seconds: 1 } }], { executor, settings });
    expect(bad.outcome).toBe('timeout');
    expect(bad.message).toContain('HTTP 500');
  });
});
