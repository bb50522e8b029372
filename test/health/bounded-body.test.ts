/**
 * Bounded reading of answers: a health endpoint and a Prometheus server that answer with hundreds of
 * MiB (generated as sent) are read no further than the cap, reading stops as soon as the body pattern
 * matches, and beyond the cap the check or query is inconclusive with "response larger than N".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthCheckConfig } from '../../src/core/config/schema.js';
import { LocalExecutor } from '../../src/core/exec/index.js';
import { runHealthCheck } from '../../src/core/health/checks.js';
import { clipMessage } from '../../src/core/health/body.js';
import { queryPrometheus } from '../../src/core/monitor/sources/prometheus.js';
import { startHugeServer, type HugeServer } from './huge-server.js';

const SIZE = 300 * 1024 * 1024;
const MiB = 1024 * 1024;
const executor = new LocalExecutor();

describe('answers of hundreds of MiB', () => {
  let server: HugeServer;
  beforeAll(async () => {
    server = await startHugeServer(SIZE);
  });
  afterAll(async () => {
    await server?.close();
  });

  const http = (path: string, extra: { body?: string; via?: 'local' | 'target' } = {}): HealthCheckConfig => ({
    http: { url: `${server.base}${path}`, status: 200, timeout_seconds: 30, ...extra },
  });

  it('a body pattern that matches early stops the reading there', async () => {
    const r = await runHealthCheck(http('/health', { body: '^ok' }), { executor });
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(server.completed.get('/health')).toBeUndefined();
    // What the server got out before the client hung up: socket buffers, not the answer.
    expect(server.sent.get('/health')).toBeLessThan(32 * MiB);
  });

  it('a body pattern with no match in the first MiB is inconclusive: response larger than 1 MiB', async () => {
    const r = await runHealthCheck(http('/noise', { body: 'ready' }), { executor });
    expect(r).toMatchObject({ ok: false, inconclusive: true, status: 200, error: 'response larger than 1 MiB (no match for /ready/ in it)' });
    expect(server.completed.get('/noise')).toBeUndefined();
    expect(server.sent.get('/noise')).toBeLessThan(32 * MiB);
  });

  it('without a body pattern the body is not read at all', async () => {
    const r = await runHealthCheck(http('/noise'), { executor });
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(server.completed.get('/noise')).toBeUndefined();
  });

  it('via the target (curl through the executor): capped with a body pattern, dropped without one', async () => {
    const capped = await runHealthCheck(http('/noise', { body: 'ready', via: 'target' }), { executor });
    expect(capped).toMatchObject({ ok: false, inconclusive: true, error: 'response larger than 1 MiB' });
    const plain = await runHealthCheck(http('/noise', { via: 'target' }), { executor });
    expect(plain).toMatchObject({ ok: true, status: 200 });
  });

  it('a Prometheus answer beyond 4 MiB is inconclusive and read no further', async () => {
    const r = await queryPrometheus(server.base, 'up', 30_000);
    expect(r).toEqual({ ok: false, error: 'response larger than 4 MiB (aggregate the query, e.g. sum(...))' });
    expect(server.completed.get('/api/v1/query')).toBeUndefined();
    expect(server.sent.get('/api/v1/query')).toBeLessThan(32 * MiB);
  });
});

describe('long error messages from a source', () => {
  it('are clipped to one line of at most 300 characters', () => {
    const long = `first line\n${'e'.repeat(5000)}`;
    const clipped = clipMessage(long);
    expect(clipped).not.toContain('\n');
    expect(clipped).toHaveLength(300);
    expect(clipped.startsWith('first line e')).toBe(true);
    expect(clipped.endsWith('…')).toBe(true);
  });
});
