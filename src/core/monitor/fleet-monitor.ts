/**
 * The fleet monitor: the monitor of an environment with `executor.hosts`. Each selected host has its
 * own Monitor (its sampler, its probes or Prometheus queries with `{host}`, its baseline tracker and
 * triggers), ticked but never acting on its own; the fleet monitor combines their triggers per
 * `rollback_policy.fleet.breach` (fleetTrigger) and acts for the fleet:
 *
 * - a trigger breached on too few hosts (one sick host of three under `majority`) is an alert naming
 *   the hosts, not a rollback: one sick host is that host's problem, most hosts sick is the release;
 * - a trigger that holds for the fleet rolls the fleet back through the injected runner (the fleet
 *   rollback with the environment's rollout settings), after the grace countdown when there is one;
 * - an unreachable host is inconclusive, never a breach: it is not sampled (its probes would fail
 *   and look like a breach), the rollback leaves it out as `--hosts` would and says so loudly, and
 *   once it can be reached again on the release the fleet fled it is rolled back too (convergence);
 * - a release the fleet already fled that holds again is not fled twice: that is escalated and
 *   automation pauses until an operator resumes it.
 *
 * Every explanation names the hosts and, per host, the value, threshold and baseline.
 *
 * With `coordinate`, one process acts for the fleet: the holder of the monitor lease in the first
 * selected host's state directory (lease.ts); another `monitor` or console on the fleet samples and
 * alerts but never rolls back, and says who owns automation.
 */
import { randomUUID } from 'node:crypto';
import type { FleetBreach, Policy } from '../config/schema.js';
import { formatFleetSummary, type FleetMember, type OpenFleet } from '../fleet/index.js';
import { combineTriggers, commonRelease, explainTrigger, type FleetTriggerView, type HostSlot } from './fleet-triggers.js';
import { claimLease, describeAutomationOwner, ownerOfLease, stillHeld } from './lease.js';
import type { EnvLock } from '../engine/lock.js';
import { realClock, type AlertSeverity, type MonitorClock, type MonitorEngine } from './context.js';
import { progressEvents, type FleetRollbackOutcome, type FleetRollbackProgressEvent, type FleetRollbackRunner } from './fleet-rollback.js';
import { Monitor } from './monitor.js';
import { errorText } from './sources/sample.js';
import { fmt } from './stats.js';
import { intervalMs } from './triggers.js';
import type { MonitorEvent, MonitorState } from './types.js';

export type { FleetTriggerView };

export interface FleetHostView {
  name: string;
  /** Null when reachable, else why not (the last attempt). */
  unreachable: string | null;
  /** The host's own monitor state (live release, baseline, triggers, last sample). */
  state: MonitorState;
}

export type FleetPhase = 'watching' | 'grace' | 'rolling_back' | 'escalated' | 'stopped';

export interface FleetMonitorState {
  env: string;
  breach: FleetBreach;
  phase: FleetPhase;
  automation: MonitorState['automation'];
  hosts: FleetHostView[];
  triggers: FleetTriggerView[];
  /** Hosts an automatic rollback left out while unreachable, to roll back once reachable again. */
  converging: string[];
  graceRemainingSeconds: number | null;
}

export type FleetMonitorEvent =
  /** An event of one host's own monitor (samples, triggers, its alerts). */
  | { type: 'host'; env: string; host: string; event: MonitorEvent }
  | { type: 'alert'; env: string; severity: AlertSeverity; message: string; hosts: string[] }
  | { type: 'fleet_state'; env: string; state: FleetMonitorState }
  | { type: 'fleet_rollback'; env: string; phase: 'started'; trigger: string; hosts: string[]; left_out: string[]; to: string | null; explanation: string }
  | { type: 'fleet_rollback'; env: string; phase: 'finished'; trigger: string; outcome: FleetRollbackOutcome }
  /** Between started and finished: the plan, each host's start, steps and end (the console's grid). */
  | FleetRollbackProgressEvent
  | { type: 'stopped'; env: string; reason: string };

