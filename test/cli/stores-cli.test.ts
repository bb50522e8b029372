/** `list`, `snapshot` and `verify` through the built bin, locally and (when sshd exists) over SSH. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvLock } from '../../src/core/engine/lock.js';
import { LocalExecutor } from '../../src/core/exec/local.js';
import { StateDir } from '../../src/core/state/state-dir.js';
import { backupNameFor, makeReleaseLayout, type ReleaseLayout } from '../helpers/releases.js';
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

function symlinkEnvYaml(l: ReleaseLayout, executor = '{ type: local }', targetExtra: string[] = []): string {
  return [
    `    executor: ${executor}`,
    '    target:',
    '      strategy: symlink',
    `      backups_dir: ${JSON.stringify(l.backupsDir)}`,
    `      current: ${JSON.stringify(l.current)}`,
    ...targetExtra.map((line) => `      ${line}`),
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

    it('list --json prints the documented shape, newest first', async () => {
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

describe('list / snapshot / verify / rollback --dry-run: hostile layouts (local)', () => {
  const cleanups: (() => void)[] = [];
  afterAll(() => {
    for (const c of cleanups.splice(0)) c();
  });
  function env(opts: Parameters<typeof makeReleaseLayout>[0], targetExtra: string[] = []) {
    const l = makeReleaseLayout(opts);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-cli-'));
    cleanups.push(() => l.cleanup(), () => rmSync(dir, { recursive: true, force: true }));
    return { l, config: writeConfig(dir, { app: symlinkEnvYaml(l, '{ type: local }', targetExtra) }) };
  }
  const backups = (l: ReleaseLayout) => readdirSync(l.backupsDir).filter((n) => n.startsWith('backup_')).sort();

  it('a snapshot with releases named in local time (UTC+2) never becomes the default target; stderr is clean', async () => {
    const ahead = Date.now() + 2 * 3600_000;
    const { l, config } = env({ start: new Date(ahead - 2 * 3600_000), count: 3 });
    const snap = await run(['snapshot', '--env', 'app'], config);
    expect(snap.code, snap.stderr).toBe(0);
    expect(snap.stderr).not.toContain('\0');
    expect(snap.stderr.trim().split('\n')).toEqual(['taking a snapshot of app (symlink, local)...']);
    const name = backupNameFor(new Date(Math.floor(ahead / 1000) * 1000 + 1000));
    expect(snap.stdout).toBe(`snapshot ${name} created ${new Date(Math.floor(ahead / 1000) * 1000 + 1000).toISOString()}\n`);
    const dry = await run(['rollback', '--env', 'app', '--dry-run', '--json'], config);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ from: l.names[2], to: l.names[1], dry_run: true });
  });

  it('a stray symlink is listed as unusable and skipped: verify and a standard rollback use the valid older backup', async () => {
    const { l, config } = env({ count: 3, live: 1 });
    mkdirSync(path.join(l.root, 'elsewhere'));
    symlinkSync(path.join(l.root, 'elsewhere'), path.join(l.backupsDir, 'backup_20241112_105959'));
    const v = await run(['verify', '--env', 'app', '--json'], config);
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, target: l.names[0], live: l.names[1] });
    const j = await run(['list', '--env', 'app', '--json'], config);
    expect(j.code, j.stderr).toBe(0);
    const list = JSON.parse(j.stdout) as Record<string, unknown>[];
    for (const b of list) {
      if (b.name === 'backup_20241112_105959') expect(b).toMatchObject({ unusable: 'a symlink, not a release directory', current: false });
      else expect(Object.keys(b).sort()).toEqual([...keys].sort());
    }
    const t = await run(['list', '--env', 'app'], config);
    expect(t.stdout).toMatch(/backup_20241112_105959\s.*unusable\s+unusable: a symlink, not a release directory/);
    expect(t.stderr).toMatch(/1 entry in the list can never be a rollback target/);
    const dry = await run(['rollback', '--env', 'app', '--dry-run', '--json'], config);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ from: l.names[1], to: l.names[0] });
    const to = await run(['rollback', '--env', 'app', '--dry-run', '--to', 'backup_20241112_105959'], config);
    expect(to.code).toBe(1);
    expect(to.stdout + to.stderr).toMatch(/backup_20241112_105959 cannot be a rollback target: a symlink/);
  });

  it('a damaged marks.json: list warns, verify and a default rollback are refused naming the file, --to works, nothing overwrites it', async () => {
    const { l, config } = env({ count: 3 }, ['keep: 1']);
    mkdirSync(l.stateDir, { recursive: true });
    const file = path.join(l.stateDir, 'marks.json');
    const damaged = `{"known_good": [], "bad": ["${l.names[1]}"`;
    writeFileSync(file, damaged);
    const warning = new RegExp(`marks file ${file} is damaged \\(not valid JSON[^\\n]*Fix: repair it by hand`);

    const t = await run(['list', '--env', 'app'], config);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain(l.names[1]);
    expect(t.stderr).toMatch(warning);
    const j = await run(['list', '--env', 'app', '--json'], config);
    expect(j.code).toBe(0);
    expect((JSON.parse(j.stdout) as Record<string, unknown>[]).every((b) => b.marks_unknown === true && b.bad === false)).toBe(true);
    expect(j.stderr).toMatch(warning);

    const v = await run(['verify', '--env', 'app'], config);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(new RegExp(`cannot be rolled back: ${warning.source}`));
    const dry = await run(['rollback', '--env', 'app', '--dry-run'], config);
    expect(dry.code).toBe(1);
    expect(dry.stdout + dry.stderr).toMatch(warning);
    const std = await run(['rollback', '--env', 'app', '--reason', 'INC-1', '--yes'], config);
    expect(std.code).toBe(1);
    expect(std.stderr).toMatch(warning);
    expect(readlinkSync(l.current)).toBe(path.join(l.backupsDir, l.names[2]!));

    // snapshot: taken, retention refused with the warning
    const before = backups(l);
    const snap = await run(['snapshot', '--env', 'app'], config);
    expect(snap.code, snap.stderr).toBe(0);
    expect(snap.stderr).toMatch(/retention \(keep: 1\) was not applied/);
    expect(backups(l)).toHaveLength(before.length + 1);

    const to = await run(['rollback', '--env', 'app', '--reason', 'INC-1', '--to', l.names[0]!, '--yes', '--json'], config);
    expect(to.code, to.stderr).toBe(0);
    expect(readlinkSync(l.current)).toBe(path.join(l.backupsDir, l.names[0]!));
    expect(to.stderr).toMatch(/cannot record marks \(bad: /);
    expect(readFileSync(file, 'utf8')).toBe(damaged);
  });

  it('snapshot takes the environment lock: a held lock is exit 3 naming the owner, nothing is copied or pruned', async () => {
    const { l, config } = env({ count: 3 }, ['keep: 1']);
    const state = new StateDir(new LocalExecutor(), l.stateDir);
    const lock = await EnvLock.acquire(state, {
      env: 'app', operationId: 'op-held', operation: 'deploy', user: 'alice', initiatedBy: 'alice@bastion', version: 'test', staleMinutes: 30,
    });
    const before = backups(l);
    try {
      const r = await run(['snapshot', '--env', 'app', '--json'], config);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/app is locked by alice@bastion \(pid \d+, deploy op op-held\) since/);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, exit_code: 3, code: 'LOCK_HELD', error: expect.stringMatching(/app is locked by alice@bastion/) as unknown });
      expect(backups(l)).toEqual(before);
    } finally {
      await lock.release();
    }
    const ok = await run(['snapshot', '--env', 'app', '--json'], config);
    expect(ok.code, ok.stderr).toBe(0);
    // keep 1 under the lock: the snapshot, the live release and the newest older than live stay
    expect(backups(l)).toEqual([l.names[1]!, l.names[2]!, (JSON.parse(ok.stdout) as { name: string }).name].sort());
    expect(readdirSync(path.join(l.stateDir, 'locks'))).toEqual([]);
  });
});

describeSsh('over ssh', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });
  cliSuite('ssh', () => JSON.stringify(sshd.aliasConfig()));

  it('an unreachable host is exit 1 with the transport message (verify --json: a document saying no)', async () => {
    const l = makeReleaseLayout({ count: 2 });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-cli-'));
    try {
      const config = writeConfig(dir, { down: symlinkEnvYaml(l, JSON.stringify(sshd.executorConfig({ port: 1, user: 'deploy' }))) });
      const r = await run(['list', '--env', 'down'], config);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot reach deploy@127\.0\.0\.1:1: Connection refused; check the host is up/);
      // a deploy gate reading verify --json still gets a document: a "no" with the transport message
      const v = await run(['verify', '--env', 'down', '--json'], config);
      expect(v.code).toBe(1);
      expect(JSON.parse(v.stdout)).toMatchObject({ ok: false, env: 'down', target: null, live: null, reason: expect.stringMatching(/cannot reach deploy@127\.0\.0\.1:1/) });
    } finally {
      l.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
