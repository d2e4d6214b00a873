/**
 * `commitVersionsAtomically` (SPEC §15 atomic batches) on every metadata adapter: every version
 * with its entry and event in one transaction, in order — or, when one is refused, none of them:
 * no version, no head, no entry, no event, no usage, and the next commit goes on as if nothing
 * had been tried.
 */
import { describe, expect, it } from 'vitest';
import type { MetadataStore } from '../../../src/storage/ports.js';
import { audited } from '../../helpers/audit.js';
import { metadataAdapters } from '../../helpers/metadata-adapters.js';
import { openEachTest } from '../../helpers/metadata-contract.js';
import { commitNext, version } from '../../helpers/versions.js';

const adapters = await metadataAdapters();

const first = (name: string) =>
  audited({ version: version({ name, version: 1 }), expectedCurrentVersion: 0, inline: null });

describe.each(adapters)('atomic commits: $name', (adapter) => {
  let store: MetadataStore;
  openEachTest(adapter, (each) => {
    store = each.store;
  });

  it('commits every version in order, each with its entry and event', async () => {
    const before = await store.auditSize();
    const events = await store.latestEventId();
    const result = await store.commitVersionsAtomically([first('a'), first('b'), first('c')]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.results.map((done) => done.receipt.leafIndex)).toEqual([
      before,
      before + 1,
      before + 2,
    ]);
    expect(await store.auditSize()).toBe(before + 3);
    expect(await store.latestEventId()).toBe(events + 3);
    for (const name of ['a', 'b', 'c']) {
      expect(
        (await store.getHead({ product: 'gurukul', class: 'user_progress', name }))?.version,
      ).toBe(1);
    }
    expect((await store.usage('gurukul')).artifacts).toBe(3);
  });

  it('commits none when one is refused, and leaves the store as it was', async () => {
    await commitNext(store, version({ name: 'taken', version: 1 }));
    const before = await store.auditSize();
    const events = await store.latestEventId();
    const usage = await store.usage('gurukul');
    // The third expects `taken` not to exist: a conflict, refused inside the transaction.
    const result = await store.commitVersionsAtomically([first('x'), first('y'), first('taken')]);
    expect(result).toEqual({
      ok: false,
      index: 2,
      refusal: { ok: false, reason: 'version_conflict', current: 1 },
    });
    expect(await store.auditSize()).toBe(before);
    expect(await store.latestEventId()).toBe(events);
    expect(await store.usage('gurukul')).toEqual(usage);
    for (const name of ['x', 'y']) {
      expect(await store.getHead({ product: 'gurukul', class: 'user_progress', name })).toBeNull();
    }
    // The tree and the counters carry on from what committed.
    const next = await commitNext(store, version({ name: 'x', version: 1 }));
    expect(next).toMatchObject({ ok: true, receipt: { leafIndex: before } });
    expect((await store.usage('gurukul')).artifacts).toBe(usage.artifacts + 1);
  });

  it('refuses past the storage limits inside the transaction', async () => {
    const limits = {
      productQuotaBytes: 25,
      productMaxArtifacts: 10,
      totalMaxArtifacts: 10,
      totalMaxBytes: 1000,
    };
    const withLimits = ['p', 'q', 'r'].map((name) => ({ ...first(name), limits }));
    const result = await store.commitVersionsAtomically(withLimits);
    expect(result).toMatchObject({
      ok: false,
      index: 2,
      refusal: { reason: 'insufficient_storage' },
    });
    expect(await store.usage('gurukul')).toEqual({ bytes: 0, artifacts: 0 });
  });
});
