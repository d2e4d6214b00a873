import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Timed assertions (accepted rates within a tolerance) are not part of `npm test`: they run in
    // `npm run test:slow` (vitest.slow.config.ts), where a busy machine is a known caveat.
    exclude: ['test/slow/**', '**/node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Most files wait on I/O (servers, child processes, fsync, PostgreSQL): by default vitest runs
    // one fork per core but one, which is a single fork on a 2-core machine. Four overlap the waits.
    maxWorkers: 4,
    minWorkers: 1,
    // The scale-out run's s3rver and clean-up; a no-op in the embedded run.
    globalSetup: ['test/setup/scaleout.ts'],
  },
});
