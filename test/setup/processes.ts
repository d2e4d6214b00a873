/**
 * Vitest global set-up: the run's directory of running test servers
 * (test/helpers/process-registry.ts) and, when the run ends, the kill of any still running —
 * those of a test fork that died before its own teardown (test/setup/processes-per-file.ts). A
 * run that ends on such a crash skips the teardown, hence the exit handler too.
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killMarkedProcesses, PROCESS_DIR_ENV } from '../helpers/process-registry.js';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'bucket-test-processes-'));
  process.env[PROCESS_DIR_ENV] = dir;
  const reap = () => {
    if (!existsSync(dir)) return;
    const killed = killMarkedProcesses(dir, readdirSync(dir));
    if (killed > 0) console.error(`killed ${killed} test server process(es) left running`);
  };
  // First: vitest's own exit handler exits again at once, and the handlers after it never run.
  process.prependOnceListener('exit', reap);
  return reap;
}
