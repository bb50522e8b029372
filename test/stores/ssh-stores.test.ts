/**
 * The same store suites through a real sshd on 127.0.0.1 (SshExecutor, multiplexed connection). The
 * temp directories are on this machine, which is also the "remote" host.
 */
import { afterAll, beforeAll } from 'vitest';
import { SshExecutor } from '../../src/core/exec/ssh.js';
import type { Executor } from '../../src/core/exec/types.js';
import { describeSsh, startSshd, type Sshd } from '../helpers/sshd.js';
import { filesStoreSuite } from './files-suite.js';
import { gitStoreSuite } from './git-suite.js';
import { symlinkStoreSuite } from './symlink-suite.js';
import { stateDirSuite } from './state-dir-suite.js';

describeSsh('stores over ssh', () => {
  let sshd: Sshd;
  let ex: Executor;
  beforeAll(async () => {
    sshd = await startSshd();
    // One executor (one master connection) for the file, like one console process.
    ex = new SshExecutor(sshd.aliasConfig());
  });
  afterAll(async () => {
    await ex?.close();
    await sshd?.stop();
  });
  symlinkStoreSuite('ssh', () => ex);
  gitStoreSuite('ssh', () => ex);
  filesStoreSuite('ssh', () => ex);
  stateDirSuite('ssh', () => ex);
});