export interface FleetMonitorOptions {
  fleet: OpenFleet;
  /** Each host's engine (its own monitor needs one; the fleet monitor never lets it act). */
  engineFor: (m: FleetMember) => MonitorEngine;
  runner: FleetRollbackRunner;
  clock?: MonitorClock;
  signal?: AbortSignal;
  /** Who the monitor acts as in history ("monitor@host"). */
  actor?: string;
  /** Act only while holding the fleet's monitor lease (the `monitor` subcommand and the console). */
  coordinate?: { kind: 'monitor' | 'console'; version?: string };
}

export class FleetMonitor {
  readonly envName: string;
  private readonly policy: Policy;
  private readonly breach: FleetBreach;
  private readonly clock: MonitorClock;
  private readonly slots: HostSlot[];
  private readonly listeners = new Set<(e: FleetMonitorEvent) => void>();
  private readonly stopController = new AbortController();
  private readonly interval: number;
  private readonly actor: string;
  private phase: FleetPhase = 'watching';
  private triggers: FleetTriggerView[] = [];
  private paused: { by: string } | null = null;
  private graceLeft: number | null = null;
  private graceCancel: AbortController | null = null;
  /** Minority breaches already alerted (trigger -> the breached hosts), so each is said once. */
  private readonly minorityAlerted = new Map<string, string>();
  /** Releases the fleet rolled back from (a second breach of one is escalated, not fled again). */
  private readonly fled = new Set<string>();
  /** host -> the release it should leave and the target the fleet went to. */
  private readonly converging = new Map<string, { from: string; to: string; trigger: string }>();
  private readonly saidOnce = new Set<string>();
  private loop: Promise<void> | null = null;
  private lease: EnvLock | null = null;
  private readonly leaseId = `mon-${randomUUID()}`;

  constructor(private readonly options: FleetMonitorOptions) {
    const env = options.fleet.fleet.env;
    this.envName = env.name;
    this.policy = env.policy;
    this.breach = env.policy.fleet?.breach ?? 'majority';
    this.clock = options.clock ?? realClock;
    this.interval = intervalMs(this.policy);
    this.actor = options.actor ?? 'monitor';
    this.slots = options.fleet.members.map((member) => {
      const monitor = new Monitor(member.handle, { engine: options.engineFor(member), clock: this.clock, signal: this.stopController.signal, actor: this.actor });
      monitor.on((event) => this.emit({ type: 'host', env: this.envName, host: member.host.name, event }));
      return { member, monitor, unreachable: null };
    });
    if (options.signal) {
      if (options.signal.aborted) this.stopController.abort();
      else options.signal.addEventListener('abort', () => this.stop(), { once: true });
    }
  }

