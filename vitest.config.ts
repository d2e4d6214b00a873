import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The scale-out run's s3rver and clean-up; a no-op in the embedded run.
    globalSetup: ['test/setup/scaleout.ts'],
  },
});
