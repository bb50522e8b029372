/**
 * Live output goes through the one `redactSecrets` before it reaches a person: the verify step's
 * "not healthy yet" lines (a health check's name is its command) and a git build's output, as printed
 * on the CLI's stderr (the same engine events feed the console).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeGitRepo, type GitFixture } from '../helpers/git-repo.js';
import { bin, makeFixture, type Fixture } from './fixture.js';

let fx: Fixture | undefined;
let git: GitFixture | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
  git?.cleanup();
  git = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('live output is redacted', () => {
  it('verify: "not healthy yet: command curl -H \'X-Api-Key: ...\'" shows no key', async () => {
    // The target release listens only after 1.5 s: verification reports failing rounds first.
    fx = await makeFixture({ releases: [{}, { start_delay_ms: 1500 }, {}] });
    const check = `curl -sf -H 'X-Api-Key: k3y-verify-77' http://127.0.0.1:${fx.port}/health`;
    fx.writeConfig({ health: [{ command: check }] });
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/not healthy yet: command curl -sf -H 'X-Api-Key: \*\*\*'/);
    expect(r.stderr).not.toContain('k3y-verify-77');
  });

  it("git: a build step's output shows no token", async () => {
    git = makeGitRepo(3);
    const records = path.join(git.repo, '.rollback');
    mkdirSync(records);
    writeFileSync(path.join(records, 'deployed'), git.commits.map((h, i) => `${1_700_000_000 + i} ${h}\n`).join(''));
    git.git('checkout', '-q', git.commits[2]!);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-gitredact-'));
    dirs.push(dir);
    const config = path.join(dir, 'rollback-config.yml');
    const build = `echo "fetching https://deploy:p4ss-build-99@registry.example/pkg with token=t0k-build-42"; echo "Authorization: Bearer b34rer-build-5" >&2`;
    writeFileSync(
      config,
      `environments:\n  g:\n    target:\n      strategy: git\n      repo: ${git.repo}\n      build: [${JSON.stringify(build)}]\n    state_dir: ${dir}/state\n`,
    );
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [bin, '--config', config, 'rollback', '--env', 'g', '--reason', 'x', '--yes'], {
        env: { ...process.env, NO_COLOR: '1', ROLLBACK_ENV: '' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      c.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('fetching https://registry.example/***');
    expect(r.stderr).toContain('token=***');
    expect(r.stderr).toContain('Bearer ***');
    for (const secret of ['p4ss-build-99', 't0k-build-42', 'b34rer-build-5']) expect(r.stderr).not.toContain(secret);
  });
});
