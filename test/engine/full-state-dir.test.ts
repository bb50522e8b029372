/**
 * A state_dir on a small real tmpfs, filled up or remounted read-only, against the built CLI:
 * - filled or made read-only during a rollback (held at `mark`): the rollback still exits 0 and says
 *   plainly that its record could not be written; the record is kept on the operator's side
 *   ($XDG_STATE_HOME); no command reports an interruption that did not happen; the next command that
 *   can write appends the entry, the incident report and the marks, and clears what was left behind;
 * - full or read-only before a rollback: a standard rollback refuses and changes nothing; an emergency
 *   with --yes goes ahead without the lock, says so loudly, and keeps its record the same way.
 * - full, an emergency without --yes in a terminal (tmux): after the plan's confirmation the operator is
 *   told what protection is lost and must type the environment's name again; anything else changes nothing.
 * Needs root (mount); skipped elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasTmux, killTmux, tmuxOn } from '../helpers/tmux.js';
import { bin, makeFixture, pollUntil, sh, type Fixture } from './fixture.js';

function canMount(): boolean {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-mount-probe-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status === 0;
  if (ok) spawnSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
  return ok;
}
const mountable = process.getuid?.() === 0 && canMount();

const SOCKET = `rtui-full-${process.pid}`;
const tmux = tmuxOn(SOCKET);

let fx: Fixture | undefined;
let xdg: string | undefined;
afterEach(async () => {
  await killTmux(SOCKET);
  if (fx) spawnSync('umount', ['-l', fx.layout.stateDir]);
  await fx?.cleanup();
  if (xdg) rmSync(xdg, { recursive: true, force: true });
  fx = undefined;
  xdg = undefined;
});

/** The fixture with its state_dir on a fresh 1 MiB tmpfs, and a private $XDG_STATE_HOME. */
async function onTmpfs(): Promise<{ f: Fixture; env: Record<string, string>; pending: string }> {
  const f = (fx = await makeFixture());
  mkdirSync(f.layout.stateDir, { recursive: true });
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', f.layout.stateDir], { encoding: 'utf8' });
  if (m.status !== 0) throw new Error(`mount: ${m.stderr}`);
  xdg = mkdtempSync(path.join(os.tmpdir(), 'rtui-xdg-'));
  return { f, env: { XDG_STATE_HOME: xdg }, pending: path.join(xdg, 'rollback-tui', 'pending') };
}

