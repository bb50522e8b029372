/**
 * The console rolls a fleet of real hosts back in a real pseudo-terminal: three fixture hosts, each a
 * real sshd on its own loopback address in its own mount namespace (one shared layout path) with its
 * own demo service bound to its address, and the built bin in a private tmux server. The Hosts panel
 * shows every host, r previews every host's from -> to, y rolls them all back over SSH, and the result
 * is one line per host; on each host the release, the service and the history agree. Everything is
 * polled, nothing sleeps.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { shQuote as q } from '../../src/core/exec/quote.js';
import { historyUnder, paneText } from '../demo/e2e-helpers.js';
import { describeFleet, startFleetHosts } from '../helpers/fleet-hosts.js';
import { hasTmux, tmuxPerTest } from '../helpers/tmux.js';
import { testPolicy, waitFor } from '../monitor/harness.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const BIN = path.join(ROOT, 'bin', 'rollback-tui.js');
const HOSTS = ['app-1', 'app-2', 'app-3'];
/** A release name as a regexp, with or without the `backup_` prefix (narrow columns drop it). */
const rx = (name: string): string => `(backup_)?${name.replace(/^backup_/, '')}`;
const short = (name: string): string => name.replace(/^backup_/, '');

describeFleet('the console rolls a fleet of SSH hosts back in a real terminal', () => {
  const { tmux, afterTest } = tmuxPerTest('rtui-fleet-console-ssh');
  const screen = (): string => paneText(tmux);
  const until = async (pred: (s: string) => boolean, what: string, timeoutMs = 120_000): Promise<string> => {
    await waitFor(() => pred(screen()), () => `${what}; screen:\n${screen()}`, timeoutMs, 50);
    return screen();
  };

  it.skipIf(!hasTmux)('Hosts panel, r previews every host, y rolls every host back over SSH, one result line per host', async () => {
    const fx = await startFleetHosts({ count: 3 });
    afterTest({ cleanup: () => fx.stop() });
    const [, previous, live] = fx.names as [string, string, string];
    // Automatic rollback off: the test is the operator's rollback, not the monitor's.
    const env = fx.envConfig({ rollout: { order: 'parallel' } });
    writeFileSync(fx.configFile, JSON.stringify({ rollback_policy: testPolicy({ enabled: false }), environments: { [fx.envName]: env } }));
    const command = `env -u CI -u CONTINUOUS_INTEGRATION ${q(process.execPath)} ${q(BIN)} --config ${q(fx.configFile)} --env ${fx.envName}; echo "EXITED $?"; sleep 600`;
    tmux('-f', '/dev/null', 'new-session', '-d', '-x', '100', '-y', '30', command);

    await until((s) => s.includes('3 hosts · 3 on') && HOSTS.every((h) => new RegExp(`${h} +${rx(live)}`).test(s)), 'the Hosts panel with every host');
    tmux('send-keys', '-t', '0', 'r');
    const preview = await until((s) => s.includes('Reason:') && HOSTS.every((h) => new RegExp(`${h} +${rx(live)} -> ${rx(previous)}`).test(s)), 'the fleet preview');
    expect(preview).toMatch(/parallel/);
    tmux('send-keys', '-t', '0', '-l', 'INC-7 5xx');
    tmux('send-keys', '-t', '0', 'Enter');
    await until((s) => new RegExp(`Roll back ${fx.envName} \\(3 hosts to ${rx(previous)}\\) now\\?`).test(s), 'the confirmation');
    tmux('send-keys', '-t', '0', 'y');

    const result = await until((s) => HOSTS.every((h) => s.includes(`${h} verified on ${previous}`)), 'every host verified on screen', 180_000);
    expect(result).toContain(`Fleet rolled back to ${previous}: 3 verified of 3.`);

    // On every host: the release, the service answering from it, and one history entry under one id.
    for (let i = 0; i < 3; i++) {
      expect(fx.live(i)).toBe(previous);
      expect(await fx.serviceVersion(i)).toBe(previous);
    }
    const entries = fx.hosts.map((h) => historyUnder(h.dir).at(-1));
    entries.forEach((e, i) => expect(e).toMatchObject({ host: HOSTS[i], from: live, to: previous, success: true, reason: 'INC-7 5xx' }));
    expect(new Set(entries.map((e) => e?.id)).size).toBe(1);

    tmux('send-keys', '-t', '0', 'Escape');
    await until((s) => s.includes(`3 hosts · 3 on ${previous}`) || s.includes(`3 on ${short(previous)}`), 'the fleet on the previous release after Esc');
    tmux('send-keys', '-t', '0', 'q');
    await until((s) => s.includes('EXITED 0'), 'the console to exit with 0');
  }, 300_000);
});
