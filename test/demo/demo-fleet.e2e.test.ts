/**
 * `rollback-tui demo --hosts 3` end to end in a real pseudo-terminal (a private tmux server, 100x30; 80x24 frames are in test/ui/hosts-panel.test.tsx):
 * the console shows the Hosts panel and the fleet summary, the first host trips alone (an alert naming
 * it, nothing rolled back), then most hosts are sick and the fleet monitor rolls every host back (on
 * disk: each host's live release and history; on screen: the summary and one result line per host,
 * marked [auto], until Esc), and `q` stops the three services and removes the sandbox. Everything is
 * polled, nothing sleeps.
 *
 * Robust under load as the one-host demo test is: each wait is for a state the screen keeps for seconds
 * (the leak begins only once the monitor watches, so a console that comes up late still sees every
 * stage), deadlines are generous, a rollback by another trigger fails at once, and every failure
 * carries the screen and the sandbox's state.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { historyUnder, liveUnder, paneText, sandboxState, until } from './e2e-helpers.js';
import { shQuote as q } from '../../src/core/exec/quote.js';
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
  afterAll(async () => {
    await killTmux(socket);
    // A test that failed half-way leaves the services: stop them (the stop waits for each to exit: a
    // service still writing its log would race the removal), then remove everything.
    for (const d of fs.readdirSync(parent)) {
      for (const h of HOSTS) {
        const pid = path.join(parent, d, 'hosts', h, 'run', 'service.pid');
        if (fs.existsSync(pid)) execFileSync(process.execPath, [path.join(ROOT, 'demo', 'service.mjs'), '--stop', '--pid-file', pid]);
      }
    }
    fs.rmSync(parent, { recursive: true, force: true });
  });

  it('shows the fleet, alerts on one sick host, rolls the fleet back when most are sick, and cleans up on q', async () => {
    const command = `env TMPDIR=${q(parent)} ${q(process.execPath)} ${q(BIN)} demo --hosts 3 --speed 0.5; echo DEMO-EXITED $?; sleep 600`;
    tmux('-f', '/dev/null', 'new-session', '-d', '-x', '100', '-y', '30', command);
    const onScreen = (): string => `screen:\n${screen()}`;
    const sandboxName = (): string | undefined => fs.readdirSync(parent).find((n) => n.startsWith('rollback-tui-demo-fleet-'));
    const dir = (): string => path.join(parent, sandboxName() ?? '(no sandbox yet)');
    // The config is written after every host's releases: from then on they are complete.
    await until(() => sandboxName() !== undefined && fs.existsSync(path.join(dir(), 'rollback-config.yml')), 'the sandbox', 120_000, onScreen);
    const sandbox = dir();
    const context = (): string => `${onScreen()}\n${sandboxState(sandbox)}`;
    const hostDir = (h: string): string => path.join(sandbox, 'hosts', h);
    const [, , v3, v4] = fs.readdirSync(path.join(hostDir('app-1'), 'releases')).sort() as [string, string, string, string];

    // The console on the fleet: the summary in the header, the Hosts panel with every host.
    await until(
      () => {
        const s = screen();
        return s.includes(`3 hosts · 3 on ${v4}`) && /Hosts/.test(s) && HOSTS.every((h) => s.includes(h));
      },
      'the console on the demo fleet',
      180_000,
      context,
    );

    // app-1 leaks twice as fast and first: it trips alone and is shown sick (until the fleet is rolled
    // back, seconds later) while every host stays on v4: an alert, not a rollback.
    await until(() => /app-1 .*SICK/.test(screen()), 'app-1 sick on its own', 180_000, context);
    expect(HOSTS.map((h) => liveUnder(hostDir(h))), context()).toEqual([v4, v4, v4]);

    // Then most hosts are sick: every host rolled back to v3, in its own history, with the trigger. Any
    // other entry (another trigger, another release) is a wrong story: fail at once.
    await until(
      () => {
        const entries = HOSTS.flatMap((h) => history(hostDir(h)).map((e) => ({ h, e })));
        const wrong = entries.find(({ e }) => !(e.trigger === 'memory' && e.from === v4 && e.to === v3));
        if (wrong) throw new Error(`an unexpected rollback on ${wrong.h}: ${wrong.e.trigger} ${wrong.e.from} -> ${wrong.e.to}: ${wrong.e.explanation ?? wrong.e.reason}`);
        return HOSTS.every((h) => history(hostDir(h)).some((e) => e.success));
      },
      'the automatic fleet rollback in every host history',
      180_000,
      context,
    );
    for (const h of HOSTS) {
      expect(liveUnder(hostDir(h))).toBe(v3);
      expect(history(hostDir(h)).at(-1)?.explanation).toMatch(/memory: [23] of 3 hosts breached \(app-1, app-[23]/);
    }
    await until(() => screen().includes(`3 hosts · 3 on ${v3}`), 'the fleet summary on v3', 120_000, context);
    // The automatic rollback's result as a manual one's: the headline marked [auto], one line per host,
    // on screen until Esc dismisses it.
    await until(
      () => {
        const s = screen();
        return s.includes(`✓ [auto] Fleet rolled back to ${v3}: 3 verified of 3.`) && HOSTS.every((h) => s.includes(`${h} verified on ${v3}`));
      },
      'the per-host result of the automatic fleet rollback',
      120_000,
      context,
    );
    tmux('send-keys', '-t', '0', 'Escape');
    await until(() => !screen().includes('[auto] Fleet rolled back'), 'Esc to dismiss the result', 120_000, context);

    const ports = HOSTS.map((h) => Number(/--port (\d+)/.exec(fs.readFileSync(path.join(hostDir(h), 'service.sh'), 'utf8'))?.[1]));
    tmux('send-keys', '-t', '0', 'q');
    await until(() => /DEMO-EXITED 0/.test(screen()), 'the demo to exit with 0', 120_000, context);
    expect(fs.existsSync(sandbox)).toBe(false);
    for (const port of ports) {
      const answered = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) }).then(
        () => true,
        () => false,
      );
      expect(answered).toBe(false);
    }
  }, 900_000);
});
