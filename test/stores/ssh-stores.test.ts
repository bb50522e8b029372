/**
 * The same store suites through a real sshd on 127.0.0.1 (SshExecutor, multiplexed connection). The
 * temp directories are on this machine, which is also the "remote" host.
 */
import { describeSsh, sshExecutorForBlock } from '../helpers/sshd.js';
import { filesStoreSuite } from './files-suite.js';
import { gitStoreSuite } from './git-suite.js';
import { symlinkStoreSuite } from './symlink-suite.js';
import { stateDirSuite } from './state-dir-suite.js';

describeSsh('stores over ssh', () => {
  // One executor (one master connection) for the file, like one console process.
  const ex = sshExecutorForBlock();
  symlinkStoreSuite('ssh', ex);
  gitStoreSuite('ssh', ex);
  filesStoreSuite('ssh', ex);
  stateDirSuite('ssh', ex);
});
