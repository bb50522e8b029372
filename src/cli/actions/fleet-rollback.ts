/**
 * `rollback` on a fleet (an environment with `executor.hosts`): the pre-check of every selected host in
 * one parallel round (nothing changes on a failure; a held lock is exit 3 and wins), the plan (per host
 * from -> to, the batches; the dry run ends there), one confirmation for the fleet, the pre-check again
 * so that what was confirmed is what runs, then the locks and the rollout (core/fleet/rollback.ts) with
 * a host x step grid on stderr, and the per-host summary. `--json`: the rollback document with `hosts`.
 */
import type { ResolvedEnvironment } from '../../core/config/schema.js';
import { Notifier, reportInterrupted, type RollbackKind } from '../../core/engine/index.js';
import { UserError } from '../../core/errors.js';
import {
  fleetPlan,
  formatFleetPlan,
  formatFleetSummary,
  idleHost,
  openFleet,
  precheckError,
  precheckFleet,
  resolveFleet,
  rolloutSettings,
  runFleetRollback,
  stoppedAdvice,
  type FleetHostResult,
  type FleetPrecheck,
  type OpenFleet,
} from '../../core/fleet/index.js';
import type { CliContext } from '../context.js';
import { fleetProgress } from './fleet-progress.js';
import { askConfirmation, type RollbackOptions } from './rollback.js';

/** The rollback options, with the reason given (or the dry run's) and `--hosts` parsed. */
export type FleetRollbackCliOptions = Omit<RollbackOptions, 'env' | 'reason' | 'hosts'> & { reason: string; hosts?: string[] };

/** `rollback --json` of a fleet: the one-host document's keys, plus `hosts` and the operation id. */
export interface FleetRollbackJson {
  ok: boolean;
  env: string;
  kind: RollbackKind;
  dry_run: boolean;
  /** The live release when every selected host ran the same one, else null (see hosts[].from). */
  from: string | null;
  to: string | null;
  steps: [];
  verification: 'passed' | 'failed' | 'skipped';
  duration_ms: number;
  exit_code: number;
  hosts: FleetHostResult[];
  operation_id?: string;
  error?: string;
  code?: string;
  hint?: string;
}

function commonFrom(hosts: readonly FleetHostResult[]): string | null {
  const lives = new Set(hosts.filter((h) => h.status !== 'excluded').map((h) => h.from));
  return lives.size === 1 ? ([...lives][0] ?? null) : null;
}

function fleetVerification(hosts: readonly FleetHostResult[]): FleetRollbackJson['verification'] {
  const sel = hosts.filter((h) => h.status !== 'excluded');
  if (sel.some((h) => h.verification === 'failed')) return 'failed';
  return sel.length > 0 && sel.every((h) => h.verification === 'passed' || h.status === 'skipped') ? 'passed' : 'skipped';
}

function kindOf(opts: FleetRollbackCliOptions): RollbackKind {
  return opts.emergency ? 'emergency' : opts.to ? 'targeted' : 'standard';
}

/** A failed pre-check's hosts: unreachable ones named, every other host untouched, left-out ones excluded. */
function precheckHosts(p: FleetPrecheck): FleetHostResult[] {
  const to = p.target ?? '';
  return [
    ...p.hosts.map((h) => ({ ...idleHost(h.name, h.live, to, h.reachable ? 'untouched' : 'unreachable'), error: h.problems.length > 0 ? h.problems.join('; ') : null })),
    ...p.excluded.map((n) => idleHost(n, null, to, 'excluded')),
  ];
}

/** What moves where, for the one prompt: "app-1, app-2 from r3, app-3 from r2 to r1". */
function route(p: FleetPrecheck): string {
  const byFrom = new Map<string, string[]>();
  for (const h of p.hosts) if (!h.onTarget) byFrom.set(h.live ?? '(none)', [...(byFrom.get(h.live ?? '(none)') ?? []), h.name]);
  return `${[...byFrom].map(([from, names]) => `${names.join(', ')} from ${from}`).join('; ')} to ${p.target ?? '?'}`;
}

