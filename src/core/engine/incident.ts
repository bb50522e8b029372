/**
 * The incident report written after every real rollback: `state_dir/incidents/<time>-<env>-<id>.md`, modelled
 * as a post-mortem (who, why, trigger and its explanation, a timeline with each step's timing,
 * from/to, verification, the changes between the releases, the last lines of the service's logs).
 */
import type { ResolvedEnvironment } from '../config/schema.js';
import type { Executor } from '../exec/types.js';
import type { BackupStore } from '../stores/types.js';
import { redactSecrets } from './notify.js';
import type { HistoryEntry, StepResult } from './types.js';

export interface TimelineItem {
  /** Epoch ms. */
  at: number;
  text: string;
}

export interface IncidentInput {
  entry: HistoryEntry;
  timeline: TimelineItem[];
  verificationDetail?: string;
  changes: string[] | string;
  logs: string[] | string;
  warnings: string[];
  /** The hint given to the operator when verification failed. */
  nextSteps?: string[];
}

/**
 * `incidents/2024-11-12T15-30-45Z-prod-rb-20241112T153045-1b2c3d4e.md`: readable (time, environment),
 * unique (the operation id: two rollbacks within one second never overwrite each other's report).
 */
export function incidentFileName(entry: Pick<HistoryEntry, 'timestamp' | 'env' | 'id'>): string {
  const id = entry.id.replace(/[^A-Za-z0-9._@+-]/g, '_');
  return `incidents/${entry.timestamp.replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z')}-${entry.env}-${id}.md`;
}

function hhmmss(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function stepLine(s: StepResult): string {
  const icon = s.status === 'ok' ? 'ok' : s.status === 'failed' ? 'FAILED' : s.status;
  return `| ${s.name} | ${icon} | ${s.ms} | ${s.error ? s.error.replace(/\|/g, '\\|').replace(/\n/g, ' ') : ''} |`;
}

function fence(lines: string[] | string): string {
  const body = Array.isArray(lines) ? lines.join('\n') : lines;
  return ['```', body.replace(/```/g, "'''"), '```'].join('\n');
}

export function formatIncident(input: IncidentInput): string {
  const e = input.entry;
  const outcome = e.success ? (e.verification === 'skipped' ? 'rolled back (verification skipped)' : 'rolled back and verified') : e.verification === 'failed' ? 'rolled back, VERIFICATION FAILED' : 'FAILED';
  const lines: string[] = [];
  lines.push(`# Incident: rollback of ${e.env} from ${e.from ?? '(none)'} to ${e.to ?? '(none)'}`);
  lines.push('');
  lines.push(`- **When:** ${e.timestamp}`);
  lines.push(`- **Outcome:** ${outcome}`);
  lines.push(`- **Kind:** ${e.kind}`);
  lines.push(`- **Trigger:** ${e.trigger}${e.explanation ? ` (${e.explanation})` : ''}`);
  lines.push(`- **Initiated by:** ${e.initiated_by}`);
  lines.push(`- **Reason:** ${e.reason.replace(/\n/g, ' ')}`);
  lines.push(`- **From (rolled back away from, now marked bad):** ${e.from ?? '(none)'}`);
  lines.push(`- **To (restored):** ${e.to ?? '(none)'}`);
  lines.push(`- **Verification:** ${e.verification}${input.verificationDetail ? `: ${input.verificationDetail}` : ''}`);
  lines.push(`- **Duration:** ${e.duration_ms} ms`);
  lines.push(`- **Operation id:** ${e.id}`);
  if (e.error) lines.push(`- **Error:** ${e.error}`);
  lines.push('');
  lines.push('## Timeline (UTC)', '');
  for (const t of input.timeline) lines.push(`- ${hhmmss(t.at)} ${t.text}`);
  lines.push('');
  lines.push('## Steps', '', '| step | status | ms | detail |', '|---|---|---|---|');
  for (const s of e.steps) lines.push(stepLine(s));
  lines.push('');
  lines.push(`## Changes between ${e.from ?? '(none)'} and ${e.to ?? '(none)'}`, '');
  if (typeof input.changes === 'string') lines.push(`_${input.changes}_`);
  else if (input.changes.length === 0) lines.push('_no differences found_');
  else lines.push(fence(input.changes));
  lines.push('');
  lines.push('## Last log lines', '');
  if (typeof input.logs === 'string') lines.push(`_${input.logs}_`);
  else lines.push(fence(input.logs));
  if (input.warnings.length) {
    lines.push('', '## Warnings', '');
    for (const w of input.warnings) lines.push(`- ${w}`);
  }
  lines.push('', '## Next steps', '');
  const next =
    input.nextSteps ??
    (e.success
      ? ['Analyse the root cause of the release rolled back away from (the changes and logs above).', 'Fix it and redeploy when ready.']
      : ['The restored release is live but not healthy: check the service logs and the health checks.', 'Maintenance mode (if configured) stays on until resolved.']);
  for (const n of next) lines.push(`1. ${n}`);
  lines.push('');
  return redactSecrets(lines.join('\n'));
}

/** The last lines of the configured log source (`logs.command` or `logs.file`), or why there are none. */
export async function collectLogs(env: ResolvedEnvironment, executor: Executor): Promise<string[] | string> {
  const logs = env.logs;
  if (!logs || (!logs.command && !logs.file)) return 'no log source configured (logs.command or logs.file)';
  const n = logs.lines ?? 50;
  try {
    const r = logs.command
      ? await executor.shell(logs.command, { timeoutMs: 10_000 })
      : await executor.script(`tail -n ${Number(n)} -- "$1"`, [logs.file!], { timeoutMs: 10_000 });
    const out = r.stdout.split('\n');
    if (out.at(-1) === '') out.pop();
    if (r.exitCode !== 0 && out.length === 0) return `the log source failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').pop() ?? ''}`;
    return out.slice(-n);
  } catch (err) {
    return `could not read logs: ${(err as Error).message}`;
  }
}

export async function collectChanges(store: BackupStore, from: string | null, to: string | null): Promise<string[] | string> {
  if (!from || !to) return 'unknown (no previous release)';
  try {
    return await store.changes(from, to);
  } catch (err) {
    return `could not compute the changes: ${(err as Error).message}`;
  }
}