/** Fill the tmpfs to the last byte. */
function fill(f: Fixture): void {
  spawnSync('dd', ['if=/dev/zero', `of=${path.join(f.layout.stateDir, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
  const probe = spawnSync('sh', ['-c', `printf x > ${path.join(f.layout.stateDir, 'probe')}`]);
  expect(probe.status, 'the state_dir should be full').not.toBe(0);
}

function unfill(f: Fixture): void {
  rmSync(path.join(f.layout.stateDir, 'filler'), { force: true });
  rmSync(path.join(f.layout.stateDir, 'probe'), { force: true });
}

function breakStateDir(f: Fixture, how: 'full' | 'read-only'): void {
  if (how === 'full') fill(f);
  else expect(spawnSync('mount', ['-o', 'remount,ro', f.layout.stateDir]).status).toBe(0);
}

function repairStateDir(f: Fixture, how: 'full' | 'read-only'): void {
  if (how === 'full') unfill(f);
  else expect(spawnSync('mount', ['-o', 'remount,rw', f.layout.stateDir]).status).toBe(0);
}

const entriesIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

describe.skipIf(!mountable)('a full or read-only state_dir', () => {
  it.each(['full', 'read-only'] as const)('goes %s during the rollback: exit 0, the record is kept on the operator side, appended by the next command that can write', async (how) => {
    const { f, env, pending } = await onTmpfs();
    const [, r2, r3] = f.names as [string, string, string];
    const pause = path.join(f.layout.root, 'pause-mark');
    const c = f.spawnCli(['rollback', '--env', 'test', '--reason', 'disk fills', '--yes', '--json'], {
      env: { ...env, ROLLBACK_TUI_TEST_PAUSE_AT: 'mark', ROLLBACK_TUI_TEST_PAUSE_FILE: pause },
    });
    const closed = new Promise<void>((r) => c.on('close', () => r()));
    await pollUntil(() => existsSync(`${pause}.reached`), 30_000, 'the rollback to reach mark');
    breakStateDir(f, how);
    writeFileSync(pause, '');
    await closed;
    const out = c.out();
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ ok: true, from: r3, to: r2, verification: 'passed', exit_code: 0 });
    expect(out.stderr).toContain('THE ROLLBACK HAPPENED, BUT ITS RECORD COULD NOT BE WRITTEN');
    expect(out.stderr).toContain(`kept in ${pending}/`);
    expect(f.live()).toBe(r2);
    // Full: lock and journal are removed (removal needs no space). Read-only: they stay until the record is in.
    const leftovers = how === 'full' ? [] : ['test.owner.json'];
    expect(entriesIn(path.join(f.layout.stateDir, 'locks'))).toEqual(leftovers);
    expect(entriesIn(path.join(f.layout.stateDir, 'journal'))).toEqual(how === 'full' ? [] : ['test.json']);
    expect(f.history()).toEqual([]);
    const kept = entriesIn(pending);
    expect(kept).toHaveLength(1);
    expect(JSON.parse(readFileSync(path.join(pending, kept[0]!), 'utf8'))).toMatchObject({
      env: 'test',
      entry: { from: r3, to: r2, success: true, reason: 'disk fills' },
      marks: { bad: [r3], knownGood: [r2] },
      incident: { text: expect.stringContaining(`# Incident: rollback of test from ${r3} to ${r2}`) },
    });

    // Still full: the record stays kept, and nothing claims an interruption.
    const stillFull = await f.cli(['list', '--env', 'test'], { env });
    expect(stillFull.code, stillFull.stderr).toBe(0);
    expect(stillFull.stderr).toContain('cannot take it yet');
    expect(stillFull.stderr).not.toContain('interrupted');
    expect(entriesIn(pending)).toHaveLength(1);

    repairStateDir(f, how);
    const h = await f.cli(['history', '--env', 'test', '--json'], { env });
    expect(h.stderr).not.toContain('interrupted');
    expect(entriesIn(path.join(f.layout.stateDir, 'locks'))).toEqual([]);
    expect(entriesIn(path.join(f.layout.stateDir, 'journal'))).toEqual([]);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stderr).toContain('appended the record of the standard rollback');
    const [entry] = JSON.parse(h.stdout) as Array<Record<string, unknown>>;
    expect(entry).toMatchObject({ from: r3, to: r2, success: true, reason: 'disk fills' });
    expect(readFileSync(String(entry!.incident_report), 'utf8')).toContain(`# Incident: rollback of test from ${r3} to ${r2}`);
    expect(f.marks()).toEqual({ known_good: [r2], bad: [r3] });
    expect(entriesIn(pending)).toEqual([]);
    // appended once only
    const again = await f.cli(['history', '--env', 'test', '--json'], { env });
    expect(JSON.parse(again.stdout)).toHaveLength(1);
  }, 180_000);

  it.each(['full', 'read-only'] as const)(
    '%s before the rollback: a standard rollback refuses; an emergency with --yes goes ahead without the lock, loudly',
    async (how) => {
      const { f, env, pending } = await onTmpfs();
      const [, r2, r3] = f.names as [string, string, string];
      breakStateDir(f, how);

      const standard = await f.cli(['rollback', '--env', 'test', '--reason', 'disk', '--yes'], { env });
      expect(standard.code).toBe(1);
      expect(standard.stderr).toContain('cannot create locks/test.owner.json');
      expect(f.live()).toBe(r3);
      expect(await f.serviceVersion()).toBe(r3);

      const emergency = await f.cli(['rollback', '--env', 'test', '--reason', 'site down, disk full', '--emergency', '--yes', '--json'], { env });
      expect(emergency.code, emergency.stderr).toBe(0);
      expect(JSON.parse(emergency.stdout)).toMatchObject({ ok: true, kind: 'emergency', from: r3, to: r2 });
      expect(emergency.stderr).toContain('EMERGENCY WITHOUT THE STATE DIR');
      expect(emergency.stderr).toContain('without the lock (another rollback or a deploy is not kept out)');
      expect(emergency.stderr).toContain('THE ROLLBACK HAPPENED, BUT ITS RECORD COULD NOT BE WRITTEN');
      expect(f.live()).toBe(r2);
      expect(entriesIn(pending)).toHaveLength(1);

      repairStateDir(f, how);
      const list = await f.cli(['list', '--env', 'test'], { env });
      expect(list.code, list.stderr).toBe(0);
      expect(list.stderr).toContain('appended the record of the emergency rollback');
      expect(f.history()).toEqual([expect.objectContaining({ kind: 'emergency', from: r3, to: r2, success: true })]);
      expect(f.marks().bad).toEqual([r3]);
      expect(entriesIn(pending)).toEqual([]);
    },
    180_000,
  );

  it.skipIf(!hasTmux)('full, an emergency in a terminal: told what is lost, then the name again; a wrong name changes nothing', async () => {
    const { f, env, pending } = await onTmpfs();
    const [, r2, r3] = f.names as [string, string, string];
    f.writeConfig({ confirm: 'type-name' });
    fill(f);
    const emergencyAt = async (session: string, second: string): Promise<number> => {
      const exitFile = path.join(f.layout.root, `${session}.exit`);
      const cmd = `XDG_STATE_HOME=${sh(env.XDG_STATE_HOME!)} ${sh(process.execPath)} ${sh(bin)} --config ${sh(f.configFile)} rollback --env test --emergency --reason 'outage, disk full'; echo $? > ${sh(exitFile)}`;
      tmux('new-session', '-d', '-x', '200', '-y', '50', '-s', session, cmd);
      const screen = () => tmux('capture-pane', '-p', '-S', '-', '-t', session);
      await pollUntil(() => screen().includes('Type the environment name (test)'), 30_000, 'the first question');
      tmux('send-keys', '-t', session, '-l', 'test');
      tmux('send-keys', '-t', session, 'Enter');
      await pollUntil(() => screen().includes("To go ahead anyway, type the environment's name"), 30_000, 'the question about the state_dir');
      expect(screen()).toContain('  - the lock: another rollback or a deploy running now is not kept out;');
      tmux('send-keys', '-t', session, '-l', second);
      tmux('send-keys', '-t', session, 'Enter');
      await pollUntil(() => existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim() !== '', 60_000, 'the rollback to exit');
      return Number(readFileSync(exitFile, 'utf8').trim());
    };
    expect(await emergencyAt('wrong', 'prod')).toBe(1);
    expect(f.live()).toBe(r3);
    expect(await f.serviceVersion()).toBe(r3);
    expect(entriesIn(pending)).toEqual([]);
    expect(await emergencyAt('right', 'test')).toBe(0);
    expect(f.live()).toBe(r2);
    expect(entriesIn(pending)).toHaveLength(1);
  }, 180_000);
});
