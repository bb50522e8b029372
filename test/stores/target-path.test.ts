/** Every store refuses a relative or line-breaking target path before anything runs, naming the key. */
import { describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../src/core/exec/local.js';
import { ConfigFilesStore } from '../../src/core/stores/files.js';
import { GitReleaseStore } from '../../src/core/stores/git.js';
import { SymlinkReleaseStore } from '../../src/core/stores/symlink.js';

const ex = new LocalExecutor();

describe('target paths', () => {
  it('symlink: backups_dir and current must be absolute, without line breaks', () => {
    const ok = { strategy: 'symlink' as const, backups_dir: '/opt/app/backups/', current: '/opt/app/current', pattern: 'backup_*' };
    expect(() => new SymlinkReleaseStore(ok, ex, null)).not.toThrow();
    expect(() => new SymlinkReleaseStore({ ...ok, backups_dir: 'backups' }, ex, null)).toThrow(/target\.backups_dir must be an absolute path/);
    expect(() => new SymlinkReleaseStore({ ...ok, current: '/opt/app/cur\nrent' }, ex, null)).toThrow(/target\.current must be an absolute path/);
  });

  it('git: repo and backups_dir; files: backups_dir', () => {
    const git = { strategy: 'git' as const, repo: '/srv/app', build: [] };
    expect(() => new GitReleaseStore(git, ex, null)).not.toThrow();
    expect(() => new GitReleaseStore({ ...git, repo: 'srv/app' }, ex, null)).toThrow(/target\.repo must be an absolute path/);
    expect(() => new GitReleaseStore({ ...git, backups_dir: '/srv/rec\n' }, ex, null)).toThrow(/target\.backups_dir must be an absolute path/);
    const files = { strategy: 'files' as const, backups_dir: '/var/backups/app', files: ['/etc/app/a.json'] };
    expect(() => new ConfigFilesStore(files, ex, null)).not.toThrow();
    expect(() => new ConfigFilesStore({ ...files, backups_dir: './b' }, ex, null)).toThrow(/target\.backups_dir must be an absolute path/);
  });
});
