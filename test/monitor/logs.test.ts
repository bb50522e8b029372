/**
 * The log tail behind the `log_errors` trigger, on real files and real commands: only lines new since
 * the last read count, the first read only positions, rotation and partial lines are handled, and a
 * failing source is an inconclusive read (an error), never zero errors.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/core/exec/local.js';
import { LogTail, newLines } from '../../src/core/monitor/sources/logs.js';

const ex = new LocalExecutor();
const PATTERNS = ['^ERROR ', '^FATAL '];
let dir: string;
let log: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-logs-'));
  log = path.join(dir, 'app.log');
  writeFileSync(log, 'ERROR before the monitor started\nINFO up\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

describe('newLines', () => {
  it('returns what follows the longest overlap with the previous output', () => {
    expect(newLines(['a', 'b', 'c'], ['b', 'c', 'd', 'e'])).toEqual(['d', 'e']);
    expect(newLines(['a', 'b'], ['a', 'b'])).toEqual([]);
    expect(newLines(['x', 'a', 'x'], ['a', 'x', 'x'])).toEqual(['x']);
    // No overlap: the window scrolled past everything seen, all of it is new.
    expect(newLines(['a'], ['b', 'c'])).toEqual(['b', 'c']);
  });
});

describe('LogTail on logs.file', () => {
  it('counts only new matching lines, waits for a partial line, and reads a rotated file from the start', async () => {
    const tail = new LogTail({ file: log, lines: 50 }, PATTERNS, ex, 5000);
    expect(await tail.read()).toEqual({ ok: true, count: 0, lines: [] });
    appendFileSync(log, 'ERROR one\nINFO fine\nFATAL two\nERROR thr');
    expect(await tail.read()).toEqual({ ok: true, count: 2, lines: ['ERROR one', 'FATAL two'] });
    appendFileSync(log, 'ee\n');
    expect(await tail.read()).toEqual({ ok: true, count: 1, lines: ['ERROR three'] });
    expect(await tail.read()).toEqual({ ok: true, count: 0, lines: [] });
    // logrotate (copytruncate): the file shrank, read it from its new start.
    writeFileSync(log, 'ERROR after rotation\n');
    expect(await tail.read()).toEqual({ ok: true, count: 1, lines: ['ERROR after rotation'] });
  });

  it('a missing file is an error naming it, not zero errors', async () => {
    const missing = path.join(dir, 'nope.log');
    const r = await new LogTail({ file: missing, lines: 50 }, PATTERNS, ex, 5000).read();
    expect(r).toEqual({ ok: false, error: `logs.file: no such file: ${missing}` });
  });
});

describe('LogTail on logs.command', () => {
  it('counts the lines new since the previous output of a recent-lines command (journalctl -n style)', async () => {
    const tail = new LogTail({ command: `tail -n 4 ${q(log)}`, lines: 50 }, PATTERNS, ex, 5000);
    expect(await tail.read()).toEqual({ ok: true, count: 0, lines: [] });
    expect(await tail.read()).toEqual({ ok: true, count: 0, lines: [] });
    appendFileSync(log, 'ERROR one\nINFO fine\n');
    expect(await tail.read()).toEqual({ ok: true, count: 1, lines: ['ERROR one'] });
    appendFileSync(log, 'FATAL two\n');
    expect(await tail.read()).toEqual({ ok: true, count: 1, lines: ['FATAL two'] });
    expect(await tail.read()).toEqual({ ok: true, count: 0, lines: [] });
  });

  it('a failing command is an error with its exit code and last stderr line', async () => {
    const r = await new LogTail({ command: 'echo "journal unavailable" >&2; exit 3', lines: 50 }, PATTERNS, ex, 5000).read();
    expect(r).toEqual({ ok: false, error: 'logs.command: exit 3: journal unavailable' });
  });

  it('a hanging command times out', async () => {
    const r = await new LogTail({ command: 'sleep 30', lines: 50 }, PATTERNS, ex, 300).read();
    expect(r).toEqual({ ok: false, error: 'logs.command: timed out after 300 ms' });
  });
});