/** The plan confirmed, against the one of now: the same target and every host's live release. */
function planChange(before: FleetPrecheck, now: FleetPrecheck): string | null {
  if (now.target !== before.target) return `the target would now be ${now.target ?? '(none)'}, not ${before.target ?? '(none)'}`;
  const moved = now.hosts.filter((h) => before.hosts.find((b) => b.name === h.name)?.live !== h.live);
  return moved.length > 0 ? `live moved on ${moved.map((h) => `${h.name} (now ${h.live ?? '(none)'})`).join(', ')}` : null;
}

export async function runFleetRollbackCommand(ctx: CliContext, env: ResolvedEnvironment, opts: FleetRollbackCliOptions): Promise<void> {
  const started = Date.now();
  const kind = kindOf(opts);
  const fleet = await resolveFleet(env, opts.hosts ? { hosts: opts.hosts } : {});
  // Until the rollout installs its own handlers, a signal closes every host's ssh master and exits.
  const open = openFleet(fleet, { closeOnSignal: true });
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    ctx.warn(`${sig} received: every host in flight finishes its current step safely, no new host starts, then the locks are released`);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  const doc = (hosts: FleetHostResult[], exitCode: number, extra: Partial<FleetRollbackJson> = {}): FleetRollbackJson => ({
    ok: exitCode === 0,
    env: env.name,
    kind,
    dry_run: opts.dryRun === true,
    from: commonFrom(hosts),
    to: hosts[0]?.to || null,
    steps: [],
    verification: fleetVerification(hosts),
    duration_ms: Date.now() - started,
    exit_code: exitCode,
    hosts,
    ...extra,
  });
  const precheck = (): Promise<FleetPrecheck> =>
    precheckFleet(open, { ...(opts.to !== undefined ? { to: opts.to } : {}), emergency: opts.emergency === true, breakLock: opts.breakLock === true, signal: controller.signal });
  const refuse = (p: FleetPrecheck, err: UserError): never => {
    if (opts.json) ctx.json(doc(precheckHosts(p), err.exitCode, { error: err.message, code: err.code, ...(err.hint ? { hint: err.hint } : {}) }));
    throw err;
  };
  try {
    // The interrupted-rollback report and the pre-check only read, and neither needs the other: one round
    // of round trips instead of two before the plan.
    const [, first] = await Promise.all([open.each((m) => reportInterrupted(m.handle, (msg) => ctx.warn(`${m.host.name}: ${msg}`))), precheck()]);
    let p = first;
    if (!p.ok) refuse(p, precheckError(p));
    const settings = rolloutSettings(env.rollout, open.members.length, open.concurrency);
    const plan = fleetPlan(p, settings);
    if (opts.dryRun) {
      if (opts.json) ctx.json(doc(plan.hosts, 0));
      else ctx.out(`DRY RUN (nothing will change)\n${formatFleetPlan(plan)}\nthe plan is valid`);
      return;
    }
    if (!opts.yes) {
      ctx.log(formatFleetPlan(plan));
      if (!(await askConfirmation(env, kind, route(p)))) {
        throw new UserError(`rollback of ${env.name} not confirmed: nothing was changed`, { code: 'NOT_CONFIRMED', hint: 'run it again and confirm, or pass --yes' });
      }
      // What was confirmed is what runs: the pre-check again, and the same target and live releases.
      const again = await precheck();
      if (!again.ok) refuse(again, precheckError(again));
      const changed = planChange(p, again);
      if (changed) {
        refuse(again, new UserError(`${env.name}: the plan changed since you confirmed: ${changed}; nothing was done`, {
          code: 'PLAN_CHANGED',
          hint: `look at \`rollback-tui list --env ${env.name}\`, then run the rollback again and confirm what it shows now`,
        }));
      }
      p = again;
    }
    return await rollOut(ctx, env, open, p, opts, { kind, controller, onSignal, doc });
  } finally {
    await open.close();
  }
}

