/**
 * The console rolls a fleet back in a real pseudo-terminal (a private tmux server at 80x24): the built
 * bin on a real local fleet (three directories, each with its own symlink store, state directory and
 * demo service on its own port; the environment is a fleet with `{name}` paths). The Hosts panel shows
 * every host, r opens the fleet's preview (per host from -> to, the batches), a reason and y confirm,
 * and every host rolls back: on disk, in each host's history under one operation id, and on screen as
 * one result line per host. Everything is polled, nothing sleeps.
 */
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { shQuote as q } from '../../src/core/exec/quote.js';
import type { LocalFleet } from '../../src/demo/local-fleet.js';
import { historyUnder, paneText } from '../demo/e2e-helpers.js';
import { hasTmux, tmuxPerTest } from '../helpers/tmux.js';
import { twoReleaseFleet } from '../monitor/fleet-harness.js';
import { testPolicy, waitFor } from '../monitor/harness.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const BIN = path.join(ROOT, 'bin', 'rollback-tui.js');
const HOSTS = ['app-1', 'app-2', 'app-3'];

/** "backup_20261124_110000" as the console shows it at 80 columns. */
const short = (name: string): string => name.replace(/^backup_/, '');

describe.skipIf(!hasTmux)('the console rolls a fleet back in a real terminal', () => {
  const { tmux, afterTest } = tmuxPerTest('rtui-fleet-console');
  const screen = (): string => paneText(tmux);
  const until = async (pred: (s: string) => boolean, what: string, timeoutMs = 90_000): Promise<string> => {
    await waitFor(() => pred(screen()), () => `${what}; screen:\n${screen()}`, timeoutMs, 50);
    return screen();
  };

  /** A local fleet of three on r2 (r1 older), the console on it at 80x24, once its Hosts panel shows every host. */
  async function consoleOnFleet(rollout: Record<string, unknown>, prepare: (local: LocalFleet, dir: string) => void = () => undefined) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-fleet-console-e2e-'));
    const local: LocalFleet = await twoReleaseFleet(dir);
    afterTest({
      cleanup: async () => {
        await local.stopAll().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    });
    prepare(local, dir);
    await local.startAll();
    const [r1, r2] = local.releases as [string, string];
    const config = path.join(dir, 'rollback-config.yml');
    // Automatic rollback off: the test is the operator's rollback, not the monitor's.
    writeFileSync(config, JSON.stringify({ rollback_policy: testPolicy({ enabled: false }), environments: { web: { ...local.environment, rollout } } }));
    const command = `env -u CI -u CONTINUOUS_INTEGRATION ${q(process.execPath)} ${q(BIN)} --config ${q(config)} --env web; echo "EXITED $?"; sleep 600`;
    tmux('-f', '/dev/null', 'new-session', '-d', '-x', '80', '-y', '24', command);
    // The fleet: the header sums it up, the Hosts panel lists every host on r2.
    await until((s) => s.includes(`3 hosts · 3 on`) && /Hosts/.test(s) && HOSTS.every((h) => new RegExp(`${h} +${short(r2)}`).test(s)), 'the Hosts panel with every host');
    return { dir, r1, r2, live: (h: string) => path.basename(readlinkSync(path.join(dir, 'hosts', h, 'current'))), history: (h: string) => historyUnder(path.join(dir, 'hosts', h)) };
  }

  /** r, the reason, then y once the confirmation (the fleet's one) is on screen. */
  async function rollBack(r1: string, reason: string): Promise<void> {
    tmux('send-keys', '-t', '0', '-l', reason);
    tmux('send-keys', '-t', '0', 'Enter');
    await until((s) => s.includes(`Roll back web (3 hosts to ${short(r1)}) now? y = yes`), 'the confirmation');
    tmux('send-keys', '-t', '0', 'y');
  }

  it('shows the Hosts panel, r previews every host and the batches, y rolls every host back, and the result is one line per host', async () => {
    const { r1, r2, live, history } = await consoleOnFleet({ order: 'parallel', batch: 2 });

    tmux('send-keys', '-t', '0', 'r');
    const preview = await until((s) => s.includes('Reason:') && s.includes('batch 2: app-3'), 'the fleet preview');
    for (const h of HOSTS) expect(preview).toMatch(new RegExp(`${h} +${short(r2)} -> ${short(r1)} +batch [12]`));
    expect(preview).toContain('batch 1: app-1, app-2');
    expect(preview).toMatch(/parallel, batches of 2, max_failures 0/);
    await rollBack(r1, 'bad deploy');

    // The result, one line per host.
    const result = await until((s) => s.includes('Fleet rolled back to') && HOSTS.every((h) => s.includes(`${h} verified on ${r1}`)), 'every host verified on screen', 180_000);
    expect(result).toContain(`✓ Fleet rolled back to ${r1}: 3 verified of 3.`);
    // Every host's lock was released: the Hosts panel and the header say so without waiting for a poll.
    await until((s) => !s.includes('🔒') && !/\d+ locked/.test(s), 'no lock shown after the rollback', 30_000);

    // On disk: every host on r1; each host's own history entry, one operation id for the fleet.
    expect(HOSTS.map(live)).toEqual([r1, r1, r1]);
    const entries = HOSTS.map((h) => history(h).at(-1));
    entries.forEach((e, i) => expect(e).toMatchObject({ host: HOSTS[i], from: r2, to: r1, success: true, reason: 'bad deploy', trigger: 'manual' }));
    expect(new Set(entries.map((e) => e?.id)).size).toBe(1);

    // Esc dismisses the result; the Hosts panel shows every host on r1; q quits.
    tmux('send-keys', '-t', '0', 'Escape');
    await until((s) => !s.includes('Fleet rolled back') && s.includes(`3 hosts · 3 on ${r1}`), 'the fleet on r1 after Esc');
    tmux('send-keys', '-t', '0', 'q');
    await until((s) => s.includes('EXITED 0'), 'the console to exit with 0');
  }, 300_000);

  it('a serial rollout that stops (app-2 fails verification, max_failures 0) leaves mixed releases, and the result says how to go either way', async () => {
    const { r1, r2, live, history } = await consoleOnFleet({ order: 'serial', max_failures: 0 }, (local, dir) => {
      // app-2's r1 does not come up healthy: its health answers 503.
      writeFileSync(path.join(dir, 'hosts', 'app-2', 'releases', local.releases[0] as string, 'release.json'), `${JSON.stringify({ version: 'r1', mode: 'down' })}\n`);
    });
    tmux('send-keys', '-t', '0', 'r');
    await until((s) => s.includes('Reason:') && s.includes('batch 3: app-3'), 'the serial preview');
    await rollBack(r1, 'bad deploy');
    const result = await until((s) => s.includes('STOPPED') && s.includes('to undo instead'), 'the stopped rollout on screen', 180_000);
    expect(result).toContain(`app-1 verified on ${r1}`);
    expect(result).toContain('app-2 verification failed: on');
    expect(result).toContain(`app-3 untouched on ${r2}`);
    const flat = result.replace(/[║│\n]/g, ' ').replace(/ +/g, ' ');
    expect(flat).toContain(`to finish: rollback-tui rollback --env web --to ${r1} --reason "bad deploy"`);
    expect(flat).toContain(`to undo instead: rollback-tui rollback --env web --hosts app-1,app-2 --to ${r2} --reason "bad deploy"`);
    // On disk: the mixed releases the result describes; app-3 was never touched.
    expect(HOSTS.map(live)).toEqual([r1, r1, r2]);
    expect(history('app-1').at(-1)).toMatchObject({ host: 'app-1', to: r1, success: true });
    expect(history('app-2').at(-1)).toMatchObject({ host: 'app-2', to: r1, success: false });
    expect(history('app-3')).toEqual([]);
    tmux('send-keys', '-t', '0', 'q');
    await until((s) => s.includes('EXITED 0'), 'the console to exit with 0');
  }, 300_000);
});
