/**
 * Building a rollback plan: pick (or check) the target, and list each step with what it will run and
 * why it might be skipped. Pure apart from reading the store; the dry run prints exactly this.
 *
 * Default target: the newest backup OLDER than the live one that is not marked
 * bad. So after 3 -> 2, the next rollback goes to 1, never back to 3 (3 is newer than 2, and marked bad).
 * `--to` may name a bad backup: the plan carries a warning, and with confirmation it is done.
 */
import type { ResolvedEnvironment } from '../config/schema.js';
import { UserError } from '../errors.js';
import { checkName } from '../health/checks.js';
import type { Backup, BackupStore } from '../stores/types.js';
import { backupNameProblem } from '../stores/names.js';
import { olderFirst } from '../stores/order.js';
import { redactSecrets } from '../config/redact.js';
import { journalFile } from './journal.js';
import { lockOwnerFile } from './lock.js';
import type { PlannedStep, RollbackKind, RollbackPlan, RollbackRequest, StepName } from './types.js';

/**
 * The newest usable backup older than the live one, not marked bad (null: nothing to roll back to).
 * Unusable entries (stray symlinks, unsafe names) are skipped. Throws MARKS_DAMAGED when marks.json is
 * damaged: which releases are bad is unknown, so no default target can be chosen (`--to` still works).
 */
export function pickDefaultTarget(backups: readonly Backup[], live: string | null): Backup | null {
  const damaged = backups.find((b) => b.marksDamaged)?.marksDamaged;
  if (damaged) {
    throw new UserError(damaged, { code: 'MARKS_DAMAGED', hint: 'roll back to a release named from `rollback-tui list` with --to NAME' });
  }
  const sorted = backups.filter((b) => !b.unusable).sort((a, b) => olderFirst(b, a));
  const liveB = live ? sorted.find((b) => b.name === live) : undefined;
  if (!liveB) {
    // Nothing recognisable is live: the newest good one.
    return sorted.find((b) => !b.bad && !b.current) ?? null;
  }
  return sorted.find((b) => b.name !== liveB.name && !b.current && !b.bad && olderFirst(b, liveB) < 0) ?? null;
}

/** Why pickDefaultTarget found nothing (for plans and `verify`); `where` names the backups dir. */
export function noTargetReason(backups: readonly Backup[], live: string | null, where: string): string {
  const usable = backups.filter((b) => !b.unusable);
  const skipped = backups.length - usable.length;
  const note = skipped ? ` (${skipped} unusable ${skipped === 1 ? 'entry' : 'entries'} skipped: see \`rollback-tui list\`)` : '';
  const liveB = usable.find((b) => b.current || b.name === live);
  const older = liveB ? usable.filter((b) => olderFirst(b, liveB) < 0) : usable;
  const why =
    usable.length === 0
      ? `no backups in ${where}: nothing to roll back to`
      : older.length > 0
        ? `every backup older than the live one (${live}) is marked bad: nothing to roll back to without --to`
        : `no backup older than the live one (${live ?? 'none'}): nothing to roll back to`;
  return why + note;
}

export const STEP_ORDER: readonly StepName[] = [
  'lock',
  'journal',
  'validate',
  'maintenance_on',
  'stop',
  'switch',
  'start',
  'verify',
  'maintenance_off',
  'mark',
  'record',
  'notify',
  'unlock',
];

const TITLES: Record<StepName, string> = {
  lock: 'take the environment lock',
  journal: 'write the rollback journal',
  validate: 'pre-validate the target',
  maintenance_on: 'maintenance mode on',
  stop: 'stop the service',
  switch: 'switch the live release',
  start: 'start the service',
  verify: 'verify health',
  maintenance_off: 'maintenance mode off',
  mark: 'mark releases',
  record: 'record history and incident report',
  notify: 'notify',
  unlock: 'release the lock',
};

export interface PlanContext {
  env: ResolvedEnvironment;
  store: BackupStore;
  /** Names of notification channels (for the preview), no secrets. */
  notifyChannels?: string[];
  signal?: AbortSignal;
}

export interface BuiltPlan extends RollbackPlan {
  backups: Backup[];
  target: Backup | null;
}

export function kindOf(req: Pick<RollbackRequest, 'kind' | 'to'>): RollbackKind {
  if (req.kind === 'emergency') return 'emergency';
  return req.to ? 'targeted' : req.kind;
}

/**
 * Build the plan. Problems that make it invalid (no target, unknown backup, unsafe name, target is live,
 * validation failure in a dry run) are in `problems`; the caller decides (dry run: exit 1; real run: a
 * UserError from `assertRunnable`).
 */