interface RollOutContext {
  kind: RollbackKind;
  controller: AbortController;
  onSignal: (sig: NodeJS.Signals) => void;
  doc: (hosts: FleetHostResult[], exitCode: number, extra?: Partial<FleetRollbackJson>) => FleetRollbackJson;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

async function rollOut(ctx: CliContext, env: ResolvedEnvironment, open: OpenFleet, p: FleetPrecheck, opts: FleetRollbackCliOptions, c: RollOutContext): Promise<void> {
  const notifier = new Notifier(env.policy.notifications, { onWarning: (m) => ctx.warn(m) });
  const live = (ctx.stderr as { isTTY?: boolean }).isTTY === true && process.env.TERM !== 'dumb';
  const progress = fleetProgress(ctx.stderr, p.hosts.map((h) => h.name), { live });
  const settings = rolloutSettings(env.rollout, open.members.length, open.concurrency);
  progress.note(`${c.kind} rollback of ${env.name} to ${p.target ?? '?'} on ${p.hosts.length} ${p.hosts.length === 1 ? 'host' : 'hosts'} (${settings.order}, batches of ${settings.batch}, max_failures ${settings.maxFailures})`);
  for (const s of STOP_SIGNALS) process.on(s, c.onSignal);
  let result;
  try {
    result = await runFleetRollback({
      open,
      precheck: p,
      settings,
      kind: c.kind,
      reason: opts.reason,
      trigger: 'manual',
      breakLock: opts.breakLock === true,
      signal: c.controller.signal,
      engine: { version: ctx.version, notifier },
      onEvent: (host, e) => progress.event(host, e),
      onWarning: (host, m) => progress.note(`warning: ${host}: ${m}`),
      onHostStart: (name, batch) => progress.hostStart(name, batch),
      onHostEnd: (r) => progress.hostEnd(r),
      onPause: (ms, next) => progress.note(`pausing ${ms / 1000} s before batch ${next + 1}`),
      onStop: (reason, failures) =>
        progress.note(reason === 'aborted' ? 'interrupted: no new host starts' : `stopping: ${reason === 'canary' ? 'the canary failed' : `${failures} failed hosts, more than max_failures ${settings.maxFailures}`}; no new host starts`),
    });
  } catch (err) {
    // The locks could not all be taken: nothing was changed anywhere.
    progress.done();
    if (err instanceof UserError && opts.json) ctx.json(c.doc(precheckHosts(p), err.exitCode, { error: err.message, code: err.code, ...(err.hint ? { hint: err.hint } : {}) }));
    throw err;
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, c.onSignal);
  }
  progress.done();
  const col = ctx.color;
  const summary = formatFleetSummary(result.hosts);
  ctx.log(result.ok ? col.green(summary) : col.red(summary));
  const advice = result.stopped || !result.ok ? stoppedAdvice(env.name, result.hosts, opts.reason) : [];
  for (const line of advice) ctx.log(line);
  // Every host has the same layout: one line per path, naming the hosts that have a report there.
  const reports = new Map<string, string[]>();
  for (const h of result.hosts) {
    const path = result.results.get(h.name)?.incident_report;
    if (path) reports.set(path, [...(reports.get(path) ?? []), h.name]);
  }
  for (const [path, hosts] of reports) ctx.log(`incident report: ${path} (on ${hosts.join(', ')})`);
  const error = result.ok ? undefined : `fleet rollback of ${env.name} ${result.stopped ? `stopped (${result.stopped === 'canary' ? 'the canary failed' : result.stopped === 'aborted' ? 'interrupted' : 'too many failed hosts'})` : 'did not finish on every host'}: ${summary}`;
  if (opts.json) ctx.json(c.doc(result.hosts, result.exitCode, { operation_id: result.operationId, ...(error ? { error } : {}) }));
  if (error && !opts.json) ctx.log(col.red(`rollback-tui: ${error}`));
  ctx.exitCode = result.exitCode;
  const left = await notifier.drain(env.policy.notifications.timeout_seconds * 1000);
  if (left > 0) ctx.warn(`${left} notification(s) were still pending and were given up`);
}
