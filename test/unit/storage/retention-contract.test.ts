/**
 * The RetentionStore contract (SPEC §8) on every metadata adapter: holds kept with their history
 * and moving the change stamp; retention changes; the sweep's candidates paged from the retention
 * index in order; purges that keep the row, drop the inline bytes and the blob reference, and
 * record their entry and event in one transaction; one lease holder at a time.
 */
import { describe, expect, it } from 'vitest';
import { parseEntry } from '../../../src/audit/entry.js';
import type { LegalHold } from '../../../src/domain/holds.js';
import type { ChangeEntry, MetadataStore } from '../../../src/storage/ports.js';
import { audited, writeDraft } from '../../helpers/audit.js';
import { openEachTest } from '../../helpers/metadata-contract.js';
import { metadataAdapters } from '../../helpers/metadata-adapters.js';
import { commitNext, version } from '../../helpers/versions.js';

const adapters = await metadataAdapters();

function hold(id: string, scope: LegalHold['scope']): LegalHold {
  return {
    id,
    scope,
    caseRef: `CASE-${id}`,
    reason: 'litigation',
    placedAt: `2026-12-04T18:00:0${id.length % 10}.000Z`,
    placedBy: 'owner',
    liftedAt: null,
    liftedBy: null,
    liftReason: null,
  };
}

function entry(name: string): ChangeEntry {
  return { draft: writeDraft(version({ name, version: 1 })), receipt: null };
}

function purgeEntry(name: string, v: number): ChangeEntry {
  const base = writeDraft(version({ name, version: v }));
  const { version: _v, sha256: _s, size: _z, ...rest } = base;
  return {
    draft: {
      ...rest,
      purge: { version: v, sha256: base.sha256 ?? '', size: 10, reason: 'superseded' },
    },
    receipt: null,
  };
}

const key = (name: string) => ({ product: 'gurukul', class: 'user_progress', name });

