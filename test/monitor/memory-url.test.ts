/**
 * `metrics.memory` as an http(s) URL: the probe reads the percent from the service's own answer
 * in-process (a real demo service), with no process started per sample; errors name what went wrong.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/core/exec/index.js';
import type { MetricsConfig } from '../../src/core/config/schema.js';
import { parseMemoryAnswer, readMemory } from '../../src/core/monitor/sources/probe.js';
import { CountingExecutor } from '../helpers/counting-executor.js';
import { freePort, makeFixture, startHealthy, type Fixture } from './harness.js';

const fixtures: Fixture[] = [];
afterEach(() => {
  for (const f of fixtures.splice(0)) f.cleanup();
});

const metrics = (memory: string): MetricsConfig => ({ source: 'probe', memory, timeout_seconds: 5 });

describe('metrics.memory as a URL', () => {
  it('reads memory_usage_percent from a real service in-process, follows its changes, and starts no process', async () => {
    const f = await makeFixture({ releases: [{}, { memory_base_percent: 37 }] });
    fixtures.push(f);
    await startHealthy(f);
    const executor = new CountingExecutor(new LocalExecutor());
    expect(await readMemory(metrics(`${f.base}/metrics`), executor)).toBe(37);
    await f.control('memory_base_percent=63');
    expect(await readMemory(metrics(`${f.base}/metrics`), executor)).toBe(63);
    expect(executor.calls).toBe(0);
  });

  it('an error answer, an unreachable URL and an answer without a percent are errors that say so', async () => {
    const f = await makeFixture({ releases: [{}, {}] });
    fixtures.push(f);
    await startHealthy(f);
    const executor = new LocalExecutor();
    await expect(readMemory(metrics(`${f.base}/nothing-here`), executor)).rejects.toThrow(/HTTP 404/);
    await expect(readMemory(metrics(`http://127.0.0.1:${await freePort()}/metrics`), executor)).rejects.toThrow(/fetch failed|ECONNREFUSED/);
    await expect(readMemory(metrics(`${f.base}/health`), executor)).rejects.toThrow(/memory_usage_percent/);
  });

  it('parses JSON with memory_usage_percent, or the first number of a text, and only percents', () => {
    expect(parseMemoryAnswer('{"memory_usage_percent": 12.5, "rss_bytes": 1}')).toBe(12.5);
    expect(parseMemoryAnswer('87.5%\n')).toBe(87.5);
    expect(() => parseMemoryAnswer('{"rss": 1}')).toThrow(/memory_usage_percent/);
    expect(() => parseMemoryAnswer('{"memory_usage_percent": 150}')).toThrow(/not a percent/);
    expect(() => parseMemoryAnswer('no number')).toThrow(/printed no number/);
  });
});
