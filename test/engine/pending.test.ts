/**
 * Records kept on the operator's side (a state_dir that could not take them), appended later against a
 * real state directory with the local executor: appended once even by two commands at once, only to
 * their own environment's state_dir, and late marks never undo a newer `bad` mark.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedEnvironment } from '../../src/core/config/schema.js';
import { makeEntry } from '../../src/core/engine/history.js';
import { flushPendingRecords, keepPendingRecord, pendingDir, type PendingRecord } from '../../src/core/engine/pending.js';
import { LocalExecutor } from '../../src/core/exec/local.js';
import { MarkStore } from '../../src/core/state/marks.js';
import { StateDir } from '../../src/core/state/state-dir.js';

let root: string;
let savedXdg: string | undefined;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'rtui-pending-'));
  savedXdg = process.env.XDG_STATE_HOME;
  process.env.XDG_STATE_HOME = path.join(root, 'xdg');
});
afterEach(() => {
  if (savedXdg === undefined) delete process.env.XDG_STATE_HOME;
  else process.env.XDG_STATE_HOME = savedXdg;
  rmSync(root, { recursive: true, force: true });
});

function handleFor(envName: string, dir: string) {
  const executor = new LocalExecutor();
  const state = new StateDir(executor, dir);
  return { env: { name: envName } as ResolvedEnvironment, executor, state, marks: new MarkStore(state) };
}

function record(h: ReturnType<typeof handleFor>, over: Partial<PendingRecord> = {}): PendingRecord {
  return {
    env: h.env.name,
    state_dir: h.state.root,
    executor: h.executor.description,
    saved_at: new Date().toISOString(),
    error: 'No space left on device',
    entry: makeEntry({ env: h.env.name, kind: 'standard', initiated_by: 'op@host', from: 'r3', to: 'r2', reason: 'kept' }),
    ...over,
  };
}

const historyOf = (dir: string) =>
  readFileSync(path.join(dir, 'history.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('records kept on the operator side', () => {
  it('two commands at once append a kept record exactly once, with its incident report; the file goes', async () => {
    const h = handleFor('prod', path.join(root, 'state'));
    const rec = record(h, { incident: { name: 'incidents/x-prod.md', text: '# Incident: kept\n' } });
    keepPendingRecord(rec);
    const said: string[] = [];
    const [a, b] = await Promise.all([flushPendingRecords(h, (m) => said.push(m)), flushPendingRecords(h, (m) => said.push(m))]);
    expect([...a, ...b]).toContain(rec.entry.id);
    const hist = historyOf(h.state.root);
    expect(hist).toHaveLength(1);
    expect(hist[0]).toMatchObject({ id: rec.entry.id, from: 'r3', to: 'r2', incident_report: path.join(h.state.root, 'incidents/x-prod.md') });
    expect(readFileSync(path.join(h.state.root, 'incidents/x-prod.md'), 'utf8')).toBe('# Incident: kept\n');
    expect(said.filter((m) => m.startsWith('appended the record'))).toHaveLength(1);
    expect(readdirSync(pendingDir())).toEqual([]);
  });

  it("another environment's, or another state_dir's, record is left alone", async () => {
    const prod = handleFor('prod', path.join(root, 'prod-state'));
    const staging = handleFor('staging', path.join(root, 'staging-state'));
    keepPendingRecord(record(prod));
    await flushPendingRecords(staging, () => {});
    await flushPendingRecords(handleFor('prod', path.join(root, 'elsewhere')), () => {});
    expect(readdirSync(pendingDir())).toHaveLength(1);
    await flushPendingRecords(prod, () => {});
    expect(historyOf(prod.state.root)).toHaveLength(1);
  });

  it('late marks: the release fled becomes bad, but a release marked bad since stays bad', async () => {
    const h = handleFor('prod', path.join(root, 'state'));
    keepPendingRecord(record(h, { marks: { bad: ['r3'], knownGood: ['r2'] } }));
    // Meanwhile someone rolled back away from r2: it is bad now.
    mkdirSync(h.state.root, { recursive: true });
    writeFileSync(path.join(h.state.root, 'marks.json'), JSON.stringify({ known_good: [], bad: ['r2'] }));
    await flushPendingRecords(h, () => {});
    const marks = JSON.parse(readFileSync(path.join(h.state.root, 'marks.json'), 'utf8')) as { known_good: string[]; bad: string[] };
    expect(marks.bad.sort()).toEqual(['r2', 'r3']);
    expect(marks.known_good).toEqual([]);
  });
});
