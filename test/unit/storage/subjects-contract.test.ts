/**
 * The SubjectStore contract (SPEC §8) on every metadata adapter: a subject's first sealed commit
 * stores its key in the same transaction (racing first commits both commit, each with a key of
 * its own subject); an erasure, in one transaction, erases what is not withheld with an entry and
 * an event each, destroys the keys only when nothing is withheld, stores its report; and no
 * version commits under a key an erasure destroyed, however the two race.
 */
import { describe, expect, it } from 'vitest';
import type { AuditDraft } from '../../../src/audit/entry.js';
import type { ArtifactVersion } from '../../../src/domain/artifact.js';
import type { NewSubjectKey } from '../../../src/domain/erasure.js';
import type { ChangeEntry, ErasureRequest, MetadataStore } from '../../../src/storage/ports.js';
import { audited, writeDraft } from '../../helpers/audit.js';
import { openEachTest } from '../../helpers/metadata-contract.js';
import { metadataAdapters } from '../../helpers/metadata-adapters.js';
import { version } from '../../helpers/versions.js';

const adapters = await metadataAdapters();

function newKey(id: string, subject: string): NewSubjectKey {
  return { id, subject, wrapped: `kek1:wrapped-${id}`, createdAt: '2026-12-04T20:00:00.000Z' };
}

function sealed(
  name: string,
  subject: string,
  keyId: string,
  extra: Partial<ArtifactVersion> = {},
) {
  return version({
    name,
    version: 1,
    subject,
    meta: { subject },
    sealed: {
      keyId,
      contentId: name
        .padEnd(64, '0')
        .slice(0, 64)
        .replace(/[^0-9a-f]/g, 'a'),
    },
    ...extra,
  });
}

function commit(store: MetadataStore, v: ArtifactVersion, key?: NewSubjectKey) {
  return store.commitVersion({
    ...audited({ version: v, expectedCurrentVersion: 0, inline: Buffer.from('sealed-bytes') }),
    newSubjectKey: key,
  });
}

function erasure(
  subject: string,
  withheld: (v: ArtifactVersion) => 'legal_hold' | null = () => null,
): ErasureRequest {
  const entry: ChangeEntry = {
    draft: writeDraft(version({ name: 'erasure', version: 1 })),
    receipt: null,
  };
  return {
    id: `erasure_${subject}`,
    subject,
    reason: 'test',
    requestedAt: '2026-12-04T21:00:00.000Z',
    at: '2026-12-04T21:00:00.000Z',
    withheld: () => withheld,
    versionEntry: (v): AuditDraft => {
      const { version: _v, sha256: _s, size: _z, ...rest } = writeDraft(v);
      return {
        ...rest,
        purge: { version: v.version, sha256: v.sha256, size: v.size, reason: 'erasure' },
      };
    },
    entry,
    sealEntry: (findings) => ({ ...entry.draft, governance: { erasure: { id: findings.id } } }),
  };
}

