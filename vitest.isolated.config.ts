/**
 * The test files that mock a module (`vi.mock`), each run with modules of its own: the main run
 * (vitest.config.ts) keeps a fork's modules from file to file (docs/decisions/0065), where a
 * module loaded for an earlier file would bypass the mock. `npm test` runs this after the main run.
 */
import { defineConfig } from 'vitest/config';
import { MOCKING_MODULES } from './vitest.config.js';

export default defineConfig({
  test: {
    include: MOCKING_MODULES,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { isolate: true } },
    globalSetup: ['test/setup/processes.ts'],
    setupFiles: ['test/setup/processes-per-file.ts'],
  },
});