export async function buildPlan(ctx: PlanContext, req: RollbackRequest, options: { validate?: boolean } = {}): Promise<BuiltPlan> {
  const { env, store } = ctx;
  const kind = kindOf(req);
  const emergency = kind === 'emergency';
  const problems: string[] = [];
  const warnings: string[] = [];
  const backups = await store.list({ signal: ctx.signal });
  const liveB = backups.find((b) => b.current) ?? null;
  const live = liveB?.name ?? (await store.live({ signal: ctx.signal }).catch(() => null));
  let target: Backup | null = null;

  if (req.to !== undefined) {
    const bad = backupNameProblem(req.to);
    if (bad) problems.push(`invalid backup name ${JSON.stringify(req.to)}: ${bad}`);
    else {
      target = backups.find((b) => b.name === req.to) ?? null;
      if (!target) problems.push(`backup ${JSON.stringify(req.to)} not found in ${backupsDirOf(env)}`);
    }
  } else {
    try {
      target = pickDefaultTarget(backups, live);
      if (!target) problems.push(noTargetReason(backups, live, backupsDirOf(env)));
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (target) {
    if (target.unusable) problems.push(`${target.name} cannot be a rollback target: ${target.unusable}`);
    if (target.marksDamaged) warnings.push(`the marks of ${target.name} are unknown: ${target.marksDamaged}`);
    if (target.name === live || target.current) problems.push(`${target.name} is already live`);
    if (target.bad) warnings.push(`${target.name} is marked bad (a release was rolled back away from it)`);
    if (liveB && olderFirst(target, liveB) > 0) warnings.push(`${target.name} is newer than the live ${liveB.name}: this rolls forward`);
  }
  if (!live) warnings.push('nothing recognisable is live now');
  if (emergency) warnings.push('EMERGENCY: pre-validation, maintenance and health verification will be skipped');
  else if (env.health.length === 0) warnings.push('no health checks are configured: verification will be skipped');

  if (target && problems.length === 0 && options.validate && !emergency) {
    try {
      await store.validateTarget(target.name, { signal: ctx.signal, breakLock: req.breakLock });
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }

  const to = target?.name ?? req.to ?? '(none)';
  const steps = planSteps(env, kind, live, to, ctx.notifyChannels ?? [], store);
  return {
    env: env.name,
    kind,
    from: live,
    to: {
      name: to,
      created: target?.created ?? '',
      knownGood: target?.knownGood ?? false,
      bad: target?.bad ?? false,
    },
    steps,
    warnings,
    problems,
    backups,
    target,
  };
}

function backupsDirOf(env: ResolvedEnvironment): string {
  const t = env.target;
  if (t.strategy === 'container') return `the ${t.engine} containers ${t.name}-*`;
  return t.backups_dir ?? env.state_dir;
}

function planSteps(
  env: ResolvedEnvironment,
  kind: RollbackKind,
  from: string | null,
  to: string,
  channels: string[],
  store: BackupStore,
): PlannedStep[] {
  const emergency = kind === 'emergency';
  const sd = env.state_dir;
  // The plan is shown (dry run, confirmation) and sent (monitor --json): no token or password in it.
  const step = (name: StepName, raw: string[], skipped?: string): PlannedStep => {
    const commands = raw.map((c) => redactSecrets(c, { keepUrlPaths: true }));
    return skipped === undefined ? { name, title: TITLES[name], commands } : { name, title: TITLES[name], commands, skipped };
  };
  let switchCommands: string[];
  try {
    switchCommands = store.describeSwitch(to);
  } catch {
    switchCommands = [`make ${to} live`];
  }
  const checks = store.describeValidate?.(to) ?? ['check the target exists, is a valid backup inside backups_dir and is not live'];
  const validateCommands = [...checks, ...(env.target.validate ?? [])];
  const m = env.maintenance;
  const stop = env.service.stop;
  const start = env.service.start;
  return [
    step('lock', [`create ${sd}/${lockOwnerFile(env.name)} (exclusive)`]),
    step('journal', [`write ${sd}/${journalFile(env.name)}`]),
    step('validate', validateCommands, emergency ? 'emergency: pre-validation skipped' : undefined),
    step('maintenance_on', m ? [m.on] : [], emergency ? 'emergency: no maintenance mode' : m ? undefined : 'no maintenance commands configured'),
    step('stop', stop ? [stop] : [], stop ? undefined : 'no service.stop configured'),
    step('switch', switchCommands),
    step('start', start ? [start] : [], start ? undefined : 'no service.start configured'),
    step(
      'verify',
      env.health.map(checkName),
      emergency ? 'emergency: verification skipped' : env.health.length === 0 ? 'no health checks configured' : undefined,
    ),
    step('maintenance_off', m ? [m.off] : [], emergency ? 'emergency: no maintenance mode' : m ? undefined : 'no maintenance commands configured'),
    step('mark', emergency ? [`mark ${from ?? '(none)'} bad`] : [`mark ${to} known-good (if verified)`, `mark ${from ?? '(none)'} bad`]),
    step('record', [`append ${sd}/history.jsonl`, `write ${sd}/incidents/<time>-${env.name}-<id>.md`]),
    step('notify', channels, channels.length ? undefined : 'no notification channels configured'),
    step('unlock', [`remove ${sd}/${lockOwnerFile(env.name)}`]),
  ];
}

/** The refusal of a rollback decided against a release that is no longer live (nothing was done). */
export function liveChanged(env: string, expected: string | null, live: string | null | undefined): UserError {
  const now = liveText(live);
  return new UserError(`${env}: live changed from ${expected ?? '(nothing recognisable)'} to ${now} since the decision to roll back; nothing was done`, {
    code: 'LIVE_CHANGED',
    hint: `${now} was put live in the meantime (by an operator or a deploy) and is left alone; decide again against what is live now`,
  });
}

function liveText(live: string | null | undefined): string {
  return live === undefined ? 'something that could not be read' : (live ?? '(nothing recognisable)');
}

/** What a run finds now, to compare with what was decided or confirmed (undefined: not looked at). */
export interface PlanNow {
  /** The live release (undefined: it could not be read). */
  from: string | null | undefined;
  /** The target the run would go to now. */
  to?: string;
  /** Whether the confirmed target is marked bad now, or gone. */
  confirmedTarget?: 'bad' | 'gone' | 'unchanged';
}

/**
 * The refusal when a run is no longer what was decided (`expectFrom`: the monitor, the console) or
 * confirmed (`expectFrom` + `expectTo`: the CLI's prompt); null when it still is. Nothing has been
 * done when this is asked.
 */
export function pinnedPlanRefusal(req: Pick<RollbackRequest, 'env' | 'expectFrom' | 'expectTo'>, now: PlanNow): UserError | null {
  const fromMoved = req.expectFrom !== undefined && now.from !== req.expectFrom;
  const expectTo = req.expectTo;
  if (!expectTo) return fromMoved ? liveChanged(req.env, req.expectFrom ?? null, now.from) : null;
  const changes: string[] = [];
  if (fromMoved) changes.push(`live is now ${liveText(now.from)}, not ${req.expectFrom ?? '(nothing recognisable)'}`);
  if (now.confirmedTarget === 'gone') changes.push(`${expectTo.name} is no longer among the backups`);
  if (now.confirmedTarget === 'bad' && !expectTo.bad) changes.push(`${expectTo.name} was marked bad meanwhile`);
  if (now.to !== undefined && now.to !== expectTo.name) changes.push(`the target would now be ${now.to}`);
  if (changes.length === 0) return null;
  const confirmed = `${req.expectFrom ?? '(nothing live)'} -> ${expectTo.name}`;
  return new UserError(`${req.env}: the plan changed since you confirmed: ${changes.join('; ')} (you confirmed ${confirmed}); nothing was done`, {
    code: 'PLAN_CHANGED',
    hint: `look at \`rollback-tui list --env ${req.env}\`, then run the rollback again and confirm what it shows now`,
  });
}

/** Throw the plan's first problem as a UserError (exit 1) with a hint. */
export function assertRunnable(plan: RollbackPlan): void {
  if (plan.problems.length === 0) return;
  throw new UserError(`cannot roll back ${plan.env}: ${plan.problems.join('; ')}`, {
    hint: `run \`rollback-tui list --env ${plan.env}\` to see the backups and their marks`,
    code: plan.problems[0]?.includes('not found')
      ? 'BACKUP_NOT_FOUND'
      : plan.problems[0]?.startsWith('invalid backup name')
        ? 'INVALID_BACKUP_NAME'
        : plan.problems[0]?.startsWith('marks file')
          ? 'MARKS_DAMAGED'
          : 'NO_TARGET',
  });
}

/** The text preview (dry run and confirmation). */
export function formatPlan(plan: RollbackPlan, now = Date.now()): string {
  const lines: string[] = [];
  const age = plan.to.created ? ` (created ${plan.to.created}, ${ageOf(plan.to.created, now)})` : '';
  const marks = [plan.to.knownGood ? 'known-good' : '', plan.to.bad ? 'MARKED BAD' : ''].filter(Boolean).join(', ');
  lines.push(`${plan.kind} rollback of ${plan.env}: ${plan.from ?? '(nothing live)'} -> ${plan.to.name}${age}${marks ? ` [${marks}]` : ''}`);
  for (const w of plan.warnings) lines.push(`  warning: ${w}`);
  for (const p of plan.problems) lines.push(`  problem: ${p}`);
  lines.push('  steps:');
  plan.steps.forEach((s, i) => {
    const n = String(i + 1).padStart(2);
    lines.push(`  ${n}. ${s.name.padEnd(16)}${s.skipped ? `skipped: ${s.skipped}` : s.title}`);
    if (!s.skipped) for (const c of s.commands) lines.push(`        $ ${c}`);
  });
  return lines.join('\n');
}

function ageOf(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return 'age unknown';
  const h = ms / 3_600_000;
  if (h < 1) return `${Math.max(0, Math.round(ms / 60_000))} min old`;
  if (h < 48) return `${Math.round(h)} h old`;
  return `${Math.round(h / 24)} days old`;
}
