/**
 * Against the real Capistrano (3.17, Debian's `cap`) over the loopback sshd: three releases deployed with
 * `cap production deploy`, then `rollback-tui init` over SSH, a rollback by this tool, then Capistrano's
 * own `cap production deploy` and `cap production deploy:rollback`, each of which must do the right thing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeSsh, startSshd, type Sshd } from '../helpers/sshd.js';
import { capAvailable, makeCapProject, type CapProject } from './capistrano.js';
import { runCli } from './fixtures.js';

interface ListEntry { name: string; current: boolean; bad: boolean }

const describeCap: typeof describe = capAvailable ? describeSsh : (describe.skip as typeof describe);

describeCap('Capistrano layout, with the real cap, over ssh', () => {
  let sshd: Sshd;
  let cap: CapProject;
  let cwd: string;
  beforeAll(async () => {
    sshd = await startSshd();
    cap = makeCapProject(sshd);
    cwd = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'rtui-init-')));
  });
  afterAll(async () => {
    cap?.cleanup();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
    await sshd?.stop();
  });

  const cli = (args: string[]) => runCli(args, cwd);
  const list = async (): Promise<ListEntry[]> => {
    const r = await cli(['list', '--env', 'prod', '--json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as ListEntry[];
  };
  const current = (): string => readlinkSync(path.join(cap.deployTo, 'current'));
  const lastLogLine = (): string => readFileSync(path.join(cap.deployTo, 'revisions.log'), 'utf8').trimEnd().split('\n').at(-1) ?? '';

  it('init, rollback by this tool, then cap deploy and cap deploy:rollback behave as after a rollback by cap', async () => {
    const [r1, r2, r3] = [cap.deploy(1), cap.deploy(2), cap.deploy(3)];
    expect(current()).toBe(path.join(cap.deployTo, 'releases', r3));

    const init = await cli(['init', '--env', 'prod', '--path', cap.deployTo, '--host', '127.0.0.1', '--port', String(sshd.port),
      '--user', sshd.user, '--identity-file', sshd.identityFile, '--ssh-config', sshd.sshConfigPath]);
    expect(init.code, init.stderr).toBe(0);
    const file = readFileSync(path.join(cwd, 'rollback-config.yml'), 'utf8');
    expect(file.split('\n')[0]).toBe('# yaml-language-server: $schema=./rollback-config.schema.json');
    expect(file).toMatch(/^ {6}layout: capistrano +# /m);
    expect(file).toMatch(/^ {4}executor: \{ type: ssh, host: 127\.0\.0\.1/m);
    const check = await cli(['config', 'check']);
    expect(check.code, check.stderr).toBe(0);

    expect((await list()).map((b) => [b.name, b.current])).toEqual([[r3, true], [r2, false], [r1, false]]);
    const verify = await cli(['verify', '--env', 'prod']);
    expect(verify.code, verify.stderr).toBe(0);

    // This tool's rollback: r3 -> r2, written and cleaned up the way cap deploy:rollback does it.
    const rb = await cli(['rollback', '--env', 'prod', '--reason', 'INC-9 5xx', '--yes', '--json']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(JSON.parse(rb.stdout)).toMatchObject({ ok: true, from: r3, to: r2 });
    expect(current()).toBe(path.join(cap.deployTo, 'releases', r2));
    expect(lastLogLine()).toBe(`oncall rolled back to release ${r2}`);
    expect(existsSync(path.join(cap.deployTo, `rolled-back-release-${r3}.tar.gz`))).toBe(true);
    expect(existsSync(path.join(cap.deployTo, 'releases', r3))).toBe(false);
    expect(existsSync(path.join(cap.deployTo, '.rollback-tui', 'history.jsonl'))).toBe(true);
    expect(readdirSync(path.join(cap.deployTo, 'releases')).sort()).toEqual([r1, r2]);
    expect((await list()).map((b) => [b.name, b.current, b.bad])).toEqual([[r3, false, true], [r2, true, false], [r1, false, false]]);
    // The incident report says what each release deployed, although the fled one is archived by now.
    const incident = readFileSync(/incident report: (\S+)/.exec(rb.stderr)?.[1] ?? 'no incident report', 'utf8');
    expect(incident).toContain(`${r3}: archived after a rollback`);
    expect(incident).toMatch(new RegExp(`${r2}: branch main at [0-9a-f]{12}, deployed by deployer-dev`));

    // Capistrano's next deploy goes live as usual...
    const r4 = cap.deploy(4);
    expect(current()).toBe(path.join(cap.deployTo, 'releases', r4));
    expect(lastLogLine()).toMatch(new RegExp(`deployed as release ${r4} by deployer-dev$`));
    // ...and its rollback goes back to r2 (not to the release this tool rolled back away from) and archives r4.
    cap.rollback();
    expect(current()).toBe(path.join(cap.deployTo, 'releases', r2));
    expect(lastLogLine()).toBe(`deployer-dev rolled back to release ${r2}`);
    expect(existsSync(path.join(cap.deployTo, `rolled-back-release-${r4}.tar.gz`))).toBe(true);
    expect(readdirSync(path.join(cap.deployTo, 'releases')).sort()).toEqual([r1, r2]);

    // An archived release is listed and --to restores it, from cap's archive as well as from this tool's.
    const listed = await list();
    expect(listed.map((b) => b.name)).toEqual([r4, r3, r2, r1]);
    const to = await cli(['rollback', '--env', 'prod', '--reason', 'r3 after all', '--to', r3, '--yes']);
    expect(to.code, to.stderr).toBe(0);
    expect(current()).toBe(path.join(cap.deployTo, 'releases', r3));
    expect(readFileSync(path.join(cap.deployTo, 'current', 'VERSION'), 'utf8')).toBe('3\n');
    expect(existsSync(path.join(cap.deployTo, `rolled-back-release-${r3}.tar.gz`))).toBe(false);
    // Capistrano's rollback from the restored release goes to the one before it, as after its own rollbacks.
    cap.rollback();
    expect(current()).toBe(path.join(cap.deployTo, 'releases', r2));
    expect(existsSync(path.join(cap.deployTo, `rolled-back-release-${r3}.tar.gz`))).toBe(true);

    // A targeted rollback past a release (r5 -> r1, r2 stays): the live one is made the newest by mtime,
    // because cap deploy:rollback takes `ls -xt` index 0 as live; its next rollback then leaves r1 and
    // archives it, instead of "rolling back" to the live r1 and archiving r2.
    const r5 = cap.deploy(5);
    const past = await cli(['rollback', '--env', 'prod', '--reason', 'back to the first', '--to', r1, '--yes']);
    expect(past.code, past.stderr).toBe(0);
    expect(current()).toBe(path.join(cap.deployTo, 'releases', r1));
    expect(existsSync(path.join(cap.deployTo, `rolled-back-release-${r5}.tar.gz`))).toBe(true);
    const lsT = spawnSync('ls', ['-xt', path.join(cap.deployTo, 'releases')], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean);
    expect(lsT).toEqual([r1, r2]);
    cap.rollback();
    expect(current()).toBe(path.join(cap.deployTo, 'releases', r2));
    expect(existsSync(path.join(cap.deployTo, `rolled-back-release-${r1}.tar.gz`))).toBe(true);
  });
});
