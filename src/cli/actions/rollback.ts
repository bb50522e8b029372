/**
 * What `rollback-tui rollback` runs (commands/rollback.ts registers it): progress on stderr as the engine's events arrive, a summary at the end,
 * `--json` prints the rollback document (docs/CLI.md) on stdout. Exit codes: 0 done (dry run: the
 * plan is valid), 1 failed, 2 rolled back but verification failed, 3 locked, 64 usage.
 */
import { createInterface } from 'node:readline/promises';
import { openSync, createReadStream, createWriteStream } from 'node:fs';
import { ExitCode, UsageError, UserError } from '../../core/errors.js';
import { assertBackupName, displayName } from '../../core/stores/names.js';
import type { ResolvedEnvironment } from '../../core/config/schema.js';
import {
  Notifier,
  RollbackEngine,
  pendingDir,
  formatPlan,
  healthCheckCommand,
  reportInterrupted,
  type EngineEvent,
  type RollbackKind,
  type RollbackPlan,
  type RollbackRequest,
  type RollbackResult,
} from '../../core/engine/index.js';
import { formatDuration } from '../../core/engine/stats.js';
import { confirmationFor, isConfirmedBy } from '../../core/engine/confirmation.js';
import { isFleet, parseHostsOption, selectHosts } from '../../core/fleet/index.js';
import { runFleetRollbackCommand } from './fleet-rollback.js';
import type { CliContext } from '../context.js';
import { checkRollbackOptions, type RollbackOptions } from '../commands/rollback.js';
import { rollbackInProgress } from '../../core/engine/engine.js';
import { trackRollbacks } from '../in-flight.js';
export type { RollbackOptions };

/**
 * The rollback JSON: exactly these keys when it succeeded; a failure adds `error` (the message on
 * stderr), and `code` and `hint` when the engine gave them.
 */
export function rollbackJson(r: RollbackResult): Record<string, unknown> {
  const failure = r.ok ? {} : { error: r.error ?? 'the rollback failed', ...(r.code !== undefined ? { code: r.code } : {}), ...(r.hint !== undefined ? { hint: r.hint } : {}) };
  return {
    ok: r.ok,
    env: r.env,
    kind: r.kind,
    dry_run: r.dry_run,
    from: r.from,
    to: r.to,
    steps: r.steps.map((s) => ({ name: s.name, status: s.status, ms: s.ms })),
    verification: r.verification,
    duration_ms: r.duration_ms,
    exit_code: r.exit_code,
    ...failure,
  };
}

/** Ask on the terminal; true when confirmed. Reads /dev/tty when stdin is not one. */
async function confirm(ctx: CliContext, env: ResolvedEnvironment, plan: RollbackPlan): Promise<boolean> {
  return askConfirmation(env, plan.kind, `from ${plan.from ?? '(none)'} to ${plan.to.name}`);
}

/**
 * The one prompt of a rollback (one host, or a whole fleet: `route` says what moves where), by the
 * confirmation rule; true when confirmed.
 */
export async function askConfirmation(env: ResolvedEnvironment, kind: RollbackKind, route: string): Promise<boolean> {
  let input: NodeJS.ReadableStream = process.stdin;
  let output: NodeJS.WritableStream = process.stderr;
  let closeTty: (() => void) | undefined;
  if (!process.stdin.isTTY) {
    const fd = openSync('/dev/tty', 'r+');
    const rs = createReadStream('', { fd, autoClose: false });
    const ws = createWriteStream('', { fd, autoClose: false });
    input = rs;
    output = ws;
    closeTty = () => {
      rs.destroy();
      ws.destroy();
    };
  }
  const rl = createInterface({ input, output, terminal: true });
  try {
    const asked = confirmationFor(env, kind);
    const question =
      asked.kind === 'type-name'
        ? `Type the environment name (${env.name}) to roll it back ${route}${asked.why === 'emergency' ? ' WITHOUT verification (emergency)' : ''}: `
        : `Roll back ${env.name} ${route}? [y/N] `;
    return isConfirmedBy(asked, await rl.question(question));
  } finally {
    rl.close();
    closeTty?.();
  }
}

