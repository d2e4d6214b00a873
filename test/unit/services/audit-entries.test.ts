/**
 * `GET /v1/audit/entries` as the audit service answers it: a query no index answers reads a
 * bounded window of the log, and its pages, followed cursor by cursor, are exactly the entries
 * the filters select; `since` starts where the log reaches that time. On every metadata adapter.
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseEntry, type AuditDraft } from '../../../src/audit/entry.js';
import { createSigner } from '../../../src/audit/note.js';
import { threat } from '../../../src/domain/decision.js';
import type { Principal } from '../../../src/domain/principal.js';
import { AuditService } from '../../../src/services/audit.js';
import type { MetadataStore } from '../../../src/storage/ports.js';
import { metadataAdapters, type OpenedStore } from '../../helpers/metadata-adapters.js';

const adapters = await metadataAdapters();

const OWNER: Principal = { id: 'owner', kind: 'owner', product: null, integrationId: null };
const PRODUCTS = ['gurukul', 'ai_avatar', 'ai_assistant'] as const;

/** The n-th entry of the test log: principals, products, decisions and threats vary with n. */
function draft(n: number): AuditDraft {
  const product = PRODUCTS[n % 3] ?? 'gurukul';
  const allow = n % 4 !== 0;
  return {
    decision: {
      id: `d${n}`,
      allow,
      status: allow ? 200 : 403,
      operation: 'READ',
      // key_rare has three entries, far apart.
      principal: {
        id: n === 3 || n === 57 || n === 90 ? 'key_rare' : `key_${n % 5}`,
        kind: 'product',
        product: n % 7 === 0 ? 'ai_avatar' : product,
      },
      target: { product, class: 'metadata', name: n % 11 === 0 ? 'eleven.json' : `e${n}.json` },
      reasons: [],
      threats: n % 13 === 0 ? [threat('T1', 'test')] : [],
      policyVersion: 1,
    },
    requestId: `req_${n}`,
  };
}

const SIZE = 95;
const WINDOW = 10;

