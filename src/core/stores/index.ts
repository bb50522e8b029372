/** The one place a backup store is chosen from config (`target.strategy`). */
import type { ResolvedEnvironment } from '../config/schema.js';
import type { Executor } from '../exec/types.js';
import type { MarkStore } from '../state/marks.js';
import { ContainerReleaseStore } from './container.js';
import { ConfigFilesStore } from './files.js';
import { GitReleaseStore } from './git.js';
import { SymlinkReleaseStore } from './symlink.js';
import type { BackupStore } from './types.js';

export function createStore(env: ResolvedEnvironment, executor: Executor, marks: MarkStore | null): BackupStore {
  const t = env.target;
  switch (t.strategy) {
    case 'symlink':
      return new SymlinkReleaseStore(t, executor, marks, env.name);
    case 'git':
      return new GitReleaseStore(t, executor, marks, env.name);
    case 'files':
      return new ConfigFilesStore(t, executor, marks, env.name);
    case 'container':
      return new ContainerReleaseStore(t, executor, marks, env.name, env.service.timeout_seconds);
  }
}

export { SymlinkReleaseStore } from './symlink.js';
export { GitReleaseStore } from './git.js';
export { ConfigFilesStore } from './files.js';
export { ContainerReleaseStore } from './container.js';
export { assertBackupName, isSafeBackupName, backupNameProblem, parseBackupTimestamp, formatBackupName } from './names.js';
export { retentionVictims } from './common.js';
export type { Backup, BackupStore, Marks, StoreCallOptions } from './types.js';
