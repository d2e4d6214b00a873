/**
 * The RunStore contract (SPEC §11) on every metadata adapter: runs stored with their queued event
 * and bounded by the queue limit; leases that let exactly one node execute a run at a time, at
 * most `maxActive` at once across nodes, running runs with an expired lease taken first; state
 * saved with its events only by the lease holder; cancel; listing with filters and a cursor.
 */
import { describe, expect, it } from 'vitest';
import { runEvent, type RunRecord } from '../../../src/domain/runs.js';
import type { MetadataStore } from '../../../src/storage/ports.js';
import { RUN_OUTPUTS_MIGRATION as PG_RUN_OUTPUTS } from '../../../src/storage/postgres/migration-runs.js';
import { RUN_OUTPUTS_MIGRATION as SQLITE_RUN_OUTPUTS } from '../../../src/storage/sqlite/migrations.js';
import { openEachTest } from '../../helpers/metadata-contract.js';
import { metadataAdapters, type OpenedStore } from '../../helpers/metadata-adapters.js';

const adapters = await metadataAdapters();

function run(id: string, fields: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    plan: {
      kind: 'basket',
      name: 'finance_daily_check',
      strategy: 'sequential',
      agents: ['cashflow_analyzer', 'goal_recommender'],
      stepTimeoutMs: 1000,
      timeoutMs: 5000,
    },
    status: 'queued',
    input: { transactions: [] },
    error: null,
    steps: [
      { agent: 'cashflow_analyzer', status: 'queued', startedAt: null, finishedAt: null },
      { agent: 'goal_recommender', status: 'queued', startedAt: null, finishedAt: null },
    ],
    product: null,
    requestedBy: 'key_owner',
    createdAt: `2026-12-04T20:00:00.00${id.slice(-1)}Z`,
    startedAt: null,
    finishedAt: null,
    deadline: null,
    cancelRequested: false,
    record: null,
    ...fields,
  };
}

const claim = (owner: string, now: number, limit = 10, maxActive = 10) => ({
  owner,
  now,
  leaseUntil: now + 1000,
  limit,
  maxActive,
});

