import { LocalExecutor } from '../../src/core/exec/local.js';
import { stateDirSuite } from './state-dir-suite.js';

stateDirSuite('local', () => new LocalExecutor());
