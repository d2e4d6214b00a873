/**
 * The EventStore contract (SPEC §10) on every metadata adapter: each change writes its events in
 * its own transaction — an event exists iff its change committed —, cursors are consecutive from 1
 * in commit order, and each event points at the audit entry of its change.
 */
import { describe, expect, it } from 'vitest';
import { parseEntry, type AuditDraft } from '../../../src/audit/entry.js';
import type { StoredEvent } from '../../../src/domain/events.js';
import type { KeyRecord } from '../../../src/domain/principal.js';
import type { ThreatRecord } from '../../../src/domain/threats.js';
import { defaultPolicyVersion } from '../../../src/policy/load.js';
import type { ChangeEntry, MetadataStore } from '../../../src/storage/ports.js';
import { audited, writeDraft } from '../../helpers/audit.js';
import { openEachTest } from '../../helpers/metadata-contract.js';
import { metadataAdapters, type OpenedStore } from '../../helpers/metadata-adapters.js';
import { commitNext, version } from '../../helpers/versions.js';

const adapters = await metadataAdapters();

const ROOMY = {
  productQuotaBytes: 1_000_000,
  productMaxArtifacts: 1000,
  totalMaxArtifacts: 1000,
  totalMaxBytes: 1_000_000,
  capacityBytes: 1_000_000,
};

function key(id: string, product: string | null = 'gurukul'): KeyRecord {
  return {
    id,
    hash: `hash-${id}`,
    kind: product ? 'product' : 'executor',
    product,
    integrationId: null,
    name: id,
    createdAt: '2026-12-04T18:00:00.000Z',
    expiresAt: null,
    revokedAt: null,
  };
}

function ownerEntry(name: string): ChangeEntry {
  const base = writeDraft(version({ name, version: 1 }));
  const draft: AuditDraft = {
    ...base,
    decision: { ...base.decision, principal: { id: 'owner', kind: 'owner', product: null } },
  };
  return { draft, receipt: null };
}

function threatRecord(requestId: string): ThreatRecord {
  return {
    at: '2026-12-04T18:00:00.000Z',
    requestId,
    principalId: 'k1',
    principalKind: 'product',
    product: 'gurukul',
    threatId: 'T1',
    severity: 'CRITICAL',
    evidence: 'sk_live_secret_evidence',
    counted: true,
  };
}

async function all(store: MetadataStore): Promise<StoredEvent[]> {
  return store.events({ since: 0, limit: 1000 });
}

