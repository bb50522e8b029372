import { defineConfig } from 'vitest/config';

// Tests spawn real processes (sshd, HTTP services, the built CLI): generous timeouts, limited parallelism
// so a 2-core CI machine is not oversubscribed.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 3,
    globalSetup: ['test/global-setup.ts'],
  },
});
