/**
 * The baseline tracker: which release is live, and what "normal" is for it. When a different release
 * becomes live it is adopted: its stored baseline is used when it is healthy; otherwise (none, an
 * unhealthy one, or `rebaseline` after an automatic rollback restored it) a new one is established over
 * `baseline_window_minutes`, comparing against the stored healthy one meanwhile when there is one. A
 * window that was unhealthy is never stored and never marks the release known-good: it is observed
 * again. One tracker follows one host's live release, so a fleet monitor can keep one per host.
 */
import type { MonitorContext } from './context.js';
import { BaselineStore, computeBaseline, judgeBaselineWindow } from './baseline.js';
import { errorText } from './sources/sample.js';
import { fmt } from './stats.js';
import type { Baseline, Sample } from './types.js';

export class BaselineTracker {
  private readonly store: BaselineStore;
  /** The live release (null: none is live). */
  live: string | null = null;
  /** False until the first release was adopted. */
  known = false;
  baseline: Baseline | null = null;
  /** When the window of the baseline being established began; null when not establishing. */
  establishingSince: number | null = null;
  private breachedWhileEstablishing = false;

  constructor(private readonly ctx: MonitorContext) {
    this.store = new BaselineStore(ctx.handle.state);
  }

  get establishing(): boolean {
    return this.establishingSince !== null;
  }

  /** While establishing: how far along (seconds observed / needed). */
  progress(now: number): { observedSeconds: number; neededSeconds: number } | null {
    if (this.establishingSince === null) return null;
    const neededSeconds = this.ctx.policy.monitoring.baseline_window_minutes * 60;
    return { observedSeconds: Math.min(neededSeconds, Math.max(0, (now - this.establishingSince) / 1000)), neededSeconds };
  }

  /** A trigger fired: the window being established (if any) is not a healthy one. */
  noteBreach(): void {
    if (this.establishingSince !== null) this.breachedWhileEstablishing = true;
  }

  /**
   * Adopt `live` as the live release. Resolves to the phase the monitor is in afterwards: watching
   * (a stored healthy baseline, or nothing live) or establishing a baseline.
   */
  async adopt(live: string | null, now: number, options: { rebaseline?: boolean } = {}): Promise<'watching' | 'baseline'> {
    const { ctx } = this;
    const previous = this.live;
    const first = !this.known;
    this.live = live;
    this.known = true;
    this.breachedWhileEstablishing = false;
    this.baseline = null;
    this.establishingSince = null;
    if (!first) ctx.alert('info', `live release changed: ${previous ?? 'none'} -> ${live ?? 'none'}; windows reset`);
    if (live === null) return 'watching';
    let stored: Baseline | null = null;
    try {
      stored = await this.store.load(live);
    } catch (err) {
      ctx.alert('warning', `cannot read the baseline of ${live}: ${errorText(err)}; establishing a new one`);
    }
    if (stored && !stored.healthy) {
      ctx.alert('info', `the stored baseline of ${live} is from an unhealthy window: not used; establishing a new one`);
      stored = null;
    }
    this.baseline = stored;
    if (stored && !options.rebaseline) {
      ctx.emit({ type: 'baseline', env: ctx.env.name, baseline: stored });
      return 'watching';
    }
    this.establishingSince = now;
    if (stored) ctx.alert('info', `establishing a new baseline for ${live}; comparing against its previous one (${stored.timestamp}) meanwhile`);
    return 'baseline';
  }

  /**
   * When the window being established is complete: judge it, and store a healthy one (and mark the
   * release known-good), or observe again. `windowSince` gives the samples taken since a time.
   */
  async maybeEstablish(now: number, windowSince: (since: number) => Sample[]): Promise<void> {
    const { ctx } = this;
    const live = this.live;
    const since = this.establishingSince;
    if (since === null || live === null) return;
    const neededMs = ctx.policy.monitoring.baseline_window_minutes * 60_000;
    // Half an interval of slack: the tick that lands at the window's end counts.
    if (now - since + ctx.interval / 2 < neededMs) return;
    const samples = windowSince(since);
    const verdict = judgeBaselineWindow(samples, this.breachedWhileEstablishing);
    if (!verdict.healthy) {
      // Never stored, never a reference: observe again (comparing against the previous healthy
      // baseline meanwhile, when there is one).
      this.establishingSince = now;
      this.breachedWhileEstablishing = false;
      ctx.alert(
        'warning',
        `baseline window of ${live} was unhealthy (${verdict.why}): not recorded, not marked known-good; observing again${this.baseline ? ` (comparing against its previous baseline meanwhile)` : ''}`,
      );
      return;
    }
    const baseline = computeBaseline(live, samples, true, now);
    this.baseline = baseline;
    this.establishingSince = null;
    try {
      await this.store.save(baseline);
    } catch (err) {
      ctx.alert('warning', `cannot save the baseline of ${live}: ${errorText(err)} (kept in memory)`);
    }
    try {
      await ctx.handle.marks.markKnownGood(live);
    } catch (err) {
      ctx.alert('warning', `cannot mark ${live} known-good: ${errorText(err)}`);
    }
    ctx.emit({ type: 'baseline', env: ctx.env.name, baseline });
    ctx.alert(
      'info',
      `baseline for ${live}: error rate ${fmt(baseline.metrics.error_rate)}/min, p95 ${fmt(baseline.metrics.p95_latency_ms)} ms, memory ${fmt(baseline.metrics.memory_usage_percent)}% (${verdict.why}); marked known-good`,
    );
  }
}
