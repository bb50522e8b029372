/**
 * `rollback-tui demo` end to end in a real pseudo-terminal (a private tmux server, `-L`): the built bin
 * creates the sandbox, the console shows the demo environment, the leaking release trips the memory
 * trigger and the automatic rollback happens (on screen and on disk), and `q` stops the service and
 * removes the sandbox. The policy is scaled down with --speed; everything is polled, nothing sleeps.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../src/core/engine/types.js';
import { historyUnder, paneText } from './e2e-helpers.js';
import { waitFor } from '../../src/demo/sandbox.js';
import { shQuote as q } from '../../src/core/exec/quote.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const BIN = path.join(ROOT, 'bin', 'rollback-tui.js');
const socket = `rtui-demo-test-${process.pid}`;
let hasTmux = true;
try {
  execFileSync('tmux', ['-V'], { stdio: 'ignore' });
} catch {
  hasTmux = false;
  if (process.env.CI) throw new Error('tmux is required for the demo pseudo-terminal test (CI installs it)');
  console.warn('\n!!! tmux is not installed: the demo pseudo-terminal test is SKIPPED\n');
}

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
}
const screen = (): string => paneText(tmux);
const history = historyUnder;

describe.skipIf(!hasTmux)('rollback-tui demo in a pseudo-terminal', () => {
  let parent: string;

  beforeAll(() => {
    parent = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'rtui-demo-e2e-')));
  });
  afterAll(() => {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
    // If the test failed half-way, stop a service the demo left behind, then remove everything.
    for (const d of fs.existsSync(parent) ? fs.readdirSync(parent) : []) {
      const pid = path.join(parent, d, 'run', 'service.pid');
      if (fs.existsSync(pid)) execFileSync(process.execPath, [path.join(ROOT, 'demo', 'service.mjs'), '--stop', '--pid-file', pid]);
    }
    fs.rmSync(parent, { recursive: true, force: true });
  });

  it('shows the demo environment, rolls back the leaking release automatically, and cleans up on q', async () => {
    // The sandbox goes into a private TMPDIR so the test can find it and see it removed.
    const command = `env TMPDIR=${q(parent)} ${q(process.execPath)} ${q(BIN)} demo --speed 0.3; echo DEMO-EXITED $?; sleep 600`;
    tmux('-f', '/dev/null', 'new-session', '-d', '-x', '120', '-y', '40', command);

    const sandboxName = (): string | undefined => fs.readdirSync(parent).find((n) => n.startsWith('rollback-tui-demo-'));
    await waitFor(() => sandboxName() !== undefined, 'the sandbox directory', 30_000);
    const dir = path.join(parent, sandboxName() as string);
    const releases = fs.readdirSync(path.join(dir, 'releases')).sort();
    const [, , v3, v4] = releases as [string, string, string, string];

    // The console is up on the demo environment: header, the live (sick) release, armed automation.
    await waitFor(() => {
      const s = screen();
      return /DEMO/.test(s) && s.includes(v4) && /ARMED/.test(s) && /Backups/.test(s);
    }, 'the console on the demo environment', 60_000);
    const before = history(dir).length;

    // The memory trigger fires and the monitor rolls back to v3: on disk ...
    await waitFor(
      () => history(dir).some((h) => h.trigger === 'memory' && h.from === v4 && h.to === v3 && h.success),
      'the automatic rollback in history',
      150_000,
    ).catch((err: Error) => {
      const last = history(dir).slice(before).map((h) => JSON.stringify({ trigger: h.trigger, from: h.from, to: h.to, success: h.success, error: h.error }));
      throw new Error(`${err.message}\nnew history: ${last.join('\n')}\nscreen:\n${screen()}`);
    });
    const entry = history(dir).at(-1) as HistoryEntry;
    expect(history(dir).length).toBe(before + 1);
    expect(entry.kind).toBe('standard');
    expect(entry.verification).toBe('passed');
    expect(path.basename(fs.realpathSync(path.join(dir, 'current')))).toBe(v3);
    const marks = JSON.parse(fs.readFileSync(path.join(dir, 'state', 'marks.json'), 'utf8')) as { bad: string[] };
    expect(marks.bad).toContain(v4);

    // ... and on screen: the events pane tells the story.
    await waitFor(() => /auto-rollback initiated/.test(screen()) && /rolled back/i.test(screen()), 'the rollback on screen', 30_000);

    // q quits (no rollback is running now): the service stops and the sandbox is removed.
    const port = Number(/127\.0\.0\.1:(\d+)\/health/.exec(fs.readFileSync(path.join(dir, 'rollback-config.yml'), 'utf8'))?.[1]);
    tmux('send-keys', '-t', '0', 'q');
    await waitFor(() => /DEMO-EXITED 0/.test(screen()), 'the demo to exit with 0', 60_000);
    expect(fs.existsSync(dir)).toBe(false);
    const answered = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) }).then(
      () => true,
      () => false,
    );
    expect(answered).toBe(false);
  }, 300_000);
});
