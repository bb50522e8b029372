/** `list`, `snapshot` and `verify` through the built bin, locally and (when sshd exists) over SSH. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeReleaseLayout, type ReleaseLayout } from '../helpers/releases.js';
import { describeSsh, startSshd, type Sshd } from '../helpers/sshd.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'rollback-tui.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], configFile: string): Promise<Run> {
  return new Promise((resolve) => {
    const env = { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ROLLBACK_CONFIG: configFile, NO_COLOR: '1' };
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function writeConfig(dir: string, envs: Record<string, string>): string {
  const file = path.join(dir, 'rollback-config.yml');
  writeFileSync(file, `environments:\n${Object.entries(envs).map(([n, body]) => `  ${n}:\n${body}`).join('')}`);
  return file;
}

function symlinkEnvYaml(l: ReleaseLayout, executor = '{ type: local }'): string {
  return [
    `    executor: ${executor}`,
    '    target:',
    '      strategy: symlink',
    `      backups_dir: ${JSON.stringify(l.backupsDir)}`,
    `      current: ${JSON.stringify(l.current)}`,
    `    state_dir: ${JSON.stringify(l.stateDir)}`,
    '',
  ].join('\n');
}

const keys = ['name', 'created', 'size_bytes', 'current', 'known_good', 'bad'];

function cliSuite(label: string, executorYaml: () => string) {
  describe(`list / snapshot / verify (${label})`, () => {
    let l: ReleaseLayout;
    let lonely: ReleaseLayout;
    let dir: string;
    let config: string;
    beforeAll(() => {
      l = makeReleaseLayout({ count: 3 });
      lonely = makeReleaseLayout({ count: 1 });
      dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-cli-'));
      config = writeConfig(dir, { app: symlinkEnvYaml(l, executorYaml()), lonely: symlinkEnvYaml(lonely, executorYaml()) });
    });
    afterAll(() => {
      l.cleanup();
      lonely.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('list --json prints the contract shape, newest first', async () => {
      const r = await run(['list', '--env', 'app', '--json'], config);
      expect(r.code, r.stderr).toBe(0);
      const list = JSON.parse(r.stdout) as Record<string, unknown>[];
      expect(list.map((b) => b.name)).toEqual([...l.names].reverse());
      for (const b of list) expect(Object.keys(b).sort()).toEqual([...keys].sort());
      expect(list[0]).toMatchObject({ current: true, known_good: false, bad: false, size_bytes: null, created: '2024-11-12T12:00:00.000Z' });
    });

    it('list prints a table marking the current one; --sizes fills sizes', async () => {
      const r = await run(['list', '--env', 'app', '--sizes'], config);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/NAME\s+CREATED \(UTC\)\s+SIZE\s+MARKS/);
      expect(lines[1]).toMatch(new RegExp(`●\\s+${l.names[2]}\\s+2024-11-12 12:00:00\\s+\\d.*current`));
      expect(lines[2]).not.toMatch(/current/);
    });

    it('verify names the default target (exit 0), or says why not (exit 1)', async () => {
      const ok = await run(['verify', '--env', 'app'], config);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain(`${l.names[2]} -> ${l.names[1]}`);
      const j = await run(['verify', '--env', 'app', '--json'], config);
      expect(JSON.parse(j.stdout)).toEqual({ ok: true, env: 'app', target: l.names[1], reason: null, live: l.names[2] });
      const no = await run(['verify', '--env', 'lonely'], config);
      expect(no.code).toBe(1);
      expect(no.stderr).toMatch(/cannot be rolled back: no backup older than the live one/);
      const nj = await run(['verify', '--env', 'lonely', '--json'], config);
      expect(nj.code).toBe(1);
      expect(JSON.parse(nj.stdout)).toMatchObject({ ok: false, env: 'lonely', target: null });
    });

    it('snapshot copies what is live and prints it', async () => {
      const r = await run(['snapshot', '--env', 'lonely', '--json'], config);
      expect(r.code, r.stderr).toBe(0);
      const b = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(Object.keys(b).sort()).toEqual([...keys].sort());
      expect(String(b.name)).toMatch(/^backup_\d{8}_\d{6}/);
      expect(existsSync(path.join(lonely.backupsDir, String(b.name), 'VERSION'))).toBe(true);
      const text = await run(['snapshot', '--env', 'lonely'], config);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/^snapshot backup_\d{8}_\d{6}\S* created /);
      expect(readdirSync(lonely.backupsDir)).toHaveLength(3);
    });

    it('--help shows examples', async () => {
      for (const cmd of ['list', 'snapshot', 'verify']) {
        const r = await run([cmd, '--help'], config);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain('Examples:');
        expect(r.stdout).toContain(`rollback-tui ${cmd} --env prod`);
      }
    });
  });
}

cliSuite('local', () => '{ type: local }');

describeSsh('over ssh', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  cliSuite('ssh', () => JSON.stringify(sshd.aliasConfig()));

  it('an unreachable host is exit 1 with the transport message', async () => {
    const l = makeReleaseLayout({ count: 2 });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-cli-'));
    try {
      const config = writeConfig(dir, { down: symlinkEnvYaml(l, JSON.stringify(sshd.executorConfig({ port: 1, user: 'deploy' }))) });
      const r = await run(['list', '--env', 'down'], config);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot reach deploy@127\.0\.0\.1:1: Connection refused; check the host is up/);
    } finally {
      l.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
