import { configDefaults, defineConfig } from 'vitest/config';

/** Test files that mock a module: run apart, each with fresh modules (vitest.isolated.config.ts). */
export const MOCKING_MODULES = ['test/unit/storage/fs-composite*.test.ts'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Most files wait on I/O (servers, child processes, fsync, PostgreSQL): by default vitest runs
    // one fork per core but one, which is a single fork on a 2-core machine. Four overlap the waits.
    maxWorkers: 4,
    // Each fork runs file after file with the modules it loaded kept (docs/decisions/0065): about
    // a third less CPU than loading them again for every file. As many forks at the end as at the
    // start: tinypool retiring an idle fork that is not isolated fails the run.
    minWorkers: 4,
    poolOptions: { forks: { isolate: false } },
    // Files that mock a module (`vi.mock`) need a module graph of their own: a fork that kept the
    // real module from an earlier file would bypass the mock. They run in a second, isolated run
    // (vitest.isolated.config.ts; npm test runs both).
    exclude: [...configDefaults.exclude, ...MOCKING_MODULES],
    // The scale-out run's s3rver and clean-up (a no-op in the embedded run); the console's build
    // when it is missing or stale (SPEC §14 browser tests).
    // The run's record of test server processes, and their kill after each file and at the end
    // (a failed test never leaves a server running).
    globalSetup: ['test/setup/scaleout.ts', 'test/setup/console.ts', 'test/setup/processes.ts'],
    setupFiles: ['test/setup/processes-per-file.ts'],
  },
});
