/** A temp git working tree with N commits, each recorded as deployed by the git store's snapshot. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface GitFixture {
  repo: string;
  /** Full hashes, oldest first. */
  commits: string[];
  git(...args: string[]): string;
  commit(message: string, files: Record<string, string>): string;
  cleanup(): void;
}

export function makeGitRepo(count = 3): GitFixture {
  const repo = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'rtui-git-')));
  const git = (...args: string[]): string =>
    execFileSync('git', ['-C', repo, ...args], {
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@example.com', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@example.com' },
    }).trim();
  git('init', '-q', '-b', 'main');
  const commit = (message: string, files: Record<string, string>): string => {
    for (const [f, c] of Object.entries(files)) writeFileSync(path.join(repo, f), c);
    git('add', '-A', '--', ...Object.keys(files));
    git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  const commits: string[] = [];
  for (let i = 1; i <= count; i++) commits.push(commit(`release ${i}`, { 'app.txt': `version ${i}\n` }));
  return { repo, commits, git, commit, cleanup: () => rmSync(repo, { recursive: true, force: true }) };
}
