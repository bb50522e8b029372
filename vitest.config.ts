import { defineConfig } from 'vitest/config';

// Tests spawn real processes (sshd, HTTP services, the built CLI): generous timeouts, limited parallelism
// so a 2-core CI machine is not oversubscribed. The deadlines only catch hangs: the end-to-end tests and
// fixture hooks (a fleet of sshds, a service on each) take several times longer under that load.
// The benchmark's smoke test loads the machine on purpose (it restarts services, runs the demo and idles
// consoles to measure them): it runs after everything else, alone, so it neither races the end-to-end
// tests nor is measured under their load.
const LOAD = ['test/demo/bench.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 3,
    globalSetup: ['test/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts', 'test/**/*.test.tsx'], exclude: LOAD, sequence: { groupOrder: 0 } },
      },
      { extends: true, test: { name: 'load', include: LOAD, sequence: { groupOrder: 1 } } },
    ],
  },
});