  on(listener: (e: FleetMonitorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: FleetMonitorEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A listener's bug must not stop the monitor.
      }
    }
  }

  private alert(severity: AlertSeverity, message: string, hosts: string[]): void {
    this.emit({ type: 'alert', env: this.envName, severity, message, hosts });
  }

  private alertOnce(key: string, severity: AlertSeverity, message: string, hosts: string[]): void {
    if (this.saidOnce.has(key)) return;
    this.saidOnce.add(key);
    this.alert(severity, message, hosts);
  }

  private automation(): MonitorState['automation'] {
    if (!this.policy.enabled) return 'disabled';
    return this.paused ? 'paused' : 'armed';
  }

  getState(): FleetMonitorState {
    return {
      env: this.envName,
      breach: this.breach,
      phase: this.phase,
      automation: this.automation(),
      hosts: this.slots.map((s) => ({ name: s.member.host.name, unreachable: s.unreachable, state: s.monitor.getState() })),
      triggers: this.triggers,
      converging: [...this.converging.keys()],
      graceRemainingSeconds: this.graceLeft,
    };
  }

  /**
   * One round without acting: every host is looked at (can it be reached?) and, when reachable, its own
   * monitor ticks; then each trigger is combined over the hosts.
   */
  async tick(): Promise<FleetTriggerView[]> {
    const signal = this.stopController.signal;
    await this.options.fleet.each(async (member) => {
      const slot = this.slots.find((s) => s.member === member) as HostSlot;
      try {
        await member.handle.store.live({ signal });
      } catch (err) {
        const why = errorText(err);
        if (slot.unreachable === null) this.alert('warning', `${member.host.name} is unreachable (${why}): inconclusive, never counted as a breach`, [member.host.name]);
        slot.unreachable = why;
        return;
      }
      if (slot.unreachable !== null) this.alert('info', `${member.host.name} is reachable again`, [member.host.name]);
      slot.unreachable = null;
      await slot.monitor.tick();
    }, signal);
    this.triggers = this.combine();
    this.publishState();
    return this.triggers;
  }

  /** The fleet's state as a console shows it (phase, countdown, hosts): after each round and each phase change. */
  private publishState(): void {
    this.emit({ type: 'fleet_state', env: this.envName, state: this.getState() });
  }

  private combine(): FleetTriggerView[] {
    return combineTriggers(this.slots, this.breach);
  }

  private explain(view: FleetTriggerView): string {
    return explainTrigger(this.slots, view);
  }

  /** After a tick: alert on a minority breach, roll back a fleet-wide one, converge returning hosts. */
  async act(): Promise<void> {
    if (this.phase === 'rolling_back') return;
    const owner = await this.ownsAutomation();
    if (owner) await this.converge();
    for (const view of this.triggers) {
      if (view.verdict.holds || view.verdict.breached.length === 0) {
        this.minorityAlerted.delete(view.name);
        continue;
      }
      const key = view.verdict.breached.join(',');
      if (this.minorityAlerted.get(view.name) === key) continue;
      this.minorityAlerted.set(view.name, key);
      const hosts = view.verdict.breached;
      this.alert('warning', `${view.name} breached on ${hosts.join(', ')} only: an alert, not a fleet rollback (${this.explain(view)})`, hosts);
    }
    const held = this.triggers.find((t) => t.verdict.holds);
    if (!held || !owner) return;
    if (this.automation() !== 'armed') {
      this.alertOnce(`held:${held.name}:${this.automation()}`, 'critical', `${held.name} holds for the fleet, automation is ${this.automation()}: not rolling back (${this.explain(held)})`, held.verdict.breached);
      return;
    }
    const fromRelease = this.commonRelease(held.verdict.breached);
    if (fromRelease !== null && this.fled.has(fromRelease)) {
      this.phase = 'escalated';
      this.paused = { by: `${this.actor} (escalated)` };
      this.alert('critical', `${held.name} holds again on ${fromRelease}, which the fleet already rolled back from: escalating, automation paused until an operator resumes it (${this.explain(held)})`, held.verdict.breached);
      return;
    }
    if (!(await this.grace(held))) return;
    await this.rollBack(held, fromRelease);
  }

  /**
   * Without coordination: always. With it: while this process holds the monitor lease of the fleet
   * (kept until it stops; a lease taken over by another process is given up and said so).
   */
  private async ownsAutomation(): Promise<boolean> {
    const c = this.options.coordinate;
    const first = this.slots[0]?.member;
    if (!c || !first) return true;
    const state = first.handle.state;
    try {
      if (this.lease) {
        if (await stillHeld(state, this.lease)) return true;
        this.alert('critical', `lost the monitor lease of fleet ${this.envName} (taken over by another monitor): not acting from now on`, []);
        void this.lease.release().catch(() => undefined);
        this.lease = null;
      }
      const claim = await claimLease(state, {
        env: this.envName,
        kind: c.kind,
        actor: this.actor,
        version: c.version ?? 'unknown',
        operationId: this.leaseId,
        onWarning: (m) => this.alert('warning', `monitor lease: ${m}`, []),
      });
      if (claim.held) {
        this.lease = claim.lease;
        this.saidOnce.delete('lease:observer');
        return true;
      }
      const who = claim.owner ? describeAutomationOwner(ownerOfLease(claim.owner, null, false)) : 'another process (its lease file is unreadable)';
      this.alertOnce('lease:observer', 'info', `automation of fleet ${this.envName} is owned by ${who}: this ${c.kind} alerts but never rolls back`, []);
      return false;
    } catch (err) {
      this.alertOnce(`lease:error`, 'warning', `cannot read the monitor lease of ${this.envName} on ${first.host.name} (${errorText(err)}): not acting`, [first.host.name]);
      return false;
    }
  }

  private commonRelease(hosts: readonly string[]): string | null {
    return commonRelease(this.slots, hosts);
  }

  /** The grace countdown (sampling goes on); true when the trigger still holds at its end. */
  private async grace(held: FleetTriggerView): Promise<boolean> {
    const seconds = this.policy.rollback.grace_seconds;
    if (seconds <= 0) return true;
    this.phase = 'grace';
    this.graceCancel = new AbortController();
    const cancel = this.graceCancel.signal;
    this.alert('critical', `fleet rollback in ${fmt(seconds)}s unless cancelled: ${this.explain(held)}`, held.verdict.breached);
    const end = this.clock.now() + seconds * 1000;
    while (!cancel.aborted && !this.stopController.signal.aborted && this.clock.now() < end) {
      this.graceLeft = Math.max(0, (end - this.clock.now()) / 1000);
      await this.clock.sleep(Math.min(this.interval, end - this.clock.now()), cancel);
      if (!cancel.aborted) await this.tick();
    }
    this.graceLeft = null;
    this.graceCancel = null;
    this.phase = 'watching';
    if (cancel.aborted || this.stopController.signal.aborted) {
      if (typeof cancel.reason === 'string') this.alert('warning', `fleet rollback cancelled by ${cancel.reason}`, []);
      return false;
    }
    return this.triggers.some((t) => t.name === held.name && t.verdict.holds);
  }

  private async rollBack(held: FleetTriggerView, fromRelease: string | null): Promise<void> {
    const reachable = this.slots.filter((s) => s.unreachable === null);
    const leftOut = this.slots.filter((s) => s.unreachable !== null).map((s) => s.member.host.name);
    const hosts = reachable.map((s) => s.member.host.name);
    const explanation = this.explain(held);
    if (leftOut.length > 0) {
      this.alert(
        'critical',
        `AUTOMATIC FLEET ROLLBACK LEAVES OUT UNREACHABLE ${leftOut.length === 1 ? 'HOST' : 'HOSTS'} ${leftOut.join(', ')} (as --hosts ${hosts.join(',')} would); ` +
          `${leftOut.length === 1 ? 'it is' : 'they are'} rolled back when reachable again on ${fromRelease ?? 'the same release'}`,
        leftOut,
      );
    }
    this.phase = 'rolling_back';
    if (fromRelease !== null) this.fled.add(fromRelease);
    // Said at once, not at the next round: a console would go on showing the countdown meanwhile.
    this.publishState();
    this.emit({ type: 'fleet_rollback', env: this.envName, phase: 'started', trigger: held.name, hosts, left_out: leftOut, to: null, explanation });
    this.alert('critical', `automatic fleet rollback of ${hosts.join(', ')} (${explanation})`, hosts);
    const expectFrom = Object.fromEntries(reachable.map((s) => [s.member.host.name, s.monitor.getState().live]));
    const outcome = await this.run({ hosts, reason: `automatic: ${held.name} holds for the fleet`, trigger: held.name, explanation, expectFrom });
    this.phase = 'watching';
    if (outcome.to !== null && fromRelease !== null) for (const name of leftOut) this.converging.set(name, { from: fromRelease, to: outcome.to, trigger: held.name });
    this.emit({ type: 'fleet_rollback', env: this.envName, phase: 'finished', trigger: held.name, outcome });
    this.publishState();
    this.alert(outcome.ok ? 'info' : 'critical', `fleet rollback ${outcome.ok ? 'done' : `failed (exit ${outcome.exit_code})`}: ${this.summary(outcome)}`, hosts);
  }

  private summary(outcome: FleetRollbackOutcome): string {
    return [outcome.error, formatFleetSummary(outcome.hosts)].filter((s) => s !== undefined && s !== '').join('; ');
  }

  private async run(req: Omit<Parameters<FleetRollbackRunner>[0], 'signal'> & { to?: string }): Promise<FleetRollbackOutcome> {
    try {
      return await this.options.runner({ ...req, signal: this.stopController.signal, progress: progressEvents(this.envName, (e) => this.emit(e)) });
    } catch (err) {
      return { ok: false, exit_code: 1, to: req.to ?? null, hosts: [], error: errorText(err) };
    }
  }

  /** Hosts left out while unreachable: reachable again on the fled release, they are rolled back too. */
  private async converge(): Promise<void> {
    for (const [name, pending] of [...this.converging]) {
      const slot = this.slots.find((s) => s.member.host.name === name);
      if (!slot || slot.unreachable !== null) continue;
      const live = slot.monitor.getState().live;
      if (live !== pending.from) {
        this.converging.delete(name);
        this.alert('info', `${name} is reachable again on ${live ?? 'nothing live'}, not on ${pending.from} which the fleet fled: left as it is`, [name]);
        continue;
      }
      this.phase = 'rolling_back';
      const explanation = `${name} was unreachable during the automatic fleet rollback from ${pending.from} to ${pending.to} (${pending.trigger}) and is reachable again on ${pending.from}`;
      this.alert('critical', `converging: rolling ${name} back from ${pending.from} to ${pending.to} (${explanation})`, [name]);
      this.emit({ type: 'fleet_rollback', env: this.envName, phase: 'started', trigger: pending.trigger, hosts: [name], left_out: [], to: pending.to, explanation });
      const outcome = await this.run({ to: pending.to, hosts: [name], reason: `automatic: converging ${name} after the fleet rollback`, trigger: pending.trigger, explanation, expectFrom: { [name]: live } });
      this.phase = 'watching';
      this.emit({ type: 'fleet_rollback', env: this.envName, phase: 'finished', trigger: pending.trigger, outcome });
      if (outcome.ok) this.converging.delete(name);
      this.alert(outcome.ok ? 'info' : 'critical', `converging ${name} ${outcome.ok ? 'done' : `failed (exit ${outcome.exit_code}; tried again next round)`}: ${this.summary(outcome)}`, [name]);
    }
  }

  pause(by: string): void {
    this.paused = { by };
    this.graceCancel?.abort();
    this.alert('warning', `automatic fleet rollback paused by ${by}`, []);
  }

  resume(by: string): void {
    this.paused = null;
    if (this.phase === 'escalated') this.phase = 'watching';
    this.alert('info', `automatic fleet rollback resumed by ${by}`, []);
  }

  /** Cancel a pending automatic fleet rollback during its grace countdown. */
  cancelPending(by: string): boolean {
    if (!this.graceCancel || this.graceCancel.signal.aborted) return false;
    this.graceCancel.abort(by);
    return true;
  }

  start(): Promise<void> {
    this.loop ??= this.runLoop();
    return this.loop;
  }

  private async runLoop(): Promise<void> {
    const signal = this.stopController.signal;
    const names = this.slots.map((s) => s.member.host.name);
    this.alert('info', `monitoring fleet ${this.envName} (${names.join(', ')}) every ${fmt(this.interval / 1000)}s; a trigger holds for the fleet on ${this.breach} of the hosts (automation ${this.automation()})`, names);
    while (!signal.aborted) {
      const started = this.clock.now();
      try {
        await this.tick();
        if (!signal.aborted) await this.act();
      } catch (err) {
        if (signal.aborted) break;
        this.alert('warning', `fleet monitor round failed: ${errorText(err)}`, []);
      }
      if (signal.aborted) break;
      await this.clock.sleep(Math.max(0, this.interval - (this.clock.now() - started)), signal);
    }
    this.phase = 'stopped';
    for (const s of this.slots) s.monitor.stop();
    await this.lease?.release().catch(() => undefined);
    this.lease = null;
    this.emit({ type: 'stopped', env: this.envName, reason: 'stopped' });
  }

  stop(): void {
    if (!this.stopController.signal.aborted) this.stopController.abort();
    this.graceCancel?.abort();
  }
}