function printer(ctx: CliContext, json: boolean): (e: EngineEvent) => void {
  const c = ctx.color;
  return (e) => {
    switch (e.type) {
      case 'plan':
        if (!json) ctx.log(c.bold(`${e.plan.kind} rollback of ${e.plan.env}: ${e.plan.from === null ? '(nothing live)' : displayName(e.plan.from)} -> ${displayName(e.plan.to.name)}`));
        break;
      case 'step-start':
        ctx.log(`${c.cyan('>')} ${e.step.padEnd(16)}${c.dim(e.title)}`);
        break;
      case 'step-output':
        ctx.log(c.dim(`    | ${e.line}`));
        break;
      case 'step-end':
        if (e.status === 'ok') ctx.log(`${c.green('ok')} ${e.step.padEnd(16)}${e.ms} ms`);
        else if (e.status === 'failed') ctx.log(`${c.red('FAILED')} ${e.step.padEnd(16)}${e.ms} ms: ${e.error ?? ''}`);
        else if (e.status === 'skipped') ctx.log(c.dim(`-  ${e.step.padEnd(16)}skipped${e.error ? `: ${e.error}` : ''}`));
        break;
      case 'warning':
        ctx.warn(e.message);
        break;
      case 'result':
        break;
    }
  };
}

export async function runRollbackCommand(ctx: CliContext, opts: RollbackOptions): Promise<void> {
  trackRollbacks(rollbackInProgress);
  const reason = checkRollbackOptions(opts);
  const { env } = await ctx.resolveEnv(opts);
  if (!opts.dryRun && !opts.yes && !ctx.isTTY) {
    throw new UsageError(`refusing to roll back ${env.name} without confirmation: pass --yes`, `rollback-tui rollback --env ${env.name} --reason "..." --yes`);
  }
  // A hostile or mistyped --to is refused before anything runs, even before the host is reached.
  if (opts.to !== undefined) assertBackupName(opts.to);
  const hosts = parseHostsOption(opts.hosts);
  if (isFleet(env)) {
    const { hosts: _written, ...rest } = opts;
    return runFleetRollbackCommand(ctx, env, { ...rest, reason: reason || '(dry run)', ...(hosts ? { hosts } : {}) });
  }
  if (hosts) selectHosts(env, hosts);
  const handle = await ctx.openEnvironment(env, { closeOnSignal: true });
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) ctx.warn(`${sig} received: finishing the current step safely, then recording the outcome and releasing the lock`);
    else ctx.warn(`${sig} again: still finishing the current step (kill -9 would leave a journal for the next run to report)`);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  const notifier = new Notifier(env.policy.notifications, { onWarning: (m) => ctx.warn(m) });
  try {
    await reportInterrupted(handle, (m) => ctx.warn(m));
    const engine = new RollbackEngine(handle, { version: ctx.version, notifier });
    const req: RollbackRequest = {
      env: env.name,
      kind: opts.emergency ? 'emergency' : opts.to ? 'targeted' : 'standard',
      ...(opts.to !== undefined ? { to: opts.to } : {}),
      reason: reason || '(dry run)',
      trigger: 'manual',
      dryRun: opts.dryRun === true,
      breakLock: opts.breakLock === true,
      signal: controller.signal,
    };

    if (opts.dryRun) {
      let plan: RollbackPlan | undefined;
      const result = await engine.run(req, (e) => {
        if (e.type === 'plan') plan = e.plan;
      });
      if (opts.json) ctx.json(rollbackJson(result));
      else {
        if (plan) ctx.out(`DRY RUN (nothing will change)\n${formatPlan(plan)}`);
        ctx.out(result.ok ? 'the plan is valid' : `the plan is NOT valid: ${plan?.problems.join('; ') ?? result.error ?? ''}`);
      }
      if (!result.ok && result.error && !plan) ctx.log(`rollback-tui: ${result.error}${result.hint ? `\n  try: ${result.hint}` : ''}`);
      ctx.exitCode = result.exit_code;
      return;
    }

    if (!opts.yes) {
      const plan = await engine.plan(req);
      ctx.log(formatPlan(plan));
      if (plan.problems.length) {
        throw new UserError(`cannot roll back ${env.name}: ${plan.problems.join('; ')}`, {
          hint: `run \`rollback-tui list --env ${env.name}\` to see the backups and their marks`,
        });
      }
      if (!(await confirm(ctx, env, plan))) {
        throw new UserError(`rollback of ${env.name} not confirmed: nothing was changed`, { code: 'NOT_CONFIRMED', hint: 'run it again and confirm, or pass --yes' });
      }
      // What was confirmed is what runs: the engine refuses if live moved or the target changed meanwhile.
      req.expectFrom = plan.from;
      req.expectTo = { name: plan.to.name, bad: plan.to.bad };
    }
    // With --yes, an emergency goes ahead even when the state_dir cannot be written (said loudly).
    if (opts.emergency && opts.yes) req.withoutStateDir = true;

    // SIGHUP: the operator's SSH session dropped. Finish the step safely as for SIGTERM, never die
    // mid-switch (Node's default for SIGHUP is to exit at once).
    for (const s of STOP_SIGNALS) process.on(s, onSignal);
    let result = await engine.run(req, printer(ctx, opts.json === true));
    if (result.code === 'STATE_DIR_UNWRITABLE' && opts.emergency && !opts.yes) {
      const plan = await engine.plan(req);
      ctx.log(ctx.color.bold(unguardedWarning(env)));
      if (await confirm(ctx, { ...env, confirm: 'type-name' }, plan)) {
        result = await engine.run({ ...req, withoutStateDir: true }, printer(ctx, opts.json === true));
      }
    }
    for (const s of STOP_SIGNALS) process.off(s, onSignal);

    printSummary(ctx, result);
    if (opts.json) ctx.json(rollbackJson(result));
    ctx.exitCode = result.exit_code;
    // Notifications are off the critical path: the rollback is over; give pending sends a bounded time.
    const left = await notifier.drain(env.policy.notifications.timeout_seconds * 1000);
    if (left > 0) ctx.warn(`${left} notification(s) were still pending and were given up`);
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    await handle.close();
  }
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** What an emergency without the state_dir gives up, said before the operator confirms it. */
function unguardedWarning(env: ResolvedEnvironment): string {
  return [
    `The state_dir ${env.state_dir} cannot be written (full or read-only): nothing was changed yet.`,
    'An emergency rollback can still go ahead, but without:',
    '  - the lock: another rollback or a deploy running now is not kept out;',
    '  - the journal: if this process dies, the next command cannot say what state it left;',
    `  - the history entry, incident report and marks in ${env.state_dir}: they are kept in ${pendingDir()}`,
    `    on this machine, and the next command for ${env.name} that can write them appends them.`,
    `To go ahead anyway, type the environment's name; anything else changes nothing.`,
  ].join('\n');
}