describe.each(adapters)('RetentionStore contract: $name', (adapter) => {
  let store: MetadataStore;

  openEachTest(adapter, (each) => {
    store = each.store;
  });

  it('keeps holds with their history, moves the change stamp, and writes their events', async () => {
    const stamp = await store.changeStamp();
    const placed = entry('place');
    await store.insertHold(hold('h1', { product: 'gurukul', class: 'user_progress' }), placed);
    await store.insertHold(hold('h22', { subject: 'user:1' }));
    expect(await store.changeStamp()).not.toBe(stamp);
    expect(placed.receipt).not.toBeNull();

    const lifted = entry('lift');
    const lift = { at: '2026-12-05T00:00:00.000Z', by: 'owner', reason: 'closed' };
    const done = await store.liftHold('h1', lift, lifted);
    expect(done).toMatchObject({
      id: 'h1',
      liftedAt: lift.at,
      liftedBy: 'owner',
      liftReason: 'closed',
    });
    expect(await store.liftHold('h1', lift, entry('again'))).toBeNull();
    expect(await store.liftHold('nope', lift)).toBeNull();

    const holds = await store.listHolds();
    expect(holds.map((h) => [h.id, h.liftedAt])).toEqual([
      ['h1', lift.at],
      ['h22', null],
    ]);
    expect(holds[1]?.scope).toEqual({ subject: 'user:1' });
    const events = await store.events({ since: 0, limit: 100, typePrefix: 'bucket.hold' });
    expect(events.map((e) => [e.type, e.subject, e.auditIndex])).toEqual([
      ['bucket.hold.placed', 'h1', placed.receipt?.leafIndex],
      ['bucket.hold.placed', 'h22', null],
      ['bucket.hold.lifted', 'h1', lifted.receipt?.leafIndex],
    ]);
  });

  it('refuses a commit under the holds its transaction reads, appending nothing', async () => {
    await commitNext(store, version({ name: 'tomb.json', version: 1 }));
    await store.insertHold(hold('h7', { product: 'gurukul', prefix: 'tomb' }));
    await store.insertHold(hold('h8', { product: 'ai_avatar' }));
    const size = await store.auditSize();
    const tombstone = version({ name: 'tomb.json', version: 2, tombstone: true, size: 0 });
    let seen: string[] = [];
    const refused = await store.commitVersion({
      ...audited({ version: tombstone, expectedCurrentVersion: 1, inline: null }),
      unlessHeld: (holds) => {
        seen = holds.map((h) => h.id).sort();
        return holds.filter((h) => h.id === 'h7');
      },
    });
    expect(refused).toMatchObject({ ok: false, reason: 'legal_hold', holds: [{ id: 'h7' }] });
    expect(seen).toEqual(['h7', 'h8']);
    expect(await store.auditSize()).toBe(size);
    expect((await store.getHead(key('tomb.json')))?.version).toBe(1);
    const allowed = await store.commitVersion({
      ...audited({ version: tombstone, expectedCurrentVersion: 1, inline: null }),
      unlessHeld: () => [],
    });
    expect(allowed).toMatchObject({ ok: true });
    expect((await store.getHead(key('tomb.json')))?.tombstone).toBe(true);
  });

  it('changes a version’s retention, and reads it back on every read path', async () => {
    await commitNext(store, version({ name: 'r.json', version: 1 }));
    const previous = version({ name: 'r.json', version: 1 }).retention;
    const retention = { mode: 'governance' as const, until: '2030-01-01T00:00:00.000Z' };
    const changed = await store.setRetention(
      key('r.json'),
      1,
      { previous, next: retention },
      entry('ret'),
    );
    expect(changed?.retention).toEqual(retention);
    expect((await store.getHead(key('r.json')))?.retention).toEqual(retention);
    expect((await store.getForRead(key('r.json')))?.version.retention).toEqual(retention);
    expect(await store.setRetention(key('r.json'), 7, { previous, next: retention })).toBeNull();
  });

  it('changes a retention only from the one it was decided on, appending nothing otherwise', async () => {
    await commitNext(store, version({ name: 'cas.json', version: 1 }));
    const previous = version({ name: 'cas.json', version: 1 }).retention;
    const later = { mode: 'governance' as const, until: '2031-01-01T00:00:00.000Z' };
    const earlier = { mode: 'governance' as const, until: '2029-01-01T00:00:00.000Z' };
    // Two changes decided on the same old end: the first commits, the second finds it moved.
    expect(await store.setRetention(key('cas.json'), 1, { previous, next: later })).not.toBeNull();
    const size = await store.auditSize();
    const stale = await store.setRetention(
      key('cas.json'),
      1,
      { previous, next: earlier },
      entry('stale'),
    );
    expect(stale).toBeNull();
    expect(await store.auditSize()).toBe(size);
    expect((await store.getHead(key('cas.json')))?.retention).toEqual(later);
    // A permanent retention (no end) is matched as such.
    const permanent = { mode: 'governance' as const, until: null };
    await store.setRetention(key('cas.json'), 1, { previous: later, next: permanent });
    expect(
      await store.setRetention(key('cas.json'), 1, { previous: permanent, next: later }),
    ).not.toBeNull();
  });

  it('purges nothing whose retention was lengthened or that a hold in force covers', async () => {
    await commitNext(store, version({ name: 'kept', version: 1 }));
    const at = '2028-01-01T00:00:00.000Z';
    const previous = version({ name: 'kept', version: 1 }).retention;
    const lengthened = { mode: 'governance' as const, until: '2029-06-01T00:00:00.000Z' };
    await store.setRetention(key('kept'), 1, { previous, next: lengthened });
    const size = await store.auditSize();
    const never = () => false;
    const lengthenedPurge = await store.purgeVersion(
      key('kept'),
      1,
      { at, reason: 'retention_expired', held: never },
      purgeEntry('kept', 1),
    );
    expect(lengthenedPurge).toBeNull();
    expect(await store.auditSize()).toBe(size);

    await commitNext(store, version({ name: 'held', version: 1 }));
    await store.insertHold(hold('h3', { product: 'gurukul' }));
    await store.insertHold(hold('h4', { product: 'gurukul' }));
    await store.liftHold('h4', { at, by: 'owner', reason: 'closed' });
    let seen: string[] = [];
    const before = await store.auditSize();
    const heldPurge = await store.purgeVersion(
      key('held'),
      1,
      {
        at,
        reason: 'retention_expired',
        held: (holds) => {
          seen = holds.map((h) => h.id);
          return holds.length > 0;
        },
      },
      purgeEntry('held', 1),
    );
    expect(heldPurge).toBeNull();
    // The holds in force as the purge's own transaction read them: the lifted one is not.
    expect(seen).toEqual(['h3']);
    expect(await store.auditSize()).toBe(before);
    expect((await store.getForRead(key('held'), 1))?.version.storage).not.toBe('none');
  });

  it('pages through the versions whose retention ended, in index order, skipping the rest', async () => {
    const until = (day: number) => `2027-01-${String(day).padStart(2, '0')}T00:00:00.000Z`;
    await commitNext(
      store,
      version({ name: 'a', version: 1, retention: { mode: 'governance', until: until(3) } }),
    );
    await commitNext(
      store,
      version({ name: 'b', version: 1, retention: { mode: 'compliance', until: until(1) } }),
    );
    await commitNext(
      store,
      version({ name: 'c', version: 1, retention: { mode: 'compliance', until: null } }),
    );
    await commitNext(
      store,
      version({ name: 'd', version: 1, retention: { mode: 'governance', until: until(9) } }),
    );
    await commitNext(
      store,
      version({ name: 'e', version: 1, retention: { mode: 'governance', until: until(2) } }),
    );
    const now = until(5);
    const first = await store.retentionDue(now, null, 2);
    expect(first.map((v) => v.name)).toEqual(['b', 'e']);
    const last = first[1]!;
    const next = await store.retentionDue(
      now,
      {
        until: last.retention.until ?? '',
        product: last.product,
        class: last.class,
        name: last.name,
        version: last.version,
      },
      2,
    );
    expect(next.map((v) => v.name)).toEqual(['a']);
  });

  it('purges a version: the row stays, the content and its reference go, entry and event commit with it', async () => {
    await commitNext(store, version({ name: 'p', version: 1 }));
    await commitNext(
      store,
      version({ name: 'blob', version: 1, storage: 'blob', sha256: 'ab'.repeat(32) }),
    );
    const purge = purgeEntry('p', 1);
    const purged = await store.purgeVersion(
      key('p'),
      1,
      { at: '2028-01-01T00:00:00.000Z', reason: 'superseded', held: () => false },
      purge,
    );
    expect(purged?.purged).toEqual({
      at: '2028-01-01T00:00:00.000Z',
      reason: 'superseded',
      auditIndex: purge.receipt?.leafIndex,
    });
    const read = await store.getForRead(key('p'), 1);
    expect(read?.inline).toBeNull();
    expect(read?.version).toMatchObject({
      storage: 'none',
      tombstone: false,
      purged: purged?.purged,
    });
    expect((await store.getHead(key('p')))?.purged).toEqual(purged?.purged);
    const stored = await store.auditEntry(purge.receipt?.leafIndex ?? -1);
    expect(parseEntry(stored!.canonical).purge).toMatchObject({ version: 1, reason: 'superseded' });
    const events = await store.events({
      since: 0,
      limit: 100,
      typePrefix: 'bucket.artifact.purged',
    });
    expect(events.map((e) => [e.subject, e.auditIndex, e.data['reason']])).toEqual([
      ['gurukul/user_progress/p', purge.receipt?.leafIndex, 'superseded'],
    ]);
    // Purged once: a second purge finds nothing and appends nothing.
    const size = await store.auditSize();
    expect(
      await store.purgeVersion(
        key('p'),
        1,
        { at: 'x', reason: 'superseded', held: () => false },
        purgeEntry('p', 1),
      ),
    ).toBeNull();
    expect(await store.auditSize()).toBe(size);
    expect(await store.retentionDue('2099-01-01T00:00:00.000Z', null, 10)).toEqual([
      expect.objectContaining({ name: 'blob' }),
    ]);

    expect(await store.isContentReferenced('ab'.repeat(32))).toBe(true);
    await store.purgeVersion(
      key('blob'),
      1,
      { at: 'y', reason: 'superseded', held: () => false },
      purgeEntry('blob', 1),
    );
    expect(await store.isContentReferenced('ab'.repeat(32))).toBe(false);
  });

  it('lets one holder of a lease run at a time', async () => {
    let release!: () => void;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const held = store.exclusively('lease', () => {
      started();
      return new Promise<string>((resolve) => (release = () => resolve('first')));
    });
    await running;
    expect(await store.exclusively('lease', async () => 'second')).toBeNull();
    release();
    expect(await held).toBe('first');
    expect(await store.exclusively('lease', async () => 'third')).toBe('third');
  });
});
