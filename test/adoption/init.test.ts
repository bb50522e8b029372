/**
 * `init` on this machine, against a real service: a Capistrano-style deploy_to whose live release runs
 * demo/service.mjs (its working directory inside current/, listening on a port). The service is found from
 * a systemd unit whose WorkingDirectory points into current (`systemctl cat` confirms it: systemd cannot
 * run here, so a stand-in `systemctl` on PATH answers `cat`, `stop` and `start` and records them), the
 * health check from `ss -ltnp`. Unconfirmed guesses (no systemd) are written commented out. Either way the
 * file works as written, and an existing file is never overwritten.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startReleaseService, type RunningService } from './fixtures.js';

describe('init on this machine, with a running service', () => {
  let root: string;
  let deployTo: string;
  let port: number;
  let service: RunningService;
  const names = ['20240103130000', '20240103140000', '20240103150000'];

  beforeAll(async () => {
    root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'rtui-initsvc-')));
    deployTo = path.join(root, 'srv', 'app');
    for (const n of names) {
      mkdirSync(path.join(deployTo, 'releases', n), { recursive: true });
      writeFileSync(path.join(deployTo, 'releases', n, 'release.json'), JSON.stringify({ version: n, mode: 'healthy' }));
      writeFileSync(path.join(deployTo, 'releases', n, 'Procfile'), 'web: node server.js\n');
    }
    writeFileSync(path.join(deployTo, 'revisions.log'), names.map((n) => `Branch main (at abc${n}) deployed as release ${n} by dev\n`).join(''));
    symlinkSync(path.join(deployTo, 'releases', names[2]!), path.join(deployTo, 'current'));
    service = await startReleaseService(path.join(deployTo, 'current'));
    port = service.port;
  });
  afterAll(async () => {
    await service?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /** A working directory with the user unit in its ~/.config/systemd/user (HOME is the working directory). */
  const workdir = (): string => {
    const cwd = realpathSync(mkdtempSync(path.join(root, 'cwd-')));
    const units = path.join(cwd, '.config', 'systemd', 'user');
    mkdirSync(units, { recursive: true });
    writeFileSync(path.join(units, 'app.service'), [
      '[Service]',
      `WorkingDirectory=${deployTo}/current`,
      `ExecStart=/usr/bin/node ${deployTo}/current/server.js`,
      '',
    ].join('\n'));
    return cwd;
  };

  it('with systemd answering: the unit becomes service.stop/start, the port a tcp check; the rollback runs them and verifies', async () => {
    const cwd = workdir();
    const bin = path.join(cwd, 'bin');
    const calls = path.join(cwd, 'systemctl.calls');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'systemctl'), [
      '#!/bin/sh',
      '[ "$1" = --user ] || exit 1',
      'shift',
      `case $1 in cat) printf '# %s\\n' "$HOME/.config/systemd/user/$3"; cat -- "$HOME/.config/systemd/user/$3" ;;`,
      `  stop|start) echo "$1 $2" >> ${JSON.stringify(calls)} ;;`,
      '  *) exit 1 ;; esac',
      '',
    ].join('\n'));
    chmodSync(path.join(bin, 'systemctl'), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}` };

    const init = await runCli(['init', '--env', 'prod', '--path', deployTo], cwd, env);
    expect(init.code, init.stderr).toBe(0);
    const file = readFileSync(path.join(cwd, 'rollback-config.yml'), 'utf8');
    expect(file).toMatch(/^ {6}layout: capistrano +# /m);
    expect(file).toMatch(/^ {6}stop: systemctl --user stop app\.service +# /m);
    expect(file).toMatch(/^ {6}start: systemctl --user start app\.service +# /m);
    expect(file).toContain(`- tcp: { host: 127.0.0.1, port: ${port} }`);
    expect((await runCli(['config', 'check'], cwd, env)).code).toBe(0);

    const rb = await runCli(['rollback', '--env', 'prod', '--reason', 'init test', '--yes', '--json'], cwd, env);
    expect(rb.code, rb.stderr).toBe(0);
    const result = JSON.parse(rb.stdout) as { to: string; verification: string; steps: { name: string; status: string }[] };
    expect(result).toMatchObject({ to: names[1], verification: 'passed' });
    expect(result.steps.filter((s) => s.name === 'stop' || s.name === 'start').map((s) => s.status)).toEqual(['ok', 'ok']);
    expect(readFileSync(calls, 'utf8')).toBe('stop app.service\nstart app.service\n');
  });

  it('without systemd: the unit is written commented out, and the file works as written', async () => {
    const cwd = workdir();
    const init = await runCli(['init', '--env', 'staging', '--path', deployTo], cwd);
    expect(init.code, init.stderr).toBe(0);
    const file = readFileSync(path.join(cwd, 'rollback-config.yml'), 'utf8');
    expect(file).toMatch(/^ {4}# service: +# unit file app\.service points here/m);
    expect(file).not.toMatch(/^ {4}service:/m);
    expect(file).toContain(`- tcp: { host: 127.0.0.1, port: ${port} }`);
    expect((await runCli(['config', 'check'], cwd)).code).toBe(0);
    const verify = await runCli(['verify', '--env', 'staging'], cwd);
    expect(verify.code, verify.stderr).toBe(0);
    const dry = await runCli(['rollback', '--env', 'staging', '--dry-run', '--json'], cwd);
    expect(dry.code, dry.stderr).toBe(0);
    const steps = (JSON.parse(dry.stdout) as { steps: { name: string; status: string }[] }).steps;
    expect(steps.filter((s) => s.name === 'stop' || s.name === 'start').map((s) => s.status)).toEqual(['skipped', 'skipped']);
  });

  it('never overwrites: with a rollback-config.yml there it exits 1, changes nothing and prints the environment block', async () => {
    const cwd = workdir();
    writeFileSync(path.join(cwd, 'rollback-config.yml'), 'environments: {}\n');
    const init = await runCli(['init', '--env', 'prod', '--path', deployTo], cwd);
    expect(init.code).toBe(1);
    expect(readFileSync(path.join(cwd, 'rollback-config.yml'), 'utf8')).toBe('environments: {}\n');
    expect(init.stdout).toMatch(/^ {2}prod: +# \d releases found at /);
    expect(init.stdout).toMatch(/^ {6}layout: capistrano /m);
    expect(init.stderr).toContain('rollback-config.yml exists');
    expect(existsSync(path.join(cwd, 'rollback-config.schema.json'))).toBe(false);
  });

  it('a Procfile without a unit is a commented suggestion; a backups folder of this tool is found with the link into it', async () => {
    const cwd = realpathSync(mkdtempSync(path.join(root, 'cwd-')));
    const dt = path.join(cwd, 'deployer-app');
    mkdirSync(path.join(dt, 'releases', '1'), { recursive: true });
    mkdirSync(path.join(dt, '.dep'));
    writeFileSync(path.join(dt, 'releases', '1', 'Procfile'), 'web: bundle exec puma -p 3000\nworker: bundle exec sidekiq\n');
    symlinkSync('releases/1', path.join(dt, 'current'));
    const proc = await runCli(['init', '--env', 'prod', '--path', dt], cwd);
    expect(proc.code, proc.stderr).toBe(0);
    const file = readFileSync(path.join(cwd, 'rollback-config.yml'), 'utf8');
    expect(file).toMatch(/^ {4}# service: +# no systemd unit found; the Procfile runs web: bundle exec puma -p 3000$/m);
    expect(file).not.toMatch(/^ {4}service:/m);

    const other = realpathSync(mkdtempSync(path.join(root, 'cwd-')));
    const backups = path.join(other, 'backups');
    mkdirSync(path.join(backups, 'backup_20241112_100000'), { recursive: true });
    mkdirSync(path.join(backups, 'backup_20241112_110000'));
    symlinkSync(path.join(backups, 'backup_20241112_110000'), path.join(other, 'current'));
    const init = await runCli(['init', '--env', 'test', '--path', 'backups'], other);
    expect(init.code, init.stderr).toBe(0);
    const text = readFileSync(path.join(other, 'rollback-config.yml'), 'utf8');
    expect(text).toContain(`      backups_dir: ${backups} `);
    expect(text).toContain(`      current: ${path.join(other, 'current')} `);
    const list = await runCli(['list', '--env', 'test', '--json'], other);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { name: string; current: boolean }[]).map((b) => [b.name, b.current])).toEqual([
      ['backup_20241112_110000', true], ['backup_20241112_100000', false],
    ]);
  });

  it('a directory with no releases is an error naming it', async () => {
    const cwd = workdir();
    const init = await runCli(['init', '--env', 'prod', '--path', cwd], cwd);
    expect(init.code).toBe(1);
    expect(init.stderr).toContain(`no releases found at ${cwd}`);
    expect(existsSync(path.join(cwd, 'rollback-config.yml'))).toBe(false);
  });
});
