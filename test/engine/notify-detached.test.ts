/**
 * A notification command that leaves something behind (a detached helper holding its pipes) never keeps
 * the CLI alive: through the built CLI with the real demo service and real detached processes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeFixture, pollUntil, type Fixture } from './fixture.js';
import { randomInt } from 'node:crypto';
import { pidOf, running, uniqueSleep, waitGone } from '../exec/processes.js';

let fx: Fixture | undefined;
const leftovers: string[] = [];
afterEach(async () => {
  for (const needle of leftovers.splice(0)) {
    for (const line of running(needle)) {
      try {
        process.kill(pidOf(line), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  await fx?.cleanup();
  fx = undefined;
});

/** Run the CLI; resolve when it exits (a hang shows as this poll failing, not as a timing assertion). */
async function runUntilExit(f: Fixture, args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = f.spawnCli(args);
  await pollUntil(() => child.exitCode !== null || child.signalCode !== null, 40_000, 'the CLI to exit');
  // Both streams read to their end: what it printed last can still be in a pipe when it has exited.
  for (const s of [child.stdout!, child.stderr!]) await new Promise((r) => (s.readableEnded ? r(null) : s.once('end', r)));
  return child.out();
}

describe('a notification command that detaches a child', () => {
  it('exits 0 at once: the CLI is gone while the detached sleep still runs', async () => {
    fx = await makeFixture();
    const sleep = uniqueSleep();
    leftovers.push(sleep);
    fx.writeConfig({}, { notifications: { command: `setsid ${sleep} &`, timeout_seconds: 20, retries: 0 } });
    const r = await runUntilExit(fx, ['rollback', '--env', 'test', '--reason', 'x', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true });
    // The detached sleep (299.x s) outlives the CLI: the CLI did not wait for it.
    expect(running(sleep).length).toBeGreaterThan(0);
    expect(r.stderr).not.toMatch(/notification .* failed/);
  });

  it('hangs holding its pipes in another session: killed at the deadline, with the group, and the CLI exits', async () => {
    fx = await makeFixture();
    // Far longer than the poll below: a CLI that waits for it shows as that poll failing.
    const sleep = `sleep 300.${randomInt(1e8, 1e9)}`;
    leftovers.push(sleep);
    // In the foreground: the command never ends by itself; its sleep is in a session of its own, out of
    // reach of a process-group kill, and holds the command's stdin and stderr.
    fx.writeConfig({}, { notifications: { command: `setsid ${sleep}`, timeout_seconds: 1, retries: 0 } });
    const r = await runUntilExit(fx, ['rollback', '--env', 'test', '--reason', 'x', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/notification rollback_\w+ to notifications\.command failed (?:after 1 attempts|\(given up\)): timed out/);
    // Both events' sleeps are gone: killed as holders of the pipes, not left to run for 300 s.
    await waitGone(sleep);
  });
});
