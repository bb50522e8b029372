/**
 * Import this first in a test file that draws the real App: ink decides once, when it is imported,
 * whether it runs in CI (is-in-ci) and then draws nothing until exit. ESM evaluates imports in order,
 * so hiding CI here happens before ink is loaded; the value is put back after the file's tests.
 */
import { afterAll } from 'vitest';

const saved = process.env.CI;
process.env.CI = 'false';
afterAll(() => {
  if (saved === undefined) delete process.env.CI;
  else process.env.CI = saved;
});