describe.each(adapters)('SubjectStore contract: $name', (adapter) => {
  let store: MetadataStore;

  openEachTest(adapter, (each) => {
    store = each.store;
  });

  it("stores a subject's first key with its first sealed version, in one transaction", async () => {
    expect(await store.liveSubjectKey('s:1')).toBeNull();
    const result = await commit(store, sealed('a1', 's:1', 'sk_1'), newKey('sk_1', 's:1'));
    expect(result).toMatchObject({ ok: true });
    expect(await store.liveSubjectKey('s:1')).toMatchObject({
      id: 'sk_1',
      subject: 's:1',
      destroyedAt: null,
    });
    // A commit that does not happen stores no key either.
    const refused = await store.commitVersion({
      ...audited({ version: sealed('a1', 's:2', 'sk_2'), expectedCurrentVersion: 0, inline: null }),
      newSubjectKey: newKey('sk_2', 's:2'),
    });
    expect(refused).toMatchObject({ ok: false, reason: 'version_conflict' });
    expect(await store.subjectKey('sk_2')).toBeNull();
    const read = await store.getVersion(
      { product: 'gurukul', class: 'user_progress', name: 'a1' },
      1,
    );
    expect(read?.sealed?.keyId).toBe('sk_1');
  });

  it('commits racing first writes of one subject, each with a key; later writes use the oldest', async () => {
    const results = await Promise.all(
      ['r1', 'r2', 'r3'].map((name, i) =>
        commit(store, sealed(name, 's:race', `sk_r${i}`), newKey(`sk_r${i}`, 's:race')),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const live = await store.liveSubjectKey('s:race');
    expect(['sk_r0', 'sk_r1', 'sk_r2']).toContain(live?.id);
    expect(await commit(store, sealed('r4', 's:race', live?.id ?? ''))).toMatchObject({ ok: true });
  });

  it('erases what is not withheld, destroys keys only when nothing is, and keeps the report', async () => {
    await commit(store, sealed('e1', 's:e', 'sk_e'), newKey('sk_e', 's:e'));
    await commit(store, sealed('e2', 's:e', 'sk_e'));
    const held = await store.eraseSubject(
      erasure('s:e', (v) => (v.name === 'e2' ? 'legal_hold' : null)),
    );
    expect(held.report.erased.map((e) => e.name)).toEqual(['e1']);
    expect(held.report.withheld).toEqual([
      { product: 'gurukul', class: 'user_progress', name: 'e2', version: 1, reason: 'legal_hold' },
    ]);
    expect(held.report.keyDestroyed).toBe(false);
    expect((await store.subjectKey('sk_e'))?.wrapped).not.toBeNull();
    const e1 = await store.getForRead({ product: 'gurukul', class: 'user_progress', name: 'e1' });
    expect(e1?.version.purged).toMatchObject({ reason: 'erasure' });
    expect(e1?.version.meta).toEqual({});
    expect(e1?.inline).toBeNull();

    const all = await store.eraseSubject({ ...erasure('s:e'), id: 'erasure_2' });
    expect(all.report.erased.map((e) => e.name)).toEqual(['e2']);
    expect(all.report.keyDestroyed).toBe(true);
    expect(await store.subjectKey('sk_e')).toMatchObject({ wrapped: null });
    expect(await store.liveSubjectKey('s:e')).toBeNull();
    expect(await store.getErasure('erasure_2')).toEqual(all.report);
    const events = await store.events({
      since: 0,
      limit: 1000,
      typePrefix: 'bucket.artifact.erased',
    });
    expect(events.filter((e) => e.type === 'bucket.artifact.erased')).toHaveLength(2);
    // Salts destroyed, with the entry the row points at.
    for await (const stored of store.allVersions()) {
      if (stored.version.subject !== 's:e') continue;
      expect(stored.factsSalt).toBeNull();
      expect(stored.saltDestroyed).toBe(true);
    }
  });

  it('clears the metadata and salt of versions the sweep purged before, unless withheld', async () => {
    await commit(store, sealed('p1', 's:p', 'sk_p'), newKey('sk_p', 's:p'));
    await commit(store, sealed('p2', 's:p', 'sk_p'));
    const at = '2028-01-01T00:00:00.000Z';
    for (const name of ['p1', 'p2']) {
      const key = { product: 'gurukul', class: 'user_progress', name };
      const draft = writeDraft(version({ name, version: 1 }));
      const { version: _v, sha256: _s, size: _z, ...rest } = draft;
      const purged = await store.purgeVersion(
        key,
        1,
        { at, reason: 'retention_expired', held: () => false },
        {
          draft: {
            ...rest,
            purge: { version: 1, sha256: '', size: 0, reason: 'retention_expired' },
          },
          receipt: null,
        },
      );
      expect(purged?.meta).toEqual({ subject: 's:p' });
    }
    await store.eraseSubject(erasure('s:p', (v) => (v.name === 'p2' ? 'legal_hold' : null)));
    const seen = new Map<string, { meta: unknown; salt: boolean; destroyed: boolean }>();
    for await (const stored of store.allVersions()) {
      if (stored.version.subject !== 's:p') continue;
      seen.set(stored.version.name, {
        meta: stored.version.meta,
        salt: stored.factsSalt !== null,
        destroyed: stored.saltDestroyed,
      });
    }
    // Purged by the sweep, then erased: nothing of the subject's metadata or facts salt stays, and
    // the erasure vouches for the missing salt.
    expect(seen.get('p1')).toEqual({ meta: {}, salt: false, destroyed: true });
    // Withheld by a hold: kept as it was.
    expect(seen.get('p2')).toMatchObject({ meta: { subject: 's:p' }, destroyed: false });
  });

  it('reads the holds in force inside its own transaction', async () => {
    await commit(store, sealed('h1', 's:h', 'sk_h'), newKey('sk_h', 's:h'));
    await store.insertHold({
      id: 'hold_1',
      scope: { subject: 's:h' },
      caseRef: 'CASE-1',
      reason: 'litigation',
      placedAt: '2026-12-04T20:30:00.000Z',
      placedBy: 'owner',
      liftedAt: null,
      liftedBy: null,
      liftReason: null,
    });
    const seen: string[] = [];
    const outcome = await store.eraseSubject({
      ...erasure('s:h'),
      withheld: (holds) => {
        seen.push(...holds.map((hold) => hold.id));
        return () => (holds.length > 0 ? 'legal_hold' : null);
      },
    });
    expect(seen).toEqual(['hold_1']);
    expect(outcome.report).toMatchObject({ erased: [], keyDestroyed: false });
  });

  it('refuses a version under a key an erasure destroyed, whatever the order', async () => {
    await commit(store, sealed('d1', 's:d', 'sk_d'), newKey('sk_d', 's:d'));
    const [late, erased] = await Promise.all([
      commit(store, sealed('d2', 's:d', 'sk_d')),
      store.eraseSubject(erasure('s:d')),
    ]);
    if (late.ok) {
      // Committed before the erasure: erased with the rest.
      expect(erased.report.erased.map((e) => e.name)).toEqual(['d1', 'd2']);
    } else {
      expect(late).toMatchObject({ ok: false, reason: 'subject_erased', keyId: 'sk_d' });
    }
    expect(await commit(store, sealed('d3', 's:d', 'sk_d'))).toMatchObject({
      ok: false,
      reason: 'subject_erased',
    });
    // A new key for the subject after its erasure.
    expect(await commit(store, sealed('d4', 's:d', 'sk_d2'), newKey('sk_d2', 's:d'))).toMatchObject(
      { ok: true },
    );
  });
});
