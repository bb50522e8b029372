/**
 * Appends to the history log from many processes at once never interleave: 16 real writer processes
 * each append entries of 1 MB (through the built product, the local executor and a real state dir),
 * and every line of the file parses afterwards.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { APPEND_HISTORY_FUNCTION, HISTORY_ENTRY_MAX_BYTES, historyLine, makeEntry, readHistoryFrom } from '../../src/core/engine/history.js';
import { LocalExecutor } from '../../src/core/exec/local.js';
import { appendEntryHere } from '../../src/core/state/local-files.js';
import { repo } from './fixture.js';

const WRITERS = 16;
const PER_WRITER = 3;

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

/**
 * `first` as the file's one whole line, then another writer's `line` arriving piece by piece (a large
 * write is copied in page by page, and the size grows with it), its newline last. Returns a stop.
 */
function growLine(file: string, first: string, line: string): () => void {
  writeFileSync(file, `${first}\n${line.slice(0, 10)}`);
  let sent = 10;
  const growing = setInterval(() => {
    const piece = sent < line.length ? line.slice(sent, sent + 4) : '\n';
    appendFileSync(file, piece);
    sent += 4;
    if (piece === '\n') clearInterval(growing);
  }, 10);
  return () => clearInterval(growing);
}

function writer(stateDir: string, id: number): Promise<number | null> {
  const dist = (p: string) => JSON.stringify(pathToFileURL(path.join(repo, 'dist', p)).href);
  const program = `
import { LocalExecutor } from ${dist('core/exec/index.js')};
import { StateDir } from ${dist('core/state/state-dir.js')};
import { appendHistoryTo, makeEntry } from ${dist('core/engine/history.js')};
const ex = new LocalExecutor();
const state = new StateDir(ex, ${JSON.stringify(stateDir)});
for (let i = 0; i < ${PER_WRITER}; i++) {
  const big = '${String.fromCharCode(97 + id)}'.repeat(1 << 20);
  await appendHistoryTo(state, ex, makeEntry({ env: 'prod', kind: 'standard', initiated_by: 'writer-${id}', reason: big,
    steps: [{ name: 'start', status: 'failed', ms: 1, error: big }] }));
}
await ex.close();
`;
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--input-type=module', '-e', program], { stdio: ['ignore', 'ignore', 'inherit'] });
    c.on('close', (code) => resolve(code));
  });
}

describe('history appends', () => {
  it('16 concurrent writers of 1 MB entries: every line parses, none is lost', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-append-'));
    const codes = await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(dir, i)));
    expect(codes).toEqual(Array(WRITERS).fill(0));
    const text = readFileSync(path.join(dir, 'history.jsonl'), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines).toHaveLength(WRITERS * PER_WRITER);
    const entries = lines.map((l) => JSON.parse(l) as { initiated_by: string; reason: string });
    for (let i = 0; i < WRITERS; i++) expect(entries.filter((e) => e.initiated_by === `writer-${i}`)).toHaveLength(PER_WRITER);
    for (const e of entries) expect(e.reason).toMatch(/^(.)\1*\.\.\. \[truncated: 1048576 characters in all\]$/);
    // No writer took another's append in progress for a torn line.
    expect(readdirSync(dir).filter((n) => n.startsWith('history.torn.'))).toEqual([]);
  });

  // In-process on this machine, and the sh function that appends on a host over SSH.
  const appenders: Array<[string, (file: string, line: string) => Promise<unknown>]> = [
    ['in-process', appendEntryHere],
    ['append_history (sh)', (file, line) => new LocalExecutor().script(`${APPEND_HISTORY_FUNCTION}append_history "$1" "$2"`, [file, line], { timeoutMs: 60_000 })],
  ];
  it.each(appenders)('%s: an append still being written by another process is waited for, never set aside as a torn line', async (_name, append) => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-append-'));
    const file = path.join(dir, 'history.jsonl');
    const first = JSON.stringify({ id: 'rb-first', timestamp: '2024-11-12T10:00:00Z' });
    const other = JSON.stringify({ id: 'rb-other', reason: 'x'.repeat(60) });
    const stop = growLine(file, first, other);
    try {
      await append(file, '{"id":"rb-mine"}');
    } finally {
      stop();
    }
    expect(readFileSync(file, 'utf8')).toBe(`${first}\n${other}\n{"id":"rb-mine"}\n`);
    expect(readdirSync(dir).filter((n) => n.startsWith('history.torn.'))).toEqual([]);
  });

  it('a reader while another append is still being written waits for it: no torn warning, no fragment set aside', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-read-'));
    const file = path.join(dir, 'history.jsonl');
    const first = JSON.stringify(makeEntry({ env: 'prod', kind: 'standard', initiated_by: 'a', reason: 'first' }));
    const other = JSON.stringify(makeEntry({ env: 'prod', kind: 'standard', initiated_by: 'b', reason: 'x'.repeat(60) }));
    const stop = growLine(file, first, other);
    try {
      const r = await readHistoryFrom({ path: (name: string) => path.join(dir, name) }, new LocalExecutor(), { limit: 10 });
      expect(r.warnings).toEqual([]);
      expect(r.entries.map((e) => e.reason)).toEqual(['x'.repeat(60), 'first']);
    } finally {
      stop();
    }
    expect(readdirSync(dir).filter((n) => n.startsWith('history.torn.'))).toEqual([]);
  });

  it('an entry is capped: long free text is cut with a marker; the fields every reader needs stay', () => {
    const entry = makeEntry({
      env: 'prod',
      kind: 'standard',
      initiated_by: 'alice@bastion',
      reason: 'r'.repeat(200_000),
      explanation: 'e'.repeat(200_000),
      error: 'x'.repeat(200_000),
      steps: Array.from({ length: 13 }, () => ({ name: 'verify' as const, status: 'failed' as const, ms: 5, error: 's'.repeat(50_000) })),
    });
    const line = historyLine(entry);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(HISTORY_ENTRY_MAX_BYTES);
    const back = JSON.parse(line) as typeof entry;
    expect(back).toMatchObject({ id: entry.id, env: 'prod', kind: 'standard', success: true, initiated_by: 'alice@bastion' });
    expect(back.reason).toMatch(/^r+\.\.\. \[truncated: 200000 characters in all\]$/);
    expect(back.steps).toHaveLength(13);
    const small = makeEntry({ env: 'prod', kind: 'standard', initiated_by: 'a', reason: 'short' });
    expect(historyLine(small)).toBe(JSON.stringify(small));
  });
});