function printSummary(ctx: CliContext, r: RollbackResult): void {
  const c = ctx.color;
  const took = formatDuration(r.duration_ms);
  // The live release's name came from a directory listing: shown escaped when it has unsafe characters.
  const fromTo = `from ${r.from === null ? '(none)' : displayName(r.from)} to ${displayName(r.to)}`;
  if (r.kind === 'emergency' && r.steps.some((s) => s.name === 'switch' && s.status === 'ok')) {
    ctx.log(c.bgYellow.black.bold(' EMERGENCY ROLLBACK: VERIFICATION WAS SKIPPED '));
    ctx.log(c.yellow(`  ${displayName(r.to)} is live but nobody checked it is healthy: run ${healthCheckCommand(r.env)} now`));
  }
  if (r.ok) {
    ctx.log(c.green(`rolled back ${r.env} ${fromTo} in ${took} (verification ${r.verification})`));
  } else if (r.exit_code === ExitCode.VERIFICATION_FAILED) {
    ctx.log(c.red(`rolled back ${r.env} ${fromTo} in ${took}, but VERIFICATION FAILED`));
  }
  if (r.unguarded) {
    ctx.log(c.bgYellow.black.bold(' EMERGENCY WITHOUT THE STATE DIR: NO LOCK, NO JOURNAL '));
    ctx.log(c.yellow(`  ${r.env} ran without the lock and journal: its state_dir could not be written`));
  }
  if (r.record_kept) {
    ctx.log(c.bgYellow.black.bold(' THE ROLLBACK HAPPENED, BUT ITS RECORD COULD NOT BE WRITTEN '));
    ctx.log(c.yellow(`  ${r.record_kept.error}`));
    ctx.log(
      c.yellow(
        r.record_kept.kept_in
          ? `  kept in ${r.record_kept.kept_in}: the next command for ${r.env} that can write it appends it to the history`
          : '  it could not be kept on this machine either: the warnings above give the history line to append by hand',
      ),
    );
  }
  if (r.incident_report) ctx.log(`incident report: ${r.incident_report}`);
  if (!r.ok && r.error) {
    ctx.log(c.red(`rollback-tui: ${r.error}`));
    if (r.hint) ctx.log(`  try: ${r.hint}`);
  }
}
