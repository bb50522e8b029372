/**
 * A Capistrano project deploying a local git repository to the loopback sshd with the real `cap`
 * (Debian's capistrano 3.17): `deploy(n)` runs `cap production deploy`, `rollback()` runs
 * `cap production deploy:rollback`. Release names come from Capistrano's own clock, pinned per deploy
 * through CAP_RELEASE_EPOCH so that several deploys within one second get distinct, known names.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Sshd } from '../helpers/sshd.js';

export const capAvailable = spawnSync('cap', ['--version'], { stdio: 'ignore' }).status === 0;

if (!capAvailable) {
  const msg = '\n!!! `cap` (Debian package capistrano) is not installed: the Capistrano tests are SKIPPED.\n';
  if (process.env.CI) throw new Error(msg + '(CI must install capistrano)');
  console.warn(msg);
}

export interface CapProject {
  root: string;
  deployTo: string;
  /** Release name of the n-th pinned deploy (UTC YYYYMMDDHHMMSS). */
  releaseName(n: number): string;
  /** `cap production deploy` as release n; returns the release name. */
  deploy(n: number): string;
  /** `cap production deploy:rollback` (with ROLLBACK_RELEASE when given); returns cap's output. */
  rollback(release?: string): string;
  cleanup(): void;
}

const BASE_EPOCH = Date.UTC(2024, 0, 3, 12, 0, 0) / 1000;

function stamp(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export function makeCapProject(sshd: Sshd): CapProject {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'rtui-cap-')));
  const repo = path.join(root, 'app.git');
  const work = path.join(root, 'app');
  const project = path.join(root, 'deploy');
  const deployTo = path.join(root, 'srv', 'app');
  const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.com', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.com' };
  const git = (cwd: string, ...args: string[]): string => execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8', env: gitEnv }).trim();
  mkdirSync(work);
  git(work, 'init', '-q', '-b', 'main');
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', repo]);
  git(work, 'remote', 'add', 'origin', repo);

  mkdirSync(path.join(project, 'config', 'deploy'), { recursive: true });
  writeFileSync(path.join(project, 'Capfile'), [
    'require "capistrano/setup"',
    'require "capistrano/deploy"',
    'require "capistrano/scm/git"',
    'install_plugin Capistrano::SCM::Git',
    '',
  ].join('\n'));
  writeFileSync(path.join(project, 'config', 'deploy.rb'), [
    'lock "~> 3.17"',
    'set :application, "app"',
    `set :repo_url, ${JSON.stringify(`file://${repo}`)}`,
    'set :branch, "main"',
    `set :deploy_to, ${JSON.stringify(deployTo)}`,
    'set :keep_releases, 5',
    'set :format_options, color: false',
    'set :log_level, :info',
    `set :ssh_options, { keys: [${JSON.stringify(sshd.identityFile)}], port: ${sshd.port}, user: ${JSON.stringify(sshd.user)},`,
    '  auth_methods: ["publickey"], verify_host_key: :never, keys_only: true }',
    '# The test pins the release name: Capistrano names a release after its clock (UTC, to the second).',
    'if ENV["CAP_RELEASE_EPOCH"]',
    '  Capistrano::Configuration.env.instance_variable_set(:@timestamp, Time.at(Integer(ENV["CAP_RELEASE_EPOCH"])).utc)',
    'end',
    '',
  ].join('\n'));
  writeFileSync(path.join(project, 'config', 'deploy', 'production.rb'), `server "127.0.0.1", user: ${JSON.stringify(sshd.user)}, roles: %w{app}, port: ${sshd.port}\n`);

  const cap = (args: string[], env: Record<string, string> = {}): string => {
    const r = spawnSync('cap', args, { cwd: project, encoding: 'utf8', env: { ...process.env, USER: 'deployer-dev', ...env }, timeout: 180_000 });
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0) throw new Error(`cap ${args.join(' ')} failed (exit ${r.status}):\n${out}`);
    return out;
  };

  return {
    root,
    deployTo,
    releaseName: (n) => stamp(BASE_EPOCH + n * 3600),
    deploy(n) {
      writeFileSync(path.join(work, 'VERSION'), `${n}\n`);
      git(work, 'add', '-A');
      git(work, 'commit', '-q', '-m', `release ${n}`);
      git(work, 'push', '-q', 'origin', 'main');
      cap(['production', 'deploy'], { CAP_RELEASE_EPOCH: String(BASE_EPOCH + n * 3600) });
      const name = stamp(BASE_EPOCH + n * 3600);
      if (!existsSync(path.join(deployTo, 'releases', name))) throw new Error(`cap deploy did not create release ${name}`);
      return name;
    },
    rollback(release) {
      return cap(['production', 'deploy:rollback'], release ? { ROLLBACK_RELEASE: release } : {});
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
