/**
 * Runs in every test file: after the file, kills each server process a test started and did not
 * stop (a failed or timed-out test skips its `dispose()`), so none outlives the file.
 */
import { afterAll } from 'vitest';
import { killLeftProcesses } from '../helpers/process-registry.js';

afterAll(async () => {
  const killed = await killLeftProcesses();
  if (killed > 0) console.error(`killed ${killed} test server process(es) left running`);
});
