/**
 * `rollback-tui demo` end to end in a real pseudo-terminal (a private tmux server, `-L`): the built bin
 * creates the sandbox, the console shows the demo environment, the leaking release trips the memory
 * trigger and the automatic rollback happens (on disk, then on screen), and `q` stops the service and
 * removes the sandbox. The policy is scaled down with --speed; everything is polled, nothing sleeps.
 *
 * Robust under load (the suite runs it beside the benchmark on 2 cores): every wait looks for what the
 * screen shows in every later stage too (the header and the Backups panel; the result banner stays until
 * Esc), never for a moment that can pass between two polls; deadlines are generous; a rollback by any
 * other trigger fails at once; and every failure carries the screen and the sandbox's state.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../src/core/engine/types.js';
import { historyUnder, liveUnder, paneText, sandboxState, until } from './e2e-helpers.js';
import { shQuote as q } from '../../src/core/exec/quote.js';
import { hasTmux, killTmux, tmuxOn } from '../helpers/tmux.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const BIN = path.join(ROOT, 'bin', 'rollback-tui.js');
const socket = `rtui-demo-test-${process.pid}`;
const tmux = tmuxOn(socket);
const screen = (): string => paneText(tmux);
const history = historyUnder;

describe.skipIf(!hasTmux)('rollback-tui demo in a pseudo-terminal', () => {
  const parent = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'rtui-demo-e2e-')));
  afterAll(async () => {
    await killTmux(socket);
    // If the test failed half-way, stop a service the demo left behind, then remove everything.
    for (const d of fs.readdirSync(parent)) {
      const pid = path.join(parent, d, 'run', 'service.pid');
      if (fs.existsSync(pid)) execFileSync(process.execPath, [path.join(ROOT, 'demo', 'service.mjs'), '--stop', '--pid-file', pid]);
    }
    fs.rmSync(parent, { recursive: true, force: true });
  });

  it('shows the demo environment, rolls back the leaking release automatically, and cleans up on q', async () => {
    // The sandbox goes into a private TMPDIR so the test can find it and see it removed.
    const command = `env TMPDIR=${q(parent)} ${q(process.execPath)} ${q(BIN)} demo --speed 0.5; echo DEMO-EXITED $?; sleep 600`;
    tmux('-f', '/dev/null', 'new-session', '-d', '-x', '120', '-y', '40', command);
    const onScreen = (): string => `screen:\n${screen()}`;

    const sandboxName = (): string | undefined => fs.readdirSync(parent).find((n) => n.startsWith('rollback-tui-demo-'));
    const dir = (): string => path.join(parent, sandboxName() ?? '(no sandbox yet)');
    // The config is written after the releases and the seeded history: from then on both are complete.
    await until(() => sandboxName() !== undefined && fs.existsSync(path.join(dir(), 'rollback-config.yml')), 'the sandbox', 120_000, onScreen);
    const sandbox = dir();
    const context = (): string => `${onScreen()}\n${sandboxState(sandbox)}`;
    const [, , v3, v4] = fs.readdirSync(path.join(sandbox, 'releases')).sort() as [string, string, string, string];
    const seeded = history(sandbox).length;

    // The console is up on the demo environment: its header, armed automation and the Backups panel
    // with the sick release, which every later stage shows too (the countdown, the progress, the result).
    await until(
      () => {
        const s = screen();
        return /DEMO/.test(s) && /ARMED/.test(s) && /Backups/.test(s) && s.includes(v4);
      },
      'the console on the demo environment',
      180_000,
      context,
    );

    // The memory trigger fires and the monitor rolls back to v3: on disk. Any other new entry (another
    // trigger, another release) is a wrong story: fail at once, not at the deadline.
    const expected = (h: HistoryEntry): boolean => h.trigger === 'memory' && h.from === v4 && h.to === v3 && h.success;
    await until(
      () => {
        const fresh = history(sandbox).slice(seeded);
        const wrong = fresh.find((h) => !expected(h));
        if (wrong) throw new Error(`an unexpected rollback: ${wrong.trigger} ${wrong.from} -> ${wrong.to} (${wrong.success ? 'ok' : wrong.error}): ${wrong.explanation ?? wrong.reason}`);
        return fresh.length > 0;
      },
      'the automatic rollback in history',
      180_000,
      context,
    );
    const fresh = history(sandbox).slice(seeded);
    expect(fresh).toHaveLength(1);
    const entry = fresh[0] as HistoryEntry;
    expect(entry.kind).toBe('standard');
    expect(entry.verification).toBe('passed');
    expect(entry.explanation).toMatch(/memory/);
    expect(liveUnder(sandbox)).toBe(v3);
    const marks = JSON.parse(fs.readFileSync(path.join(sandbox, 'state', 'marks.json'), 'utf8')) as { bad: string[] };
    expect(marks.bad).toContain(v4);

    // ... and on screen: the result banner (it stays until Esc) and v3 live in the header.
    await until(
      () => {
        const s = screen();
        return s.includes(`[auto] ✓ Rolled back demo: ${v4} -> ${v3}`) && s.includes(`live ${v3}`);
      },
      'the rollback on screen',
      120_000,
      context,
    );

    // q quits (no rollback is running now): the service stops and the sandbox is removed.
    const port = Number(/127\.0\.0\.1:(\d+)\/health/.exec(fs.readFileSync(path.join(sandbox, 'rollback-config.yml'), 'utf8'))?.[1]);
    tmux('send-keys', '-t', '0', 'q');
    await until(() => /DEMO-EXITED 0/.test(screen()), 'the demo to exit with 0', 120_000, context);
    expect(fs.existsSync(sandbox)).toBe(false);
    const answered = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) }).then(
      () => true,
      () => false,
    );
    expect(answered).toBe(false);
  }, 900_000);
});
