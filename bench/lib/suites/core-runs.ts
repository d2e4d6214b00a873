/**
 * Core's runs in-process (issue 20): 1,000 runs of `finance_daily_check` queued at once with
 * `limits.concurrentRuns` 8 (the default). Reports runs completed per second, the p99 queue wait
 * (created → started) and one step's overhead — timed by the engine with hrtime around the step's
 * `running` save, its agent_output artifact written through the gate and its `succeeded` save with
 * its event, the agent's own time taken out — the median and p99 over all steps.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBucket } from '../../../src/bucket.js';
import { configFromEnv } from '../../../src/config.js';
import type { RunRecord } from '../../../src/domain/runs.js';
import type { Row } from '../report.js';
import type { Suite } from '../suite.js';

const RUNS = 1000;

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export const coreRuns: Suite = {
  name: 'core runs',
  async run({ log }) {
    const dir = await mkdtemp(join(tmpdir(), 'bucket-bench-core-'));
    const steps: number[] = [];
    const bucket = await createBucket(
      configFromEnv({ BUCKET_DATA_DIR: dir, BUCKET_LOG_LEVEL: 'silent' }),
      { core: { pollMs: 50, observeStep: (ms) => steps.push(ms) } },
    );
    try {
      const owner = { id: 'bench', kind: 'owner' as const, product: null, integrationId: null };
      const input = { transactions: [{ amount: 100 }, { amount: -50 }] };
      log(`core runs: ${RUNS} runs of finance_daily_check queued at once, concurrentRuns 8`);
      const started = process.hrtime.bigint();
      // Queued together: their inserts share the store's commits as concurrent requests would.
      const queued = await Promise.all(
        Array.from({ length: RUNS }, () =>
          bucket.core.runs.start({ kind: 'basket', name: 'finance_daily_check' }, input, owner),
        ),
      );
      const ids = queued.map((run) => run.id);
      const runs: RunRecord[] = [];
      for (const id of ids) {
        const run = await bucket.core.runs.wait(id, 600_000);
        if (run) runs.push(run);
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const waits = runs.map(
        (run) => Date.parse(run.startedAt ?? run.createdAt) - Date.parse(run.createdAt),
      );
      const succeeded = runs.filter((run) => run.status === 'succeeded').length;
      const note = succeeded === RUNS ? {} : { note: `${RUNS - succeeded} runs did not succeed` };
      const rows: Row[] = [
        {
          name: `Core: ${RUNS} basket runs, completed per second`,
          unit: 'runs/s',
          bucket: RUNS / seconds,
          bare: null,
          ...note,
        },
        {
          name: 'Core: queue wait of those runs, p99',
          unit: 'ms',
          bucket: quantile(waits, 0.99),
          bare: null,
        },
        {
          name: 'Core: one built-in step (persist + artifact + event), median',
          unit: 'ms',
          bucket: quantile(steps, 0.5),
          bare: null,
        },
        {
          name: 'Core: one built-in step (persist + artifact + event), p99',
          unit: 'ms',
          bucket: quantile(steps, 0.99),
          bare: null,
        },
      ];
      return rows;
    } finally {
      await bucket.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
