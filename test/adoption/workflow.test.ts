/**
 * docs/examples/manual-rollback.yml: its `run:` steps, taken from the YAML, run in bash the way GitHub
 * Actions runs them (env from the job and the step with inputs and secrets filled in, GITHUB_OUTPUT,
 * GITHUB_STEP_SUMMARY) against a real environment: a Deployer deploy_path over the loopback sshd. The
 * install step is replaced by the built bin on PATH; the Slack webhook is a local HTTP server.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeSsh, startSshd, type Sshd } from '../helpers/sshd.js';
import { BIN, makeDeployerDir, REPO_ROOT, type DeployerDir } from './fixtures.js';

interface Step { id?: string; name?: string; uses?: string; run?: string; if?: string; env?: Record<string, string> }
interface Workflow {
  on: { workflow_dispatch: { inputs: Record<string, { type: string; required?: boolean }> } };
  jobs: { rollback: { env: Record<string, string>; steps: Step[] } };
}

function bash(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const workflow = parse(readFileSync(path.join(REPO_ROOT, 'docs', 'examples', 'manual-rollback.yml'), 'utf8')) as Workflow;

describeSsh('the manual-rollback GitHub Actions workflow', () => {
  let sshd: Sshd;
  let d: DeployerDir;
  let work: string;
  let slack: http.Server;
  const posts: string[] = [];
  beforeAll(async () => {
    sshd = await startSshd();
    d = makeDeployerDir(['1', '2', '3']);
    work = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'rtui-gha-')));
    slack = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => { posts.push(body); res.end('ok'); });
    });
    await new Promise<void>((r) => slack.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    await new Promise((r) => slack?.close(r));
    d?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
    await sshd?.stop();
  });

  it('has the inputs environment, backup, emergency and reason; inputs reach run: only through env', () => {
    const inputs = workflow.on.workflow_dispatch.inputs;
    expect(Object.keys(inputs)).toEqual(['environment', 'backup', 'emergency', 'reason']);
    expect(inputs.emergency?.type).toBe('boolean');
    for (const s of workflow.jobs.rollback.steps) expect(s.run ?? '').not.toContain('${{');
  });

  it('its run steps list, verify, roll back over SSH with --yes --json and post the JSON result', async () => {
    const checkout = path.join(work, 'checkout');
    const home = path.join(work, 'home');
    const shim = path.join(work, 'bin');
    for (const dir of [checkout, home, shim]) mkdirSync(dir);
    writeFileSync(path.join(shim, 'rollback-tui'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`);
    chmodSync(path.join(shim, 'rollback-tui'), 0o755);
    writeFileSync(path.join(checkout, 'rollback-config.yml'), [
      'environments:',
      '  prod:',
      `    executor: { type: ssh, host: 127.0.0.1, port: ${sshd.port}, user: ${sshd.user}, identity_file: ~/.ssh/rollback_key, ssh_config: ${sshd.sshConfigPath} }`,
      `    target: { strategy: symlink, layout: deployer, deploy_to: ${d.deployPath} }`,
      '',
    ].join('\n'));
    const hostileReason = `INC-12 "quoted" $(touch ${path.join(work, 'pwned')}) \`id\``;
    const inputs: Record<string, string> = { environment: 'prod', backup: '', emergency: 'false', reason: hostileReason };
    const secrets: Record<string, string> = {
      ROLLBACK_SSH_KEY: readFileSync(sshd.identityFile, 'utf8').trimEnd(),
      ROLLBACK_SSH_KNOWN_HOSTS: '',
      SLACK_WEBHOOK_URL: `http://127.0.0.1:${(slack.address() as AddressInfo).port}/hook`,
    };
    const fill = (v: string): string =>
      String(v).replace(/\$\{\{\s*(inputs|secrets)\.([A-Za-z_]+)\s*\}\}/g, (_m, kind: string, key: string) => (kind === 'inputs' ? inputs : secrets)[key] ?? '');
    const output = path.join(work, 'github_output');
    const summary = path.join(work, 'step_summary');
    const ran: Record<string, { code: number | null; stdout: string; stderr: string }> = {};
    for (const step of workflow.jobs.rollback.steps) {
      if (!step.run || step.id === 'install') continue;
      const env: Record<string, string> = {
        PATH: `${shim}:${process.env.PATH ?? ''}`, HOME: home, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary,
        GITHUB_RUN_ID: '4242', GITHUB_ACTOR: 'octocat', USER: 'runner',
      };
      for (const [k, v] of Object.entries({ ...workflow.jobs.rollback.env, ...step.env })) env[k] = fill(v);
      // Asynchronously: the Slack stand-in answers from this process.
      ran[step.id ?? step.name ?? '?'] = await bash(step.run, checkout, env);
    }
    expect(Object.keys(ran)).toEqual(['ssh-key', 'list', 'verify', 'rollback', 'post']);
    for (const [id, r] of Object.entries(ran)) expect(r.code, `${id}: ${r.stderr}`).toBe(0);
    expect(ran.list?.stdout).toMatch(/3\s.*current/);
    expect(readlinkSync(path.join(d.deployPath, 'current'))).toBe('releases/2');
    const result = JSON.parse(readFileSync(path.join(checkout, 'rollback-result.json'), 'utf8')) as Record<string, unknown>;
    expect(result).toMatchObject({ ok: true, env: 'prod', from: '3', to: '2', exit_code: 0 });
    expect(readFileSync(output, 'utf8')).toContain('exit_code=0');
    expect(readFileSync(summary, 'utf8')).toContain('"to": "2"');
    expect(posts).toHaveLength(1);
    const post = JSON.parse(posts[0]!) as { text: string; result: { ok: boolean } };
    expect(post.text).toBe('Rollback of prod: 3 -> 2 (verification skipped)');
    expect(post.result.ok).toBe(true);
    // The reason was recorded verbatim and never executed.
    expect(existsSync(path.join(work, 'pwned'))).toBe(false);
    const history = readFileSync(path.join(d.deployPath, '.rollback-tui', 'history.jsonl'), 'utf8');
    expect(history).toContain(JSON.stringify(`${hostileReason} (GitHub Actions run 4242 by octocat)`).slice(1, -1));
  });
});
