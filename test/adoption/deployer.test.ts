/**
 * Deployer's layout, built from its documented format, locally and over the loopback sshd: `init` writes a
 * config `config check` passes; releases order by .dep/releases_log (all mtimes equal), else by number;
 * BAD_RELEASE is read and written as `dep rollback` writes it; a relative current stays relative;
 * .dep/deploy.lock is honoured (exit 3) unless --break-lock.
 */
import { existsSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeSsh, startSshd, type Sshd } from '../helpers/sshd.js';
import { makeDeployerDir, runCli, startReleaseService, type DeployerDir } from './fixtures.js';

interface ListEntry { name: string; current: boolean; bad: boolean }

function suite(label: string, describeFn: typeof describe, hostArgs: () => string[], remote: boolean) {
  describeFn(`Deployer layout (${label})`, () => {
    const dirs: DeployerDir[] = [];
    const cwds: string[] = [];
    afterAll(() => {
      for (const d of dirs) d.cleanup();
      for (const c of cwds) rmSync(c, { recursive: true, force: true });
    });
    const setup = async (names: string[], options: Parameters<typeof makeDeployerDir>[1] = {}) => {
      const d = makeDeployerDir(names, options);
      dirs.push(d);
      const cwd = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'rtui-init-')));
      cwds.push(cwd);
      const init = await runCli(['init', '--env', 'prod', '--path', d.deployPath, ...hostArgs()], cwd);
      expect(init.code, init.stderr).toBe(0);
      const list = async (): Promise<ListEntry[]> => {
        const r = await runCli(['list', '--env', 'prod', '--json'], cwd);
        expect(r.code, r.stderr).toBe(0);
        return JSON.parse(r.stdout) as ListEntry[];
      };
      return { d, cwd, list, cli: (args: string[]) => runCli(args, cwd) };
    };

    it('init + config check; ordered by releases_log; the default rollback skips a BAD_RELEASE and writes one into the fled release; current stays relative', async () => {
      const { d, cwd, list, cli } = await setup(['8', '9', 'hotfix-1', '10'], { bad: ['hotfix-1'] });
      const file = readFileSync(path.join(cwd, 'rollback-config.yml'), 'utf8');
      expect(file.split('\n')[0]).toBe('# yaml-language-server: $schema=./rollback-config.schema.json');
      expect(file).toMatch(/^ {6}layout: deployer +# /m);
      expect(file).toMatch(/^ {4}# service:/m);
      expect(existsSync(path.join(cwd, 'rollback-config.schema.json'))).toBe(true);
      const check = await cli(['config', 'check']);
      expect(check.code, check.stderr).toBe(0);

      const before = await list();
      expect(before.map((b) => b.name)).toEqual(['10', 'hotfix-1', '9', '8']);
      expect(before.find((b) => b.name === 'hotfix-1')?.bad).toBe(true);
      expect(before[0]?.current).toBe(true);
      const verify = await cli(['verify', '--env', 'prod']);
      expect(verify.code, verify.stderr).toBe(0);

      const rb = await cli(['rollback', '--env', 'prod', '--reason', 'INC-7 errors', '--yes', '--json']);
      expect(rb.code, rb.stderr).toBe(0);
      expect(JSON.parse(rb.stdout)).toMatchObject({ ok: true, from: '10', to: '9' });
      expect(readlinkSync(path.join(d.deployPath, 'current'))).toBe('releases/9');
      expect(readFileSync(path.join(d.deployPath, 'releases', '10', 'BAD_RELEASE'), 'utf8')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000,oncall\n$/);
      expect(existsSync(path.join(d.deployPath, '.dep', 'deploy.lock'))).toBe(false);
      expect(existsSync(path.join(d.deployPath, '.rollback-tui', 'history.jsonl'))).toBe(true);
      const after = await list();
      expect(after.map((b) => [b.name, b.current, b.bad])).toEqual([['10', false, true], ['hotfix-1', false, true], ['9', true, false], ['8', false, false]]);

      const to = await cli(['rollback', '--env', 'prod', '--reason', 'try the hotfix', '--to', 'hotfix-1', '--yes']);
      expect(to.code, to.stderr).toBe(0);
      expect(readlinkSync(path.join(d.deployPath, 'current'))).toBe('releases/hotfix-1');
      expect(existsSync(path.join(d.deployPath, 'releases', '9', 'BAD_RELEASE'))).toBe(true);
    });

    it('init proposes a tcp check on the port a process of the deployment listens on; the rollback as written verifies with it', async () => {
      const d = makeDeployerDir(['1', '2']);
      dirs.push(d);
      const service = await startReleaseService(path.join(d.deployPath, 'current'));
      const port = service.port;
      try {
        const cwd = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'rtui-init-')));
        cwds.push(cwd);
        const init = await runCli(['init', '--env', 'prod', '--path', d.deployPath, ...hostArgs()], cwd);
        expect(init.code, init.stderr).toBe(0);
        const file = readFileSync(path.join(cwd, 'rollback-config.yml'), 'utf8');
        expect(file).toContain(`      - tcp: { host: 127.0.0.1, port: ${port}${remote ? ', via: target' : ''} }`);
        const rb = await runCli(['rollback', '--env', 'prod', '--reason', 'x', '--yes', '--json'], cwd);
        expect(rb.code, rb.stderr).toBe(0);
        expect(JSON.parse(rb.stdout)).toMatchObject({ from: '2', to: '1', verification: 'passed' });
      } finally {
        await service.stop();
      }
    });

    it('without releases_log the names order as numbers (10 is newer than 9), never by mtime; snapshot is refused', async () => {
      const { list, cli } = await setup(['1', '2', '9', '10'], { log: false });
      expect((await list()).map((b) => b.name)).toEqual(['10', '9', '2', '1']);
      const dry = await cli(['rollback', '--env', 'prod', '--dry-run', '--json']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(JSON.parse(dry.stdout)).toMatchObject({ from: '10', to: '9' });
      const snap = await cli(['snapshot', '--env', 'prod']);
      expect(snap.code).toBe(1);
      expect(snap.stderr).toContain('snapshots are not taken on a deployer layout');
    });

    it(".dep/deploy.lock is a held lock: exit 3 naming it and its content; --break-lock goes ahead and leaves no lock", async () => {
      const { d, cli } = await setup(['1', '2', '3']);
      const lock = path.join(d.deployPath, '.dep', 'deploy.lock');
      writeFileSync(lock, 'bob\n');
      const held = await cli(['rollback', '--env', 'prod', '--reason', 'x', '--yes']);
      expect(held.code, held.stderr).toBe(3);
      expect(held.stderr).toContain(lock);
      expect(held.stderr).toContain('bob');
      expect(readlinkSync(path.join(d.deployPath, 'current'))).toBe('releases/3');
      const verify = await cli(['verify', '--env', 'prod']);
      expect(verify.code).toBe(3);
      expect(verify.stderr + verify.stdout).toContain('deploy.lock');
      const broken = await cli(['rollback', '--env', 'prod', '--reason', 'x', '--yes', '--break-lock']);
      expect(broken.code, broken.stderr).toBe(0);
      expect(readlinkSync(path.join(d.deployPath, 'current'))).toBe('releases/2');
      expect(existsSync(lock)).toBe(false);
    });
  });
}

suite('local', describe, () => [], false);

let sshd: Sshd | undefined;
describeSsh('over ssh', () => {
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  suite('ssh', describe, () => {
    const s = sshd!;
    return ['--host', '127.0.0.1', '--port', String(s.port), '--user', s.user, '--identity-file', s.identityFile, '--ssh-config', s.sshConfigPath];
  }, true);
});
