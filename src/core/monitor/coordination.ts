/**
 * One owner of automation per environment, among every `monitor` and console watching it. Each loop
 * iteration the Monitor asks `own()`: the holder of the monitor lease (lease.ts) samples, decides, acts
 * and notifies, and publishes what it sees (shared-state.ts); any other process observes: it shows the
 * owner's state, recent samples and alerts, starts its charts from the sample file, and sends pause,
 * resume and cancel to the owner through the state_dir. It never acts by itself.
 *
 * When the owner stops, its lease is released and an observer takes over at its next look; when it
 * dies, the lease goes stale (or, on the same host, its process is gone) and exactly one observer wins
 * the compare-and-swap that breaks it. The new owner says so, and keeps automation paused if it was.
 */
import { randomUUID } from 'node:crypto';
import { lockStatus, type EnvLock, type LockOwner } from '../engine/lock.js';
import type { MonitorContext } from './context.js';
import { claimLease, describeAutomationOwner, LEASE_STALE_MS, ownerOfLease, startedVia, stillHeld } from './lease.js';
import { ObserverLink, OwnerPublisher, type RequestAction, type SharedStatus } from './shared-state.js';
import { errorText } from './sources/sample.js';
import { firstBreached } from './triggers.js';
import type { AutomationOwner, MonitorState, Sample } from './types.js';

export interface CoordinationOptions {
  /** What this process is, in the header of others: 'monitor' or 'console'. */
  kind: 'monitor' | 'console';
  /** Tool version, written into the lease. */
  version?: string;
  /** How this process was started (default: from its environment: systemd, tmux, ssh). */
  via?: string | null;
}

/** What coordination needs of the Monitor. */
export interface CoordinatedMonitor {
  /** The monitor's own state (as the owner publishes it). */
  ownState(): MonitorState;
  pausedBy(): string | null;
  /** Keep automation paused across a takeover (no new history entry: it was recorded when paused). */
  keepPaused(by: string): void;
  pause(by: string): Promise<void>;
  resume(by: string): Promise<void>;
  cancel(by: string): boolean;
  /** The lease is lost: stop whatever automation is pending. */
  stepDown(): void;
}

/** Why the previous owner no longer holds the lease. */
/** How often the owner checks that its lease is still its own. */
const HELD_CHECK_MS = 5000;
/** How often a sample alone rewrites the shared status (observers poll it once a second). */
const STATUS_EVERY_MS = 2000;

function takeoverReason(from: LockOwner | null, last: SharedStatus | null): string {
  const ended = last && from && last.owner.pid === from.pid && last.owner.host === from.host && last.state.phase === 'stopped';
  if (ended || !from) return 'it stopped';
  const st = lockStatus(from, LEASE_STALE_MS / 60_000, Date.now());
  if (st.deadOnThisHost) return 'its process is gone';
  return st.stale ? `its lease was not refreshed for ${LEASE_STALE_MS / 1000} s` : 'it stopped';
}

export class Coordination {
  private readonly via: string | null;
  private readonly operationId = `mon-${randomUUID()}`;
  private readonly link: ObserverLink;
  private lease: EnvLock | null = null;
  /** When the held lease was last checked (the lease refreshes on its own timer; a check is a read). */
  private heldCheckedAt = -Infinity;
  /** When the status was last written after a sample (changes are written at once). */
  private statusAt = -Infinity;
  private publisher: OwnerPublisher | null = null;
  private role: 'unknown' | 'owner' | 'observer' = 'unknown';
  private leaseOwner: LockOwner | null = null;
  private observed: SharedStatus | null = null;
  private historyLoaded = false;
  private lastSampleAt = -Infinity;
  private alertsOf = '';
  private lastAlertSeq = 0;

  constructor(
    private readonly ctx: MonitorContext,
    private readonly options: CoordinationOptions,
    private readonly monitor: CoordinatedMonitor,
  ) {
    this.via = options.via === undefined ? startedVia() : options.via;
    this.link = new ObserverLink(ctx.handle.state, ctx.env.name);
  }

  get owner(): boolean {
    return this.role === 'owner';
  }

