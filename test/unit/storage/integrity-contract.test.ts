/**
 * The IntegrityStore contract (SPEC §9) on every metadata adapter: a scrub's record round-trips and
 * survives reopening, the newest (of a status) is found, running scrubs are failed as abandoned;
 * a baseline is stored with its entry and event in one transaction; the schema the store reports
 * changes when an index is added by hand, and not otherwise.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseEntry } from '../../../src/audit/entry.js';
import { schemaDigest, type DriftBaseline } from '../../../src/domain/drift.js';
import { ABANDONED, type ScrubRecord } from '../../../src/domain/scrub.js';
import type { ChangeEntry, MetadataStore } from '../../../src/storage/ports.js';
import { openEachTest } from '../../helpers/metadata-contract.js';
import { metadataAdapters, type OpenedStore } from '../../helpers/metadata-adapters.js';

const adapters = await metadataAdapters();

function scrub(id: string, startedAt: string, status: ScrubRecord['status']): ScrubRecord {
  return {
    id,
    status,
    checked: { contents: 1, entries: 2, versions: 3 },
    problems: [],
    startedAt,
    finishedAt: status === 'running' ? null : startedAt,
    startedBy: 'system',
    checkpoint: status === 'passed' ? { size: 12, rootHash: 'ab'.repeat(32) } : null,
  };
}

const BASELINE: DriftBaseline = {
  sequence: 1,
  createdAt: '2026-12-04T22:00:00.000Z',
  reason: 'first start',
  schemaVersion: 15,
  codeVersion: '0.0.0',
  policyVersion: 1,
  components: {
    database_schema: 'a'.repeat(64),
    policy: 'b'.repeat(64),
    routes: 'c'.repeat(64),
    class_schemas: 'd'.repeat(64),
  },
  signature: 'c2ln',
};

function entry(): ChangeEntry {
  return {
    draft: {
      decision: {
        id: randomUUID(),
        allow: true,
        status: 201,
        operation: 'drift.baseline',
        principal: { id: 'system', kind: 'owner', product: null },
        target: { product: null, class: null, name: null },
        reasons: [],
        threats: [],
        policyVersion: 1,
      },
      requestId: randomUUID(),
      governance: { drift: { sequence: 1 } },
    },
    receipt: null,
  };
}

describe.each(adapters)('IntegrityStore contract: $name', (adapter) => {
  let opened: OpenedStore;
  let store: MetadataStore;

  openEachTest(adapter, (each) => {
    opened = each;
    store = each.store;
  });

  it('keeps scrubs across reopening, finds the newest, and fails the running ones', async () => {
    expect(await store.latestScrub()).toBeNull();
    const passed = scrub('scr_1', '2026-12-04T20:00:00.000Z', 'passed');
    await store.insertScrub({ ...passed, status: 'running', checkpoint: null });
    await store.saveScrub(passed);
    await store.insertScrub(scrub('scr_2', '2026-12-04T21:00:00.000Z', 'running'));
    expect(await store.getScrub('scr_1')).toEqual(passed);
    expect((await store.latestScrub())?.id).toBe('scr_2');
    expect(await store.latestScrub('passed')).toEqual(passed);
    expect(await store.getScrub('scr_none')).toBeNull();
    const reopened = await opened.reopen();
    expect(await reopened.abandonScrubs('2026-12-04T22:00:00.000Z', ABANDONED)).toBe(1);
    expect(await reopened.getScrub('scr_2')).toMatchObject({
      status: 'failed',
      finishedAt: '2026-12-04T22:00:00.000Z',
      problems: [ABANDONED],
    });
    expect(await reopened.getScrub('scr_1')).toEqual(passed);
  });

  it('stores a baseline with its entry and its event', async () => {
    expect(await store.latestBaseline()).toBeNull();
    const allow = entry();
    await store.insertBaseline(BASELINE, allow);
    expect(await store.latestBaseline()).toEqual(BASELINE);
    const index = allow.receipt?.leafIndex ?? -1;
    expect(parseEntry((await store.auditEntry(index))?.canonical ?? '{}')).toMatchObject({
      operation: 'drift.baseline',
    });
    const events = await store.events({ since: 0, limit: 10 });
    expect(events).toEqual([
      expect.objectContaining({
        type: 'bucket.drift.baseline_recorded',
        subject: 'drift/baseline/1',
        auditIndex: index,
      }),
    ]);
    await expect(store.insertBaseline(BASELINE, entry())).rejects.toThrow();
  });

  it('reports its schema: the same digest until an index is added by hand', async () => {
    const first = await store.schemaDefinitions();
    expect(first.version).toBeGreaterThan(0);
    expect(first.objects.some((o) => o.name.includes('versions'))).toBe(true);
    const again = await store.schemaDefinitions();
    expect(schemaDigest(again.objects)).toBe(schemaDigest(first.objects));
    const stamp = await store.schemaStamp();
    await opened.exec('CREATE INDEX contract_probe ON versions (size)');
    const after = await store.schemaDefinitions();
    expect(schemaDigest(after.objects)).not.toBe(schemaDigest(first.objects));
    if (stamp !== null) expect(await store.schemaStamp()).not.toBe(stamp);
  });
});