describe.each(adapters)('RunStore contract: $name', (adapter) => {
  let store: MetadataStore;

  let opened: OpenedStore;

  openEachTest(adapter, (each) => {
    store = each.store;
    opened = each;
  });

  it('stores a run with its queued event, up to the queue limit', async () => {
    expect(await store.insertRun(run('r1'), 2)).toBe(true);
    expect(await store.insertRun(run('r2'), 2)).toBe(true);
    expect(await store.insertRun(run('r3'), 2)).toBe(false);
    expect(await store.getRun('r3')).toBeNull();
    expect(await store.getRun('r1')).toEqual(run('r1'));
    const events = await store.events({ since: 0, limit: 100 });
    expect(events.map((e) => [e.type, e.subject, e.product])).toEqual([
      ['bucket.run.queued', 'r1', 'core'],
      ['bucket.run.queued', 'r2', 'core'],
    ]);
  });

  it('leases each run to one owner, at most maxActive at once, until the lease runs out', async () => {
    for (const id of ['r1', 'r2', 'r3']) await store.insertRun(run(id), 10);
    const [a, b] = await Promise.all([
      store.claimRuns(claim('node-a', 10, 10, 2)),
      store.claimRuns(claim('node-b', 10, 10, 2)),
    ]);
    const taken = [...(a ?? []), ...(b ?? [])].map((r) => r.id).sort();
    expect(taken).toEqual(['r1', 'r2']);
    expect(await store.claimRuns(claim('node-c', 20, 10, 2))).toEqual([]);
    // Leases ran out: the runs are claimable again, the oldest first.
    const again = await store.claimRuns(claim('node-c', 5000, 1, 2));
    expect(again.map((r) => r.id)).toEqual(['r1']);
  });

  it('saves state only with the lease, with its events; takes interrupted runs first', async () => {
    await store.insertRun(run('r1'), 10);
    await store.insertRun(run('r2'), 10);
    const [claimed] = await store.claimRuns(claim('node-a', 10, 1));
    expect(claimed?.id).toBe('r1');
    const started = { ...run('r1'), status: 'running' as const, startedAt: 'x', deadline: 99 };
    expect(await store.saveRun(started, 'node-b', [runEvent(started, 'started')])).toBe(false);
    expect(await store.saveRun(started, 'node-a', [runEvent(started, 'started')])).toBe(true);
    expect((await store.getRun('r1'))?.deadline).toBe(99);
    // node-a dies: once its lease ran out, r1 (running) is taken before r2 (queued).
    const [next] = await store.claimRuns(claim('node-b', 5000, 1));
    expect(next).toMatchObject({ id: 'r1', status: 'running' });
    expect(await store.saveRun(started, 'node-a', [])).toBe(false);
    const types = (await store.events({ since: 0, limit: 100 })).map((e) => e.type);
    expect(types.filter((t) => t === 'bucket.run.started')).toHaveLength(1);
    expect(await store.renewRuns('node-b', ['r1'], 9000)).toEqual([
      { id: 'r1', cancelRequested: false },
    ]);
    expect(await store.renewRuns('node-a', ['r1'], 9000)).toEqual([]);
  });

  it('cancels a queued run at once and flags a running one for its node', async () => {
    await store.insertRun(run('r1'), 10);
    await store.insertRun(run('r2'), 10);
    const cancelled = await store.requestCancel('r1', '2026-12-04T20:01:00.000Z');
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      finishedAt: '2026-12-04T20:01:00.000Z',
    });
    const [claimed] = await store.claimRuns(claim('node-a', Date.now()));
    expect(claimed?.id).toBe('r2');
    const flagged = await store.requestCancel('r2', new Date().toISOString());
    expect(flagged).toMatchObject({ status: 'queued', cancelRequested: true });
    expect(await store.renewRuns('node-a', ['r2'], Date.now() + 1000)).toEqual([
      { id: 'r2', cancelRequested: true },
    ]);
    expect(await store.requestCancel('missing', new Date().toISOString())).toBeNull();
    const types = (await store.events({ since: 0, limit: 100 })).map((e) => e.type);
    expect(types.filter((t) => t === 'bucket.run.cancelled')).toHaveLength(1);
  });

  it('attaches a record to a finished run that has none, and to nothing else', async () => {
    const ref = {
      product: 'core',
      class: 'execution_record',
      name: 'runs/r1.json',
      version: 1,
      audit: null,
    };
    await store.insertRun(run('r1'), 10);
    await store.insertRun(run('r2'), 10);
    // Not finished: left as it is.
    expect(await store.attachRecord('r1', ref)).toMatchObject({ status: 'queued', record: null });
    await store.requestCancel('r1', '2026-12-04T20:01:00.000Z');
    expect(await store.attachRecord('r1', ref)).toMatchObject({ status: 'cancelled', record: ref });
    expect((await store.getRun('r1'))?.record).toEqual(ref);
    // Once set, a record is never replaced.
    const other = { ...ref, version: 2 };
    expect((await store.attachRecord('r1', other))?.record).toEqual(ref);
    expect((await store.getRun('r2'))?.record).toBeNull();
    expect(await store.attachRecord('missing', ref)).toBeNull();
  });

  it('lists the newest first, filtered, from a cursor position', async () => {
    await store.insertRun(run('r1'), 10);
    await store.insertRun(run('r2', { product: 'gurukul' }), 10);
    await store.insertRun(run('r3', { plan: { ...run('r3').plan, kind: 'agent', name: 'x' } }), 10);
    expect((await store.listRuns({ limit: 10 })).map((r) => r.id)).toEqual(['r3', 'r2', 'r1']);
    expect((await store.listRuns({ product: 'gurukul', limit: 10 })).map((r) => r.id)).toEqual([
      'r2',
    ]);
    expect(
      (await store.listRuns({ kind: 'agent', name: 'x', limit: 10 })).map((r) => r.id),
    ).toEqual(['r3']);
    const r3 = await store.getRun('r3');
    const after = await store.listRuns({
      before: { createdAt: r3?.createdAt ?? '', id: 'r3' },
      limit: 1,
    });
    expect(after.map((r) => r.id)).toEqual(['r2']);
    expect(await store.listRuns({ status: 'running', limit: 10 })).toEqual([]);
  });

  it('keeps no output in a run’s row; its migration removes those rows written before held', async () => {
    const withOutputs = (id: string) => ({
      ...run(id),
      output: { recommendations: ['Increase savings'] },
      steps: run(id).steps.map((step) => ({ ...step, output: { analysis: { total: 1 } } })),
    });
    const holdsOutputs = async (id: string) => {
      // The row's body as stored, seen from outside the store: outputs mark the run failed.
      await opened.exec(
        `UPDATE runs SET status = 'failed' WHERE id = '${id}' AND body LIKE '%"output"%'`,
      );
      const found = (await store.getRun(id))?.status === 'failed';
      await opened.exec(`UPDATE runs SET status = 'queued' WHERE id = '${id}'`);
      return found;
    };
    await store.insertRun(withOutputs('r1'), 10);
    expect(await holdsOutputs('r1')).toBe(false);
    const [claimed] = await store.claimRuns(claim('node-a', 10));
    expect(await store.saveRun({ ...withOutputs('r1'), status: 'running' }, 'node-a', [])).toBe(
      true,
    );
    expect(claimed?.id).toBe('r1');
    expect(await holdsOutputs('r1')).toBe(false);

    // Rows written before held outputs: they are dropped when read, and removed by the migration.
    for (const id of ['r2', 'r3']) {
      await store.insertRun(run(id), 10);
      const body = JSON.stringify({ ...withOutputs(id), id: undefined }).replaceAll("'", "''");
      await opened.exec(`UPDATE runs SET body = '${body}' WHERE id = '${id}'`);
    }
    expect(await holdsOutputs('r2')).toBe(true);
    expect(await store.getRun('r2')).toEqual(run('r2'));
    await opened.exec(adapter.name === 'postgres' ? PG_RUN_OUTPUTS : SQLITE_RUN_OUTPUTS);
    expect(await holdsOutputs('r3')).toBe(false);
    expect(await store.getRun('r3')).toEqual(run('r3'));
  });
});
