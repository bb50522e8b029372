/**
 * SIGINT / SIGTERM to a CLI run that has an SSH connection open (the built bin, a real loopback sshd):
 * the ControlMaster is closed and its control directory removed, and the remote command is gone too.
 * `rollback` keeps handling SIGTERM itself: it finishes the step, records the outcome, then exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeReleaseLayout, type ReleaseLayout } from '../helpers/releases.js';
import { describeSsh, startSshd, type Sshd } from '../helpers/sshd.js';
import { running, uniqueSleep, until, waitGone } from './processes.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'rollback-tui.js');

describeSsh('signals to CLI runs with an SSH connection open', () => {
  let sshd: Sshd;
  let layout: ReleaseLayout;
  const tmps: string[] = [];
  beforeAll(async () => {
    sshd = await startSshd();
    layout = makeReleaseLayout({ count: 3 });
  });
  afterAll(async () => {
    layout?.cleanup();
    for (const t of tmps) rmSync(t, { recursive: true, force: true });
    await sshd?.stop();
  });

  /** Start the bin on an environment whose `validate:` command is a unique, long sleep. */
  function start(args: string[]): { child: ChildProcess; sleep: string; tmp: string; stderr: () => string; exit: Promise<number | null> } {
    const sleep = uniqueSleep();
    // Short: the ControlPath socket inside must fit a Unix socket path (108 bytes).
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'rtui-sig-'));
    tmps.push(tmp);
    const ex = sshd.executorConfig();
    const config = path.join(tmp, 'rollback-config.yml');
    writeFileSync(
      config,
      [
        'environments:',
        '  app:',
        `    executor: ${JSON.stringify(ex)}`,
        `    target: ${JSON.stringify({ ...layout.symlinkTarget(), validate: [sleep] })}`,
        `    state_dir: ${JSON.stringify(layout.stateDir)}`,
        '',
      ].join('\n'),
    );
    // TMPDIR: the control directory lands where the test can see it.
    const env = { PATH: process.env.PATH ?? '', HOME: tmp, TMPDIR: tmp, ROLLBACK_CONFIG: config, NO_COLOR: '1' };
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout!.resume();
    // 'close', not 'exit': what it printed last can still be in the pipe when the process has exited.
    const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    return { child, sleep, tmp, stderr: () => stderr, exit };
  }

  const leftovers = (tmp: string) => ({
    dirs: readdirSync(tmp).filter((n) => n.startsWith('rtui-ssh-')),
    masters: running(`ControlPath=${tmp}`),
  });
  /**
   * The control directory is removed before the CLI exits; the master only ends a moment after
   * `ssh -O exit` returned (it answers the request, then leaves its loop): on a loaded machine it can
   * still be in the process list when the CLI's exit is seen.
   */
  const nothingLeft = async (tmp: string): Promise<void> => {
    expect(leftovers(tmp).dirs).toEqual([]);
    await until(() => leftovers(tmp).masters.length === 0, 'the master connection to end', 30_000, () => leftovers(tmp).masters.join('\n'));
  };

  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${sig} during \`verify\`: exit ${code}, no master, no control directory, no remote command`, async () => {
      const run = start(['verify', '--env', 'app']);
      await until(() => running(run.sleep).length > 0, 'the remote validate command', 30_000, run.stderr);
      expect(leftovers(run.tmp).dirs).toHaveLength(1);
      run.child.kill(sig);
      expect(await run.exit, run.stderr()).toBe(code);
      await nothingLeft(run.tmp);
      await waitGone(run.sleep);
    });
  }

  it('SIGTERM during `rollback`: the step is finished (here: cancelled remotely), recorded, then the connection closed', async () => {
    const run = start(['rollback', '--env', 'app', '--reason', 'signal test', '--yes']);
    await until(() => running(run.sleep).length > 0, 'the remote validate command', 30_000, run.stderr);
    run.child.kill('SIGTERM');
    const code = await run.exit;
    expect(run.stderr()).toContain('SIGTERM received');
    expect(code, run.stderr()).toBe(1);
    await nothingLeft(run.tmp);
    // Cancelled on the host when the step's ssh client went: the host's watchdog ends it by itself.
    await waitGone(run.sleep);
    expect(path.basename(readlinkSync(layout.current))).toBe(layout.names.at(-1)); // nothing was switched
  });
});
