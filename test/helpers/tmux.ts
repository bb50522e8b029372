/**
 * tmux on a private socket: a real pseudo-terminal for the tests of interactive prompts. CI installs
 * tmux; elsewhere the suites that need it are skipped.
 */
import { spawnSync } from 'node:child_process';
import { afterEach } from 'vitest';

export const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux && process.env.CI) throw new Error('tmux is required for the pseudo-terminal tests (CI installs it)');

/** Run tmux commands against the server on `socket`; throws with tmux's stderr when one fails. */
export function tmuxOn(socket: string): (...args: string[]) => string {
  return (...args) => {
    const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
}

/** Stop the server on `socket` (and every session in it); fine when none runs. */
export function killTmux(socket: string): void {
  spawnSync('tmux', ['-L', socket, 'kill-server']);
}

/**
 * A tmux server of its own for one test file, killed after each test, plus whatever else a test asks
 * to clean up then (its fixture): `const { tmux, afterTest } = tmuxPerTest('rtui-confirm')`.
 */
export function tmuxPerTest(prefix: string): { socket: string; tmux: (...args: string[]) => string; afterTest: <T extends { cleanup(): Promise<void> }>(x: T) => T } {
  const socket = `${prefix}-${process.pid}`;
  const pending: { cleanup(): Promise<void> }[] = [];
  afterEach(async () => {
    killTmux(socket);
    for (const x of pending.splice(0)) await x.cleanup();
  });
  return {
    socket,
    tmux: tmuxOn(socket),
    afterTest: (x) => {
      pending.push(x);
      return x;
    },
  };
}