  /** Who owns automation, as far as this process knows. */
  automationOwner(): AutomationOwner | null {
    if (this.lease) return ownerOfLease(this.lease.owner, this.via, true);
    if (this.observed) return { ...this.observed.owner, self: false };
    return this.leaseOwner ? ownerOfLease(this.leaseOwner, null, false) : null;
  }

  /** The state to show: the owner's when observing, else null (the monitor's own). */
  observedState(): MonitorState | null {
    if (this.role !== 'observer') return null;
    const own = this.monitor.ownState();
    const state = this.observed?.state ?? { ...own, phase: 'starting' as const, triggers: [], lastSample: null };
    return { ...state, automationOwner: this.automationOwner() };
  }

  /** Hold the lease (take it when free, stale, or its process is gone)? False: observe this time. */
  async own(): Promise<boolean> {
    const { ctx } = this;
    if (this.lease) {
      // Another process can take a lease only once it went stale (30 s): a look every few seconds is
      // enough, and keeps an idle console from reading the lease file every second.
      const now = ctx.clock.now();
      if (now - this.heldCheckedAt < HELD_CHECK_MS) return true;
      this.heldCheckedAt = now;
      if (await stillHeld(ctx.handle.state, this.lease).catch(() => true)) return true;
      const lost = this.lease;
      this.lease = null;
      this.publisher = null;
      this.role = 'observer';
      this.monitor.stepDown();
      ctx.alert('critical', `lost the monitor lease of ${ctx.env.name} (taken over by another monitor): observing from now on`);
      void lost.release().catch(() => undefined);
      return false;
    }
    const claim = await claimLease(ctx.handle.state, {
      env: ctx.env.name,
      kind: this.options.kind,
      actor: ctx.actor,
      version: this.options.version ?? 'unknown',
      operationId: this.operationId,
      onWarning: (m) => ctx.alert('warning', `monitor lease: ${m}`),
    });
    if (!claim.held) {
      this.leaseOwner = claim.owner;
      if (this.role !== 'observer') {
        this.role = 'observer';
        const who = claim.owner ? describeAutomationOwner(ownerOfLease(claim.owner, null, false)) : 'another process (its lease file is unreadable)';
        ctx.alert('info', `automation of ${ctx.env.name} is owned by ${who}: observing (this ${this.options.kind} samples nothing and never acts)`);
      }
      return false;
    }
    if (ctx.signal.aborted) {
      // Stopped while claiming: hand the lease straight back rather than announce a takeover.
      await claim.lease.release().catch(() => undefined);
      return false;
    }
    const wasObserving = this.role === 'observer';
    // The previous owner's last word: a clean stop writes phase 'stopped' before it releases the lease.
    const lastSeen = (await this.link.status().catch(() => null)) ?? this.observed;
    this.lease = claim.lease;
    this.role = 'owner';
    this.publisher = new OwnerPublisher(
      ctx.handle.state,
      ctx.env.name,
      () => ({ owner: ownerOfLease(claim.lease.owner, this.via, false), state: this.monitor.ownState(), paused_by: this.monitor.pausedBy() }),
      (m) => ctx.alert('warning', m),
    );
    try {
      // The charts of a restarted console (or a new owner) start with the samples of the last hour.
      for (const sample of await this.publisher.open(ctx.clock.now())) this.seeSample(sample, true);
    } catch (err) {
      ctx.alert('warning', `cannot take over the sample file: ${errorText(err)}`);
    }
    const pausedBy = lastSeen?.paused_by ?? null;
    if (pausedBy) this.monitor.keepPaused(pausedBy);
    if (wasObserving || claim.tookOverFrom) {
      const from = claim.tookOverFrom ?? this.leaseOwner;
      const who = from ? describeAutomationOwner(ownerOfLease(from, lastSeen?.owner.via ?? null, false)) : 'the previous owner';
      const why = takeoverReason(from, lastSeen);
      ctx.alert('warning', `took over automation of ${ctx.env.name} from ${who}: ${why}${pausedBy ? `; automation stays paused (by ${pausedBy})` : ''}`, {
        event: 'monitor_takeover',
        data: { previous: from ? { pid: from.pid, host: from.host, operation: from.operation } : null, paused_by: pausedBy },
      });
    }
    this.leaseOwner = claim.lease.owner;
    return true;
  }