describe.each(adapters)('EventStore contract: $name', (adapter) => {
  let opened: OpenedStore;
  let store: MetadataStore;

  openEachTest(adapter, (each) => {
    opened = each;
    store = each.store;
  });

  it('writes one event per governance change, pointing at its allow entry', async () => {
    const entries = ['create', 'revoke', 'policy', 'approve', 'suspend', 'reinstate', 'revoke-int'];
    const entry = Object.fromEntries(entries.map((name) => [name, ownerEntry(name)]));
    await store.insertKey(key('k1'), entry.create);
    await store.revokeKey('k1', '2026-12-04T18:01:00.000Z', entry.revoke);
    await store.insertPolicy(defaultPolicyVersion(), entry.policy);
    await store.insertIntegration(
      {
        id: 'int_1',
        type: 'webhook',
        product: 'gurukul',
        classes: ['user_progress'],
        dataSchema: {},
        approvedAt: '2026-12-04T18:00:00.000Z',
        approvedBy: 'owner',
        revokedAt: null,
      },
      entry.approve,
    );
    await store.insertKey({ ...key('k2'), integrationId: 'int_1' });
    await store.suspendKey({ keyId: 'k2', suspendedAt: '2026-12-04T18:02:00.000Z', reason: 'T1' });
    await store.reinstateKey('k2', entry.reinstate);
    await store.revokeIntegration(
      'gurukul',
      'int_1',
      '2026-12-04T18:03:00.000Z',
      entry['revoke-int'],
    );

    const events = await all(store);
    expect(events.map((e) => [e.id, e.type, e.subject, e.product])).toEqual([
      [1, 'bucket.key.created', 'k1', 'gurukul'],
      [2, 'bucket.key.revoked', 'k1', 'gurukul'],
      [3, 'bucket.policy.changed', 'policy/1', null],
      [4, 'bucket.integration.approved', 'int_1', 'gurukul'],
      [5, 'bucket.key.created', 'k2', 'gurukul'],
      [6, 'bucket.key.suspended', 'k2', 'gurukul'],
      [7, 'bucket.key.reinstated', 'k2', 'gurukul'],
      [8, 'bucket.integration.revoked', 'int_1', 'gurukul'],
      [9, 'bucket.key.revoked', 'k2', 'gurukul'],
    ]);
    const index = (name: string) => entry[name]?.receipt?.leafIndex;
    expect(events.map((e) => e.auditIndex)).toEqual([
      index('create'),
      index('revoke'),
      index('policy'),
      index('approve'),
      null,
      null,
      index('reinstate'),
      index('revoke-int'),
      index('revoke-int'),
    ]);
    // Metadata only: a key's event never carries its hash.
    expect(JSON.stringify(events)).not.toContain('hash-k');
    expect(await store.latestEventId()).toBe(9);
  });

  it('writes no event for a change that failed or found nothing to change', async () => {
    await store.insertKey(key('k1'));
    await expect(store.insertKey(key('k1'), ownerEntry('again'))).rejects.toThrow();
    expect(await store.revokeKey('missing', '2026-12-04', ownerEntry('missing'))).toBeNull();
    expect(await store.reinstateKey('k1', ownerEntry('not-suspended'))).toBe(false);
    expect(await store.revokeIntegration('gurukul', 'int_missing', '2026-12-04')).toBeNull();
    await store.suspendKey({ keyId: 'k1', suspendedAt: '2026-12-04', reason: 'T1' });
    await store.suspendKey({ keyId: 'k1', suspendedAt: '2026-12-04', reason: 'again' });
    // The next change takes the next cursor: nothing was skipped.
    await store.insertKey(key('k2'));
    // A key revoked again keeps its first revocation, and its one event.
    await store.revokeKey('k2', '2026-12-04T18:10:00.000Z');
    await store.revokeKey('k2', '2026-12-04T18:20:00.000Z');
    expect((await all(store)).map((e) => [e.id, e.type])).toEqual([
      [1, 'bucket.key.created'],
      [2, 'bucket.key.suspended'],
      [3, 'bucket.key.created'],
      [4, 'bucket.key.revoked'],
    ]);
  });

  it('writes an artifact event with every version commit, and none for a refused one', async () => {
    const first = await commitNext(store, version({ name: 'a', version: 1 }));
    await commitNext(store, version({ name: 'a', version: 2, size: 12 }));
    const tombstone = version({ name: 'a', version: 3, tombstone: true, size: 0 });
    const deleted = audited({ version: tombstone, expectedCurrentVersion: 2, inline: null });
    await store.commitVersion({
      ...deleted,
      audit: { ...deleted.audit, decision: { ...deleted.audit.decision, operation: 'DELETE' } },
    });
    const restored = audited({
      version: version({ name: 'a', version: 4 }),
      expectedCurrentVersion: 3,
      inline: Buffer.from('{"n":1}'),
    });
    await store.commitVersion({
      ...restored,
      audit: { ...restored.audit, decision: { ...restored.audit.decision, operation: 'DELETE' } },
    });
    // A stale head and a limit refuse the commit: no event.
    const stale = await store.commitVersion(
      audited({
        version: version({ name: 'a', version: 5 }),
        expectedCurrentVersion: 1,
        inline: null,
      }),
    );
    expect(stale).toMatchObject({ ok: false, reason: 'version_conflict' });
    const full = await store.commitVersion({
      ...audited({
        version: version({ name: 'b', version: 1 }),
        expectedCurrentVersion: 0,
        inline: null,
      }),
      limits: { ...ROOMY, productQuotaBytes: 5 },
    });
    expect(full).toMatchObject({ ok: false, reason: 'insufficient_storage' });

    const events = await all(store);
    expect(events.map((e) => e.type)).toEqual([
      'bucket.artifact.created',
      'bucket.artifact.versioned',
      'bucket.artifact.tombstoned',
      'bucket.artifact.restored',
    ]);
    expect(events[0]).toMatchObject({
      id: 1,
      subject: 'gurukul/user_progress/a',
      product: 'gurukul',
      data: { product: 'gurukul', class: 'user_progress', name: 'a', version: 1, size: 10 },
    });
    if (!first.ok) throw new Error('unreachable');
    expect(events[0]?.auditIndex).toBe(first.receipt.leafIndex);
    // Metadata only: no content, no x-bucket-meta-* values.
    expect(JSON.stringify(events)).not.toContain('"source"');
    expect(JSON.stringify(events)).not.toContain('{\\"n\\":1}');
  });

  it('announces each usage threshold a commit crosses once (limit.warning)', async () => {
    const limits = { ...ROOMY, productQuotaBytes: 20 };
    for (const n of [1, 2]) {
      const result = await store.commitVersion({
        ...audited({
          version: version({ name: `n${n}`, version: 1 }),
          expectedCurrentVersion: 0,
          inline: Buffer.from('{"n":1}'),
        }),
        limits,
      });
      expect(result).toMatchObject({ ok: true });
    }
    const warnings = await store.events({ since: 0, limit: 10, typePrefix: 'bucket.limit.' });
    expect(warnings.map((e) => e.data['level'])).toEqual(['WARNING', 'CRITICAL']);
    expect(warnings[0]).toMatchObject({ id: 3, product: 'gurukul', auditIndex: 1 });
  });

  it("announces a level of the whole installation to no product's keys", async () => {
    const limits = { ...ROOMY, totalMaxArtifacts: 2 };
    for (const n of [1, 2]) {
      const result = await store.commitVersion({
        ...audited({
          version: version({ name: `t${n}`, version: 1 }),
          expectedCurrentVersion: 0,
          inline: Buffer.from('{}'),
        }),
        limits,
      });
      expect(result).toMatchObject({ ok: true });
    }
    const warnings = await store.events({ since: 0, limit: 10, typePrefix: 'bucket.limit.' });
    expect(warnings.map((e) => [e.data['level'], e.product, e.subject])).toEqual([
      ['WARNING', null, 'total'],
      ['CRITICAL', null, 'total'],
    ]);
    // A product key's view (its own product's events) holds none of them.
    expect(
      await store.events({ since: 0, limit: 10, product: 'gurukul', typePrefix: 'bucket.limit.' }),
    ).toEqual([]);
  });

  it('numbers concurrent commits consecutively, each event pointing at its own entry', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        store.commitVersion(
          audited({
            version: version({ name: `c${i}`, version: 1 }),
            expectedCurrentVersion: 0,
            inline: Buffer.from('{}'),
          }),
        ),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const events = await all(store);
    expect(events.map((e) => e.id)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    for (const event of events) {
      const entry = await store.auditEntry(event.auditIndex ?? -1);
      const parsed = parseEntry(entry?.canonical ?? Buffer.alloc(0));
      expect(parsed.target.name).toBe(event.data['name']);
    }
  });

  it('filters by cursor, type prefix and product, oldest first, up to the limit', async () => {
    await store.insertKey(key('k1'));
    await commitNext(store, version({ name: 'a', version: 1 }));
    await commitNext(store, version({ name: 'b', version: 1, product: 'ai_avatar' }));
    await store.insertKey(key('k2', null));
    const ids = (events: StoredEvent[]) => events.map((e) => e.id);
    expect(ids(await store.events({ since: 1, limit: 2 }))).toEqual([2, 3]);
    expect(ids(await store.events({ since: 0, limit: 10, typePrefix: 'bucket.artifact' }))).toEqual(
      [2, 3],
    );
    expect(ids(await store.events({ since: 0, limit: 10, typePrefix: 'bucket.art%' }))).toEqual([]);
    expect(ids(await store.events({ since: 0, limit: 10, product: 'gurukul' }))).toEqual([1, 2]);
    expect(ids(await store.events({ since: 4, limit: 10 }))).toEqual([]);
  });

  it('writes a detection event without its evidence, readable once the next write is durable', async () => {
    await store.insertThreatRecords([threatRecord('r1'), threatRecord('r2')]);
    await store.appendAudit([writeDraft(version({ name: 'x', version: 1 }))]);
    const events = await all(store);
    expect(events.map((e) => [e.id, e.type, e.auditIndex])).toEqual([
      [1, 'bucket.threat.detected', null],
      [2, 'bucket.threat.detected', null],
    ]);
    expect(events[0]?.data).toMatchObject({ threatId: 'T1', requestId: 'r1' });
    expect(JSON.stringify(events)).not.toContain('sk_live');
  });

  it('wakes every watcher after a commit, whatever another one throws', async () => {
    let woken = 0;
    const stopThrowing = store.watchEvents(() => {
      throw new Error('a failing subscriber');
    });
    const woke = new Promise<void>((resolve) => {
      const stop = store.watchEvents(() => {
        woken++;
        stop();
        resolve();
      });
    });
    await store.insertKey(key('k1'));
    await woke;
    stopThrowing();
    expect(woken).toBe(1);
  });

  it('continues the cursors after a reopen', async () => {
    await store.insertKey(key('k1'));
    const again = await opened.reopen();
    await again.insertKey(key('k2'));
    expect((await all(again)).map((e) => e.id)).toEqual([1, 2]);
    expect(await again.latestEventId()).toBe(2);
  });
});

