/**
 * Legal holds (SPEC §8): placed and lifted by the owner with a case reference, kept in history,
 * announced as events, shown on reads (`x-bucket-legal-hold: on`), and refusing tombstones (403
 * `legal_hold`, T3) for each scope: product, class, name prefix, data subject.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const HOLDS = '/v1/governance/holds';
const threatIds = (body: any): string[] =>
  (body?.error?.decision?.threats ?? []).map((t: { id: string }) => t.id);

describe('legal holds', () => {
  let server: TestServer;
  let owner: ReturnType<typeof client>;
  let core: ReturnType<typeof client>;
  let auditor: ReturnType<typeof client>;
  let executor: ReturnType<typeof client>;
  let product: ReturnType<typeof client>;
  let counter = 0;

  /**
   * A key of its own for a test that is refused tombstones: three CRITICAL detections (T3) in an
   * hour suspend a key (SPEC §5).
   */
  async function freshCore(): Promise<void> {
    core = client(server.url, (await createKey(server, { kind: 'core' })).key);
  }

  /** A fresh basket_config (the class that allows DELETE), optionally bound to a subject. */
  async function basket(name: string, subject?: string): Promise<string> {
    const path = `/v1/artifacts/core/basket_config/${name}`;
    const put = await core('PUT', path, {
      body: JSON.stringify({ strategy: 'sequential', n: ++counter }),
      headers: {
        'content-type': 'application/json',
        ...(subject ? { 'x-bucket-meta-subject': subject } : {}),
      },
    });
    expect(put.status).toBe(201);
    return path;
  }

  async function place(scope: Record<string, string>, caseRef = 'CASE-1') {
    const placed = await owner('POST', HOLDS, {
      body: { scope, caseRef, reason: 'litigation' },
    });
    expect(placed.status).toBe(201);
    return placed.json as { id: string };
  }

  const lift = (id: string) =>
    owner('DELETE', `${HOLDS}/${id}?reason=${encodeURIComponent('case closed')}`);

  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.ownerKey);
    core = client(server.url, (await createKey(server, { kind: 'core' })).key);
    auditor = client(server.url, (await createKey(server, { kind: 'auditor' })).key);
    executor = client(server.url, (await createKey(server, { kind: 'executor' })).key);
    product = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'gurukul' })).key,
    );
  });
  afterAll(async () => server?.dispose());

  it('places a hold with 201 and the pinned members, lists it, and audits its case reference', async () => {
    const before = (await owner('GET', '/v1/events?type=bucket.hold')).json.events.length;
    const placed = await owner('POST', HOLDS, {
      body: {
        scope: { product: 'core', class: 'basket_config' },
        caseRef: 'ACME-42',
        reason: 'suit',
      },
    });
    expect(placed.status).toBe(201);
    expect(placed.json).toMatchObject({
      id: expect.any(String),
      scope: { product: 'core', class: 'basket_config' },
      caseRef: 'ACME-42',
      reason: 'suit',
      placedAt: expect.any(String),
      placedBy: expect.any(String),
      liftedAt: null,
    });
    const id = placed.json.id as string;
    for (const reader of [owner, auditor, executor]) {
      const listed = await reader('GET', `${HOLDS}?active=true`);
      expect(listed.status).toBe(200);
      expect(listed.json.holds.map((h: { id: string }) => h.id)).toContain(id);
    }
    const entries = await owner('GET', '/v1/audit/entries?limit=1000');
    const entry = entries.json.entries.find(
      (e: any) => e.entry.operation === 'holds.place' && e.entry.governance?.hold?.id === id,
    );
    expect(entry?.entry.governance.hold).toMatchObject({ caseRef: 'ACME-42', verb: 'placed' });

    const lifted = await lift(id);
    expect(lifted.status).toBe(200);
    expect(lifted.json).toMatchObject({ id, caseRef: 'ACME-42', liftedAt: expect.any(String) });
    // History is kept: the lifted hold is still listed, only not among the active ones.
    const all = (await owner('GET', HOLDS)).json.holds;
    expect(all.find((h: { id: string }) => h.id === id)?.liftedAt).toBe(lifted.json.liftedAt);
    const active = (await owner('GET', `${HOLDS}?active=true`)).json.holds;
    expect(active.map((h: { id: string }) => h.id)).not.toContain(id);
    expect((await lift(id)).status).toBe(409);

    const events = (await owner('GET', '/v1/events?type=bucket.hold')).json.events;
    expect(events.slice(before).map((e: any) => [e.type, e.subject])).toEqual([
      ['bucket.hold.placed', id],
      ['bucket.hold.lifted', id],
    ]);
    expect(events[before].auditindex).toBe(entry.index);
  });

  it('lets only the owner place and lift holds; product keys reaching for them are T4', async () => {
    const body = { scope: { product: 'core' }, caseRef: 'X', reason: 'y' };
    for (const other of [executor, auditor]) {
      expect((await other('POST', HOLDS, { body })).status).toBe(403);
    }
    const denied = await product('POST', HOLDS, { body });
    expect(denied.status).toBe(403);
    expect(threatIds(denied.json)).toContain('T4');
    expect((await product('GET', HOLDS)).status).toBe(403);
    const hold = await place({ product: 'core', prefix: 'nothing/' });
    expect((await executor('DELETE', `${HOLDS}/${hold.id}?reason=no`)).status).toBe(403);
    expect((await lift(hold.id)).status).toBe(200);
  });

  it('refuses bad hold requests with 400 and unknown ids with 404, changing nothing', async () => {
    const before = (await owner('GET', HOLDS)).json.holds.length;
    const bad = [
      { scope: { product: 'core' }, reason: 'no case' },
      { scope: { product: 'core' }, caseRef: 'C', reason: '' },
      { scope: { product: 'no_such_product' }, caseRef: 'C', reason: 'r' },
      { scope: { product: 'core', class: 'no_such_class' }, caseRef: 'C', reason: 'r' },
      { scope: { subject: 'has spaces' }, caseRef: 'C', reason: 'r' },
      { scope: {}, caseRef: 'C', reason: 'r' },
    ];
    for (const body of bad) {
      const answer = await owner('POST', HOLDS, { body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.json.error.code).toBeTypeOf('string');
    }
    expect((await owner('GET', HOLDS)).json.holds).toHaveLength(before);
    expect((await owner('DELETE', `${HOLDS}/hold_nope?reason=x`)).status).toBe(404);
    expect((await owner('DELETE', `${HOLDS}/hold_nope`)).status).toBe(400);
  });

  const scopes: [string, (name: string) => Record<string, string>, string?][] = [
    ['product', () => ({ product: 'core' })],
    ['class', () => ({ product: 'core', class: 'basket_config' })],
    ['name prefix', (name) => ({ product: 'core', prefix: `${name}/` })],
    ['data subject', (name) => ({ subject: `subject:${name}` }), 'subject'],
  ];

  for (const [label, scopeOf, withSubject] of scopes) {
    it(`a ${label} hold shows on reads and refuses the tombstone (403 legal_hold, T3) until lifted`, async () => {
      await freshCore();
      const name = `held-${label.replace(' ', '-')}`;
      const path = await basket(`${name}/b.json`, withSubject ? `subject:${name}` : undefined);
      const outside = await basket(`other-${name}/b.json`);
      const hold = await place(scopeOf(name), `CASE-${label}`);

      const read = await core('GET', path);
      expect(read.status).toBe(200);
      expect(read.headers.get('x-bucket-legal-hold')).toBe('on');
      expect((await owner('HEAD', path)).headers.get('x-bucket-legal-hold')).toBe('on');

      const refused = await core('DELETE', path);
      expect(refused.status).toBe(403);
      expect(refused.json.error.code).toBe('legal_hold');
      expect(refused.json.error.message).toContain(`CASE-${label}`);
      expect(threatIds(refused.json)).toContain('T3');
      expect((await core('GET', `${path}/versions`)).json.versions).toHaveLength(1);

      // Product and class holds cover the other basket too; a prefix or subject hold does not.
      const narrow = label === 'name prefix' || label === 'data subject';
      const other = await core('GET', outside);
      expect(other.headers.get('x-bucket-legal-hold')).toBe(narrow ? null : 'on');
      if (narrow) expect((await core('DELETE', outside)).status).toBe(204);

      expect((await lift(hold.id)).status).toBe(200);
      expect((await core('GET', path)).headers.get('x-bucket-legal-hold')).toBeNull();
      expect((await core('DELETE', path)).status).toBe(204);
    });
  }

  it('places a subject hold that covers nothing yet without error', async () => {
    const hold = await place({ subject: 'user:nobody@example' });
    const path = await basket('unrelated/b.json');
    expect((await core('GET', path)).headers.get('x-bucket-legal-hold')).toBeNull();
    expect((await lift(hold.id)).status).toBe(200);
  });
});