  /** Owner: carry out what observers asked (pause, resume, cancel), recorded as if asked directly. */
  async carryOutRequests(): Promise<void> {
    if (!this.publisher) return;
    let requests;
    try {
      requests = await this.publisher.takeRequests();
    } catch (err) {
      this.ctx.alert('warning', `cannot read requests from observers: ${errorText(err)}`);
      return;
    }
    for (const r of requests) {
      if (r.action === 'pause') await this.monitor.pause(r.by);
      else if (r.action === 'resume') await this.monitor.resume(r.by);
      else if (!this.monitor.cancel(r.by)) this.ctx.alert('info', `cancel from ${r.by}: no automatic rollback was pending`);
    }
  }

  /** Owner: publish after a change (phase, pause) or a sample. */
  published(sample?: Sample): void {
    if (sample) {
      this.publisher?.sample(sample);
      // A sample alone refreshes the observers' view at most every STATUS_EVERY_MS (a change at once).
      const now = this.ctx.clock.now();
      if (now - this.statusAt < STATUS_EVERY_MS) return;
      this.statusAt = now;
    }
    this.publisher?.publish();
  }

  /** Owner: an alert, for observers to show. */
  alerted(severity: 'info' | 'warning' | 'critical', message: string): void {
    this.publisher?.alert(severity, message, this.ctx.clock.now());
  }

  /** Observer: one look at the owner's status; new samples and alerts become events here. */
  async observe(): Promise<void> {
    const { ctx } = this;
    const env = ctx.env.name;
    if (!this.historyLoaded) {
      this.historyLoaded = true;
      for (const sample of await this.link.samples(ctx.clock.now())) this.seeSample(sample, true);
    }
    const status = await this.link.status();
    if (status) {
      for (const sample of status.recent) this.seeSample(sample);
      const key = `${status.owner.pid}@${status.owner.host}@${status.owner.since}`;
      if (key !== this.alertsOf) {
        // A new owner numbers its alerts from 1: show its recent ones.
        this.alertsOf = key;
        this.lastAlertSeq = 0;
      }
      for (const a of status.alerts) {
        if (a.seq <= this.lastAlertSeq) continue;
        this.lastAlertSeq = a.seq;
        ctx.emit({ type: 'alert', env, severity: a.severity, message: `[${status.owner.kind} pid ${status.owner.pid}] ${a.message}` });
      }
      // The countdown banner (and its cancel key) follows 'grace' events: one when the owner's begins.
      const trigger = firstBreached(status.state.triggers);
      if (status.state.phase === 'grace' && this.observed?.state.phase !== 'grace' && trigger) {
        ctx.emit({ type: 'grace', env, trigger, remainingSeconds: status.state.graceRemainingSeconds ?? 0 });
      }
      this.observed = status;
    }
    const state = this.observedState();
    if (state) ctx.emit({ type: 'state', env, state });
  }

  private seeSample(sample: Sample, history = false): void {
    if (sample.at <= this.lastSampleAt) return;
    this.lastSampleAt = sample.at;
    this.ctx.emit({ type: 'sample', env: this.ctx.env.name, sample, ...(history ? { history: true as const } : {}) });
  }

  /** Observer: send a request to the owner; false when it could not be written. */
  async request(action: RequestAction, by: string): Promise<boolean> {
    const owner = this.automationOwner();
    try {
      await this.link.request(action, by);
    } catch (err) {
      this.ctx.alert('warning', `cannot send ${action} to the automation owner: ${errorText(err)}`);
      return false;
    }
    this.ctx.alert('info', `${action} sent to the automation owner${owner ? ` (${describeAutomationOwner(owner)})` : ''} by ${by}`);
    return true;
  }

  /** Stop: flush what the owner published, then release the lease (an observer takes over at once). */
  async close(): Promise<void> {
    const lease = this.lease;
    this.lease = null;
    await this.publisher?.flush();
    this.publisher = null;
    await lease?.release().catch(() => undefined);
  }
}