const postgres = adapters.filter((adapter) => adapter.name === 'postgres');

describe.each(postgres)('EventStore on nodes sharing a database: $name', (adapter) => {
  let opened: OpenedStore;

  openEachTest(adapter, (each) => {
    opened = each;
  });

  it('numbers both nodes’ concurrent commits consecutively', async () => {
    const first = opened.store;
    const second = await opened.reopen();
    const writes = Array.from({ length: 30 }, (_, i) =>
      (i % 2 === 0 ? first : second).commitVersion(
        audited({
          version: version({ name: `node-${i}`, version: 1 }),
          expectedCurrentVersion: 0,
          inline: Buffer.from('{}'),
        }),
      ),
    );
    expect((await Promise.all(writes)).every((result) => result.ok)).toBe(true);
    for (const store of [first, second]) {
      const events = await all(store);
      expect(events.map((e) => e.id)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(new Set(events.map((e) => e.auditIndex)).size).toBe(30);
    }
  });

  it('wakes a node’s watchers with another node’s commit', async () => {
    const second = await opened.reopen();
    const woken = new Promise<void>((resolve) => {
      const stop = second.watchEvents(() => {
        stop();
        resolve();
      });
    });
    await opened.store.insertKey(key('k1'));
    await woken;
    expect(await second.latestEventId()).toBe(1);
  });
});
