/**
 * The test-only fault of a worker (src/cluster/worker.ts, decision 0054): which workers it fails,
 * and that a server not under test refuses to start with it.
 */
import { describe, expect, it } from 'vitest';
import { injectWorkerFault, WORKER_FAULT_ENV } from '../../../src/cluster/worker.js';

const test = (fault: string) => ({ NODE_ENV: 'test', [WORKER_FAULT_ENV]: fault });

describe(WORKER_FAULT_ENV, () => {
  it('fails every worker, or only those it names', () => {
    expect(() => injectWorkerFault(test('die-before-ready'), 7)).toThrow(/worker 7 dies/);
    expect(() => injectWorkerFault(test('die-before-ready:2,4'), 4)).toThrow(/worker 4 dies/);
    expect(() => injectWorkerFault(test('die-before-ready:2,4'), 3)).not.toThrow();
    expect(() => injectWorkerFault({ NODE_ENV: 'production' }, 1)).not.toThrow();
  });

  it('is refused outside tests, and when it names no fault it has', () => {
    expect(() =>
      injectWorkerFault({ NODE_ENV: 'production', [WORKER_FAULT_ENV]: 'die-before-ready' }, 1),
    ).toThrow(/needs NODE_ENV=test/);
    expect(() => injectWorkerFault(test('die-later'), 1)).toThrow(/must be die-before-ready/);
  });
});
