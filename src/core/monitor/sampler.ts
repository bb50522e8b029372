/**
 * The sampler: takes one sample of one host's live release (the health-check probe, the metrics source,
 * the log tail, all at once) and tracks inconclusive samples: a metric that stays inconclusive for
 * `consecutive_error_limit` samples in a row makes the monitor blind (said once, and once again when it
 * sees again). It holds no release state beyond the log tail's position, so a fleet monitor can run
 * one sampler per host.
 */
import type { Executor } from '../exec/types.js';
import { clipMessage } from '../health/body.js';
import type { MonitorContext } from './context.js';
import { CommandSource } from './sources/command.js';
import { LogTail } from './sources/logs.js';
import { probeSample } from './sources/probe.js';
import { prometheusSample } from './sources/prometheus.js';
import { overlayMetrics } from './sources/sample.js';
import type { Sample } from './types.js';

/** How blindness changed with the last sample: it began, it ended, or neither. */
export type BlindChange = 'blind' | 'sees' | null;

export class Sampler {
  private readonly commandSource: CommandSource | null;
  private readonly logTail: LogTail | null;
  private readonly executor: Executor;
  /** metric -> how many samples in a row it has been inconclusive. */
  private readonly consecutive = new Map<string, number>();
  private blindNow = false;

  constructor(private readonly ctx: MonitorContext) {
    const env = ctx.env;
    this.executor = ctx.handle.executor;
    this.commandSource = env.metrics.source === 'command' ? new CommandSource(env.metrics) : null;
    const logTrigger = ctx.policy.triggers.log_errors;
    this.logTail =
      logTrigger?.enabled && env.logs && (env.logs.file || env.logs.command)
        ? new LogTail(env.logs, logTrigger.patterns, this.executor, env.metrics.timeout_seconds * 1000)
        : null;
  }

  get blind(): boolean {
    return this.blindNow;
  }

  /** The longest run of inconclusive samples of any metric right now. */
  get consecutiveInconclusive(): number {
    return Math.max(0, ...this.consecutive.values());
  }

  /** A different release is live: its logs start anew and its inconclusive runs count from zero. */
  reset(): void {
    this.consecutive.clear();
    this.logTail?.reset();
  }

  async take(at: number, release: string | null): Promise<Sample> {
    const { env, signal, interval } = this.ctx;
    const executor = this.executor;
    const probe = probeSample(env, { executor, at, release, intervalMs: interval, signal });
    const source =
      env.metrics.source === 'prometheus'
        ? prometheusSample(env.metrics, { at, release, signal })
        : this.commandSource
          ? this.commandSource.sample({ executor, at, release, signal })
          : null;
    const logs = this.logTail ? this.logTail.read(signal) : null;
    const [p, s, l] = await Promise.all([probe, source, logs]);
    const { checks: _checks, ...plain } = p;
    let sample: Sample = s ? overlayMetrics(plain, s) : plain;
    if (l) {
      sample = { ...sample, errors: { ...sample.errors } };
      if (l.ok) sample.log_error_lines = l.count;
      else sample.errors.log_error_lines = clipMessage(l.error);
    }
    return sample;
  }

  /** Count the sample's inconclusive metrics; alert when the monitor goes blind or sees again. */
  track(sample: Sample): BlindChange {
    const keys = new Set(Object.keys(sample.errors));
    for (const k of [...this.consecutive.keys()]) if (!keys.has(k)) this.consecutive.delete(k);
    for (const k of keys) this.consecutive.set(k, (this.consecutive.get(k) ?? 0) + 1);
    const limit = this.ctx.policy.monitoring.consecutive_error_limit;
    const worst = [...this.consecutive.entries()].sort((a, b) => b[1] - a[1])[0];
    if (worst && worst[1] >= limit) {
      if (this.blindNow) return null;
      this.blindNow = true;
      const msg = `monitor blind: ${worst[0]} inconclusive for ${worst[1]} samples in a row (${sample.errors[worst[0]] ?? 'no value'})`;
      this.ctx.alert('warning', msg, { event: 'monitor_blind', data: { metric: worst[0], samples: worst[1] } });
      return 'blind';
    }
    if (!this.blindNow) return null;
    this.blindNow = false;
    this.ctx.alert('info', 'monitor sees again: metrics are conclusive');
    return 'sees';
  }
}