describe.each(adapters)('audit entries: $name', (adapter) => {
  let opened: OpenedStore;
  let store: MetadataStore;
  let service: AuditService;

  beforeEach(async (context) => {
    if (!adapter.available) context.skip();
    opened = await adapter.open();
    store = opened.store;
    const { privateKey } = generateKeyPairSync('ed25519');
    service = new AuditService(store, {
      origin: 'test.example/audit',
      signer: createSigner('test.example/audit', privateKey),
      scanWindow: WINDOW,
    });
  });

  afterEach(async () => {
    if (!adapter.available) return;
    await service.close();
    await opened.cleanup();
  });

  const fill = (from: number, to: number) =>
    store.appendAudit(Array.from({ length: to - from }, (_, i) => draft(from + i)));

  type Query = Parameters<AuditService['entries']>[1];

  /** Every page of a query, cursor by cursor: the indices of each. */
  async function pages(principal: Principal, query: Query): Promise<number[][]> {
    const found: number[][] = [];
    let afterIndex = query.afterIndex;
    for (;;) {
      const page = await service.entries(principal, { ...query, afterIndex });
      found.push(page.entries.map((e) => e.index));
      if (page.nextCursor === null) return found;
      expect(found.length).toBeLessThan(1000);
      afterIndex = Number(page.nextCursor);
    }
  }

  it('reads a bounded window per page and still finds every match, cursor by cursor', async () => {
    await fill(0, SIZE);
    const read = vi.spyOn(store, 'auditEntries');
    const rare = await pages(OWNER, { principal: 'key_rare', limit: 100 });
    // Ten windows of ten entries: pages without a match are empty, with a cursor to go on.
    expect(rare).toEqual([[3], [], [], [], [], [57], [], [], [], [90]]);
    for (const [{ afterIndex, throughIndex }] of read.mock.calls) {
      expect((throughIndex ?? Infinity) - (afterIndex ?? -1)).toBeLessThanOrEqual(WINDOW);
    }
    // A full page ends where its last entry is, not at the window's end.
    const first = await service.entries(OWNER, { limit: 4 });
    expect(first.entries.map((e) => e.index)).toEqual([0, 1, 2, 3]);
    expect(first.nextCursor).toBe('3');
    // The artifact filter is answered from its index: one page, however far apart its entries.
    const artifact = { product: 'gurukul', class: 'metadata', name: 'eleven.json' };
    expect(await pages(OWNER, { artifact, limit: 100 })).toEqual([[0, 33, 66]]);
  });

  it('pages, concatenated, are exactly the entries the filters select', async () => {
    await fill(0, SIZE);
    const all = Array.from({ length: SIZE }, (_, n) => draft(n));
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          principal: fc.option(fc.constantFrom('key_rare', 'key_1', 'key_4'), { nil: undefined }),
          allow: fc.option(fc.boolean(), { nil: undefined }),
          threat: fc.option(fc.constant('T1'), { nil: undefined }),
          scope: fc.option(fc.constantFrom(...PRODUCTS), { nil: undefined }),
          after: fc.option(fc.integer({ min: -1, max: SIZE + 2 }), { nil: undefined }),
          limit: fc.integer({ min: 1, max: 12 }),
        }),
        async ({ principal, allow, threat: threatId, scope, after, limit }) => {
          const caller: Principal =
            scope === undefined
              ? OWNER
              : { id: 'key_reader', kind: 'product', product: scope, integrationId: null };
          const found = await pages(caller, {
            principal,
            allow,
            threat: threatId,
            afterIndex: after,
            limit,
          });
          const expected = all
            .map((d, index) => ({ d: d.decision, index }))
            .filter(
              ({ d, index }) =>
                (after === undefined || index > after) &&
                (principal === undefined || d.principal.id === principal) &&
                (allow === undefined || d.allow === allow) &&
                (threatId === undefined || d.threats.some((t) => t.id === threatId)) &&
                (scope === undefined ||
                  d.principal.product === scope ||
                  d.target.product === scope),
            )
            .map(({ index }) => index);
          expect(found.flat()).toEqual(expected);
          for (const page of found) expect(page.length).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('starts `since` at the first entry appended at or after that time, by bisection', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2026-11-28T08:00:00.000Z'));
      await fill(0, 30);
      vi.setSystemTime(new Date('2026-11-28T09:00:00.000Z'));
      await fill(30, 61);
      vi.setSystemTime(new Date('2026-11-28T10:00:00.000Z'));
      await fill(61, SIZE);
    } finally {
      vi.useRealTimers();
    }
    const lookups = vi.spyOn(store, 'auditEntry');
    const page = await service.entries(OWNER, { since: '2026-11-28T08:30:00.000Z', limit: 5 });
    expect(page.entries.map((e) => e.index)).toEqual([30, 31, 32, 33, 34]);
    expect(parseEntry(page.entries[0]?.canonical ?? '').time).toBe('2026-11-28T09:00:00.000Z');
    expect(lookups.mock.calls.length).toBeLessThanOrEqual(Math.ceil(Math.log2(SIZE)) + 1);
    // The time filter still holds past the start, and a later page needs no new bisection.
    lookups.mockClear();
    const denials = await pages(OWNER, {
      since: '2026-11-28T09:00:00.000Z',
      allow: false,
      limit: 100,
    });
    expect(denials.flat()).toEqual([
      32, 36, 40, 44, 48, 52, 56, 60, 64, 68, 72, 76, 80, 84, 88, 92,
    ]);
    expect(lookups.mock.calls.length).toBeLessThanOrEqual(Math.ceil(Math.log2(SIZE)) + 1);
    expect(await pages(OWNER, { since: '2026-11-28T10:00:00.001Z', limit: 100 })).toEqual([[]]);
    expect(
      (await service.entries(OWNER, { since: '2026-01-01T00:00:00.000Z', limit: 2 })).entries.map(
        (e) => e.index,
      ),
    ).toEqual([0, 1]);
  });

  it('answers an empty log and a cursor past its end with an empty last page', async () => {
    expect(await service.entries(OWNER, { limit: 10 })).toEqual({ entries: [], nextCursor: null });
    await fill(0, 5);
    expect(await service.entries(OWNER, { afterIndex: 40, limit: 10 })).toEqual({
      entries: [],
      nextCursor: null,
    });
    expect(await service.entries(OWNER, { afterIndex: 2, limit: 10 })).toMatchObject({
      entries: [{ index: 3 }, { index: 4 }],
      nextCursor: null,
    });
  });
});
