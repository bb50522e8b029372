/**
 * The demo environment's past: a few realistic rollbacks in its history log, each with the incident
 * report the engine writes, and the marks they left (v2 known-good, v1 bad), so every panel of the
 * console has content from the first frame.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { HISTORY_FILE } from '../core/engine/history.js';
import { formatIncident, incidentFileName, type TimelineItem } from '../core/engine/incident.js';
import { STEP_ORDER } from '../core/engine/plan.js';
import type { HistoryEntry, StepName, StepResult } from '../core/engine/types.js';
import { MARKS_FILE, serializeMarks } from '../core/state/marks.js';
import { formatBackupName } from '../core/stores/names.js';

export const DAY = 86_400_000;

const EMERGENCY_SKIPS: readonly StepName[] = ['validate', 'maintenance_on', 'verify', 'maintenance_off'];

function steps(kind: 'standard' | 'emergency', ms: Record<string, number>, verifyFailed = false): StepResult[] {
  // Seeded history uses the engine's own step order; emergency skips what it always skips.
  const names = kind === 'emergency' ? STEP_ORDER.filter((n) => !EMERGENCY_SKIPS.includes(n)) : STEP_ORDER;
  return names.map((name) => {
    if (verifyFailed && name === 'verify') return { name, status: 'failed', ms: ms[name] ?? 0, error: 'health checks did not pass within 20 s' };
    if (verifyFailed && (name === 'maintenance_off' || name === 'mark')) return { name, status: 'skipped', ms: 0 };
    return { name, status: 'ok', ms: ms[name] ?? 3 };
  });
}

/** Past rollbacks of the demo environment (newest last, as the log is appended), with incident reports. */
export function seedHistory(stateDir: string, nowMs: number, names: string[]): void {
  const now = Math.floor(nowMs / 1000) * 1000;
  const [v1, v2] = names as [string, string, string, string];
  const user = 'alice@ops-bastion from 10.20.0.14';
  const pruned = (ageMs: number): string => formatBackupName(new Date(now - ageMs));
  const entries: HistoryEntry[] = [
    {
      id: randomUUID(),
      timestamp: new Date(now - 9 * DAY).toISOString(),
      env: 'demo',
      kind: 'standard',
      trigger: 'error_rate',
      from: v1,
      to: pruned(14 * DAY),
      reason: 'automatic: error_rate breached',
      initiated_by: 'rollback-monitor@ops-bastion',
      success: true,
      verification: 'passed',
      duration_ms: 7412,
      steps: steps('standard', { stop: 812, switch: 6, start: 640, verify: 5120, notify: 230 }),
      error: null,
      explanation: 'error rate 14.2/min > 6.0/min (baseline 0.4/min x 2, floor 6/min) for 15 s',
    },
    {
      id: randomUUID(),
      timestamp: new Date(now - 5 * DAY).toISOString(),
      env: 'demo',
      kind: 'standard',
      trigger: 'manual',
      from: pruned(5 * DAY + 3_600_000),
      to: v2,
      reason: 'INC-2291: checkout returns 502 after deploy',
      initiated_by: user,
      success: false,
      verification: 'failed',
      duration_ms: 23_918,
      steps: steps('standard', { stop: 790, switch: 5, start: 701, verify: 20_004, notify: 210 }, true),
      error: 'verification failed: http://127.0.0.1/health answered 503 for 20 s (database was down, not the release)',
    },
    {
      id: randomUUID(),
      timestamp: new Date(now - 5 * DAY + 25 * 60_000).toISOString(),
      env: 'demo',
      kind: 'emergency',
      trigger: 'manual',
      from: pruned(5 * DAY + 3_600_000),
      to: v2,
      reason: 'INC-2291: database back, restore v2 now',
      initiated_by: user,
      success: true,
      verification: 'skipped',
      duration_ms: 1_304,
      steps: steps('emergency', { switch: 4, start: 655, notify: 190 }),
      error: null,
    },
    {
      id: randomUUID(),
      timestamp: new Date(now - 3 * DAY).toISOString(),
      env: 'demo',
      kind: 'targeted',
      trigger: 'manual',
      from: pruned(3 * DAY + 1_800_000),
      to: v2,
      reason: 'p95 latency doubled after deploy; skip straight to v2 (known good)',
      initiated_by: 'bob@ops-bastion',
      success: true,
      verification: 'passed',
      duration_ms: 6_877,
      steps: steps('standard', { stop: 801, switch: 7, start: 612, verify: 4_980, notify: 240 }),
      error: null,
    },
  ];
  for (const e of entries) {
    const rel = incidentFileName(e);
    e.incident_report = path.join(stateDir, rel);
    fs.mkdirSync(path.dirname(e.incident_report), { recursive: true });
    fs.writeFileSync(e.incident_report, pastIncident(e));
  }
  fs.writeFileSync(path.join(stateDir, HISTORY_FILE), entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
}

/**
 * The report a past rollback would have left, written by the engine's own incident formatter: a
 * timeline rebuilt from the steps' timings; no changes or log lines are kept for these seeded entries.
 */
function pastIncident(e: HistoryEntry): string {
  const timeline: TimelineItem[] = [{ at: Date.parse(e.timestamp), text: `rollback requested by ${e.initiated_by}: ${e.reason}` }];
  let at = Date.parse(e.timestamp);
  for (const s of e.steps) {
    at += s.ms;
    if (s.status !== 'skipped') timeline.push({ at, text: `${s.name} ${s.status === 'ok' ? 'done' : s.status}${s.error ? `: ${s.error}` : ''}` });
  }
  return formatIncident({
    entry: e,
    timeline,
    changes: 'not kept for this past rollback (seeded by the demo)',
    logs: 'not kept for this past rollback (seeded by the demo)',
    warnings: [],
    nextSteps: ['Root cause analysis assigned to the release owner; redeploy only with a fix and a test.'],
  });
}

/** Marks as the symlink store keeps them in state_dir (v2 known-good, v1 bad: it was rolled back from). */
export function seedMarks(stateDir: string, names: string[]): void {
  const [v1, v2] = names as [string, string];
  fs.writeFileSync(path.join(stateDir, MARKS_FILE), serializeMarks({ knownGood: [v2], bad: [v1] }));
}

