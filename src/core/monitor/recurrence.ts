/**
 * The automatic rollbacks of an environment, remembered in `<state_dir>/auto-rollbacks.json` (through
 * the state dir, so over SSH too, and across restarts of the monitor), and what they mean for the next
 * breach. A rollback that verified fine only proves the older release starts; if the same trigger
 * breaches again on it soon after, the older release is unhealthy too: the cause is not the release (a
 * shared database, a dependency, load) and rolling back further would only mark every release bad. The
 * monitor escalates instead: when the previous releases are also unhealthy, it stops rolling back.
 *
 * Windows come from the policy, no extra key:
 * - recurrence: the restored release is "also unhealthy" when the same trigger breaches on it within
 *   baseline_window_minutes + 2 x that trigger's window_minutes of the rollback (time to re-baseline,
 *   then two full windows of the trigger);
 * - budget: at most max_rollback_attempts automatic rollbacks within baseline_window_minutes + 2 x the
 *   longest trigger window, whatever the triggers (verification-failure attempts included).
 */
import type { Policy } from '../config/schema.js';
import type { BaselineStateDir } from './baseline.js';
import { fmtWindow } from './stats.js';
import { TRIGGER_NAMES, type MonitorTriggerName } from './triggers.js';

export const AUTO_ROLLBACKS_FILE = 'auto-rollbacks.json';
/** Records kept per environment at most (older ones are outside every window anyway). */
const KEEP = 50;

export interface AutoRollbackRecord {
  env: string;
  /** ISO time the rollback finished. */
  at: string;
  trigger: string;
  from: string | null;
  to: string;
  verification: string;
}

function triggerWindowMinutes(policy: Policy, trigger: string): number {
  const own = (TRIGGER_NAMES as readonly string[]).includes(trigger) ? policy.triggers[trigger as MonitorTriggerName] : undefined;
  if (own) return own.window_minutes;
  let longest = 0;
  for (const name of TRIGGER_NAMES) {
    const t = policy.triggers[name];
    if (t?.enabled) longest = Math.max(longest, t.window_minutes);
  }
  return longest;
}

/** How long after an automatic rollback the same trigger breaching again means "also unhealthy". */
export function recurrenceWindowMs(policy: Policy, trigger: string): number {
  return (policy.monitoring.baseline_window_minutes + 2 * triggerWindowMinutes(policy, trigger)) * 60_000;
}

/** The window in which at most max_rollback_attempts automatic rollbacks happen. */
export function budgetWindowMs(policy: Policy): number {
  return recurrenceWindowMs(policy, '');
}

export type BreachVerdict =
  | { kind: 'act'; attempts: number }
  | { kind: 'recurred'; last: AutoRollbackRecord; message: string }
  | { kind: 'limit'; recent: AutoRollbackRecord[]; message: string };

/**
 * What to do about `trigger` breaching on `live` at `now`, given the environment's automatic rollbacks:
 * roll back (with how many attempts are left in the budget), or escalate because the release an
 * automatic rollback restored breaches the same way again, or because the budget is spent.
 */
export function assessBreach(
  records: readonly AutoRollbackRecord[],
  o: { env: string; live: string; trigger: string; now: number; policy: Policy },
): BreachVerdict {
  const mine = records.filter((r) => r.env === o.env && Number.isFinite(Date.parse(r.at))).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const last = mine[mine.length - 1];
  const within = recurrenceWindowMs(o.policy, o.trigger);
  if (last && last.to === o.live && last.trigger === o.trigger && o.now - Date.parse(last.at) <= within) {
    const ago = fmtWindow(Math.max(0, o.now - Date.parse(last.at)));
    return {
      kind: 'recurred',
      last,
      message: `${o.trigger} breached again on ${o.live} ${ago} after the automatic rollback from ${last.from ?? 'none'} (within ${fmtWindow(within)}): the older release is unhealthy too`,
    };
  }
  const budgetMs = budgetWindowMs(o.policy);
  const recent = mine.filter((r) => o.now - Date.parse(r.at) <= budgetMs);
  const max = o.policy.rollback.max_rollback_attempts;
  if (recent.length >= max) {
    return {
      kind: 'limit',
      recent,
      message: `${recent.length} automatic rollback${recent.length === 1 ? '' : 's'} within ${fmtWindow(budgetMs)} (${recent.map((r) => `${r.from ?? 'none'} -> ${r.to}`).join(', ')}) reach max_rollback_attempts ${max}, and ${o.trigger} is breached on ${o.live}`,
    };
  }
  return { kind: 'act', attempts: max - recent.length };
}

function parseRecords(text: string | null): AutoRollbackRecord[] {
  if (text === null) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return [];
  }
  const list = (raw as { rollbacks?: unknown } | null)?.rollbacks;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (r): r is AutoRollbackRecord =>
      !!r && typeof r === 'object' && typeof (r as AutoRollbackRecord).env === 'string' && typeof (r as AutoRollbackRecord).at === 'string' && typeof (r as AutoRollbackRecord).to === 'string' && typeof (r as AutoRollbackRecord).trigger === 'string',
  );
}

/**
 * The file, plus what this process recorded and could not save (kept in memory, still counted).
 * `load` throws when the state dir cannot be read (SSH down): the caller must not act then.
 */
export class AutoRollbackLog {
  private readonly unsaved: AutoRollbackRecord[] = [];

  constructor(private readonly state: BaselineStateDir) {}

  async load(): Promise<AutoRollbackRecord[]> {
    const stored = parseRecords(await this.state.read(AUTO_ROLLBACKS_FILE));
    const key = (r: AutoRollbackRecord) => `${r.env}|${r.at}|${r.to}`;
    const seen = new Set(stored.map(key));
    return [...stored, ...this.unsaved.filter((r) => !seen.has(key(r)))];
  }

  /** Add a record (atomic rewrite, at most KEEP per environment). Throws when it cannot be saved. */
  async append(record: AutoRollbackRecord): Promise<void> {
    this.unsaved.push(record);
    const all = [...(await this.load()).filter((r) => r !== record), record];
    const keep = all.filter((r) => r.env !== record.env).concat(all.filter((r) => r.env === record.env).slice(-KEEP));
    await this.state.writeAtomic(AUTO_ROLLBACKS_FILE, `${JSON.stringify({ rollbacks: keep }, null, 2)}\n`);
    this.unsaved.length = 0;
  }
}
