/**
 * `rollback-tui demo --hosts 3` end to end in a real pseudo-terminal (a private tmux server, 100x30; 80x24 frames are in test/ui/hosts-panel.test.tsx):
 * the console shows the Hosts panel and the fleet summary, the first host trips alone (an alert naming
 * it, nothing rolled back), then most hosts are sick and the fleet monitor rolls every host back (on
 * disk: each host's live release and history; on screen: the summary), and `q` stops the three
 * services and removes the sandbox. Everything is polled, nothing sleeps.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { historyUnder, paneText } from './e2e-helpers.js';
import { shQuote as q } from '../../src/core/exec/quote.js';
import { waitFor } from '../../src/demo/sandbox.js';
import { hasTmux, killTmux, tmuxOn } from '../helpers/tmux.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const BIN = path.join(ROOT, 'bin', 'rollback-tui.js');
const socket = `rtui-demo-fleet-${process.pid}`;
const tmux = tmuxOn(socket);
const HOSTS = ['app-1', 'app-2', 'app-3'];

const screen = (): string => paneText(tmux);
const history = historyUnder;

describe.skipIf(!hasTmux)('rollback-tui demo --hosts 3 in a pseudo-terminal', () => {
  const parent = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'rtui-demo-fleet-e2e-')));
  afterAll(() => {
    killTmux(socket);
    // A test that failed half-way leaves the services: stop them, then remove everything.
    for (const d of fs.readdirSync(parent)) {
      for (const h of HOSTS) {
        const pid = path.join(parent, d, 'hosts', h, 'run', 'service.pid');
        if (fs.existsSync(pid)) process.kill(Number(fs.readFileSync(pid, 'utf8').trim()), 'SIGTERM');
      }
    }
    fs.rmSync(parent, { recursive: true, force: true });
  });

  it('shows the fleet, alerts on one sick host, rolls the fleet back when most are sick, and cleans up on q', async () => {
    const command = `env TMPDIR=${q(parent)} ${q(process.execPath)} ${q(BIN)} demo --hosts 3 --speed 0.3; echo DEMO-EXITED $?; sleep 600`;
    tmux('-f', '/dev/null', 'new-session', '-d', '-x', '100', '-y', '30', command);
    const sandboxName = (): string | undefined => fs.readdirSync(parent).find((n) => n.startsWith('rollback-tui-demo-fleet-'));
    await waitFor(() => sandboxName() !== undefined, 'the sandbox directory', 30_000);
    const dir = path.join(parent, sandboxName() as string);
    const hostDir = (h: string): string => path.join(dir, 'hosts', h);
    await waitFor(() => fs.existsSync(path.join(hostDir('app-1'), 'releases')) && fs.readdirSync(path.join(hostDir('app-1'), 'releases')).length === 4, 'the releases', 30_000);
    const [, , v3, v4] = fs.readdirSync(path.join(hostDir('app-1'), 'releases')).sort() as [string, string, string, string];

    // The console on the fleet: the summary in the header, the Hosts panel with every host.
    await waitFor(() => {
      const s = screen();
      return s.includes(`3 hosts · 3 on ${v4}`) && /Hosts/.test(s) && HOSTS.every((h) => s.includes(h));
    }, 'the console on the demo fleet', 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\nscreen:\n${screen()}`);
    });

    // app-1 leaks twice as fast: it trips alone first and is shown sick while the fleet stays.
    await waitFor(() => /app-1 .*SICK/.test(screen()), 'app-1 sick on its own', 120_000).catch((err: Error) => {
      throw new Error(`${err.message}\nscreen:\n${screen()}`);
    });
    expect(HOSTS.map((h) => path.basename(fs.realpathSync(path.join(hostDir(h), 'current'))))).toEqual([v4, v4, v4]);

    // Then most hosts are sick: every host rolled back to v3, in its own history, with the trigger.
    await waitFor(
      () => HOSTS.every((h) => history(hostDir(h)).some((e) => e.trigger === 'memory' && e.from === v4 && e.to === v3 && e.success)),
      'the automatic fleet rollback in every host history',
      150_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nscreen:\n${screen()}`);
    });
    for (const h of HOSTS) {
      expect(path.basename(fs.realpathSync(path.join(hostDir(h), 'current')))).toBe(v3);
      expect(history(hostDir(h)).at(-1)?.explanation).toMatch(/memory: [23] of 3 hosts breached \(app-1, app-[23]/);
    }
    await waitFor(() => screen().includes(`3 hosts · 3 on ${v3}`), 'the fleet summary on v3', 30_000);

    const ports = HOSTS.map((h) => Number(/--port (\d+)/.exec(fs.readFileSync(path.join(hostDir(h), 'service.sh'), 'utf8'))?.[1]));
    tmux('send-keys', '-t', '0', 'q');
    await waitFor(() => /DEMO-EXITED 0/.test(screen()), 'the demo to exit with 0', 60_000);
    expect(fs.existsSync(dir)).toBe(false);
    for (const port of ports) {
      const answered = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) }).then(
        () => true,
        () => false,
      );
      expect(answered).toBe(false);
    }
  }, 300_000);
});
