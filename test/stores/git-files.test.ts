import { LocalExecutor } from '../../src/core/exec/local.js';
import { filesStoreSuite } from './files-suite.js';
import { gitStoreSuite } from './git-suite.js';

gitStoreSuite('local', () => new LocalExecutor());
filesStoreSuite('local', () => new LocalExecutor());
