/**
 * Product listing (SPEC §3, §2.3): cursor pagination over thousands of artifacts returns every
 * item exactly once, in (class, name) order, ends with nextCursor null; class and prefix filter;
 * the page size is clamped to listPageMax.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapConcurrent } from '../helpers/http.js';
import { sha256 } from '../helpers/hash.js';
import { raiseRates } from '../helpers/limits.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const COUNT = 2500;
const pageName = (i: number) => `page/${String(i).padStart(4, '0')}`;

interface Item {
  class: string;
  name: string;
  version: number;
  sha256: string;
  size: number;
  updatedAt: string;
}

describe('listing a product', () => {
  let server: TestServer;
  let api: ReturnType<typeof client>;
  /** Every artifact of ai_assistant, in the order the listing must return them. */
  const expected: { class: string; name: string; body: string }[] = [];

  /** Follows nextCursor to the end; fails on a page larger than the limit. */
  async function listAll(query: string, limit: number): Promise<{ items: Item[]; pages: number }> {
    const items: Item[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const suffix: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const page = await api('GET', `/v1/artifacts/ai_assistant?${query}&limit=${limit}${suffix}`);
      expect(page.status).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(limit);
      items.push(...page.json.items);
      cursor = page.json.nextCursor;
      pages++;
      expect(pages).toBeLessThan(100);
    } while (cursor !== null);
    return { items, pages };
  }

  beforeAll(async () => {
    server = await startTestServer();
    // 2,500 writes, 20 at a time: faster than the default 1,000 writes/s (SPEC §2.3).
    await raiseRates(server);
    const { key } = await createKey(server, { kind: 'product', product: 'ai_assistant' });
    api = client(server.url, key);
    for (let i = 0; i < COUNT; i++) {
      expected.push({ class: 'metadata', name: pageName(i), body: JSON.stringify({ i }) });
    }
    for (const name of ['other/x', 'under_score/1', 'underXscore/1', 'page~/1']) {
      expected.push({ class: 'metadata', name, body: JSON.stringify({ name }) });
    }
    for (const name of ['manifest/b', 'manifest/a', 'page/0001']) {
      expected.push({ class: 'artifact_manifest', name, body: JSON.stringify({ files: [name] }) });
    }
    // Written in shuffled order, 20 at a time: the listing order must not depend on write order.
    const shuffled = [...expected].sort((a, b) => sha256(a.name).localeCompare(sha256(b.name)));
    const statuses = await mapConcurrent(shuffled, 20, async (item) => {
      const put = await api('PUT', `/v1/artifacts/ai_assistant/${item.class}/${item.name}`, {
        body: item.body,
        headers: { 'content-type': 'application/json' },
      });
      return put.status;
    });
    expect(statuses.filter((status) => status !== 201)).toEqual([]);
    expected.sort((a, b) =>
      a.class === b.class ? (a.name < b.name ? -1 : 1) : a.class < b.class ? -1 : 1,
    );
  });
  afterAll(async () => server?.dispose());

  it('pages through every artifact exactly once, in (class, name) order', async () => {
    const { items, pages } = await listAll('', 300);
    expect(pages).toBe(Math.ceil(expected.length / 300));
    expect(items.map((item) => `${item.class}/${item.name}`)).toEqual(
      expected.map((item) => `${item.class}/${item.name}`),
    );
    const byKey = new Map(expected.map((item) => [`${item.class}/${item.name}`, item.body]));
    for (const item of items) {
      const body = byKey.get(`${item.class}/${item.name}`) as string;
      expect(item).toMatchObject({ version: 1, sha256: sha256(body), size: body.length });
      expect(Date.parse(item.updatedAt)).not.toBeNaN();
    }
  });

  it('ends with nextCursor null when the last page is exactly full', async () => {
    const { items, pages } = await listAll('class=metadata&prefix=page%2F', 500);
    expect(items).toHaveLength(COUNT);
    expect(pages).toBe(COUNT / 500);
    expect(items.map((item) => item.name)).toEqual(
      Array.from({ length: COUNT }, (_, i) => pageName(i)),
    );
  });

  it('filters by class', async () => {
    const { items } = await listAll('class=artifact_manifest', 1000);
    expect(items.map((item) => item.name)).toEqual(['manifest/a', 'manifest/b', 'page/0001']);
    expect(items.every((item) => item.class === 'artifact_manifest')).toBe(true);
  });

  it('filters by prefix, literally (no wildcards), across classes', async () => {
    const { items } = await listAll('prefix=page%2F000', 1000);
    expect(items.map((item) => `${item.class}/${item.name}`)).toEqual([
      'artifact_manifest/page/0001',
      ...Array.from({ length: 10 }, (_, i) => `metadata/${pageName(i)}`),
    ]);
    const hundreds = await listAll('class=metadata&prefix=page%2F01', 1000);
    expect(hundreds.items.map((item) => item.name)).toEqual(
      Array.from({ length: 100 }, (_, i) => pageName(100 + i)),
    );
    const underscore = await listAll('prefix=under_', 1000);
    expect(underscore.items.map((item) => item.name)).toEqual(['under_score/1']);
    const none = await listAll('prefix=nothing-here', 1000);
    expect(none).toEqual({ items: [], pages: 1 });
  });

  it('clamps the page size to listPageMax (1000)', async () => {
    const page = await api('GET', '/v1/artifacts/ai_assistant?limit=5000');
    expect(page.status).toBe(200);
    expect(page.json.items).toHaveLength(1000);
    expect(page.json.nextCursor).toEqual(expect.any(String));
  });

  it('refuses a cursor it did not issue with 400', async () => {
    const page = await api('GET', '/v1/artifacts/ai_assistant?cursor=not-a-cursor');
    expect(page.status).toBe(400);
    expect(page.json.error.code).toBe('invalid_cursor');
  });

  it('lists the latest version of an artifact once, not every version', async () => {
    const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const avatar = client(server.url, key);
    const path = '/v1/artifacts/ai_avatar/avatar_config/listed.json';
    await avatar('PUT', path, { body: { v: 1 } });
    await avatar('PUT', path, { body: { v: 2 } });
    const page = await avatar('GET', '/v1/artifacts/ai_avatar');
    expect(page.json.items).toEqual([
      expect.objectContaining({ name: 'listed.json', version: 2, sha256: sha256('{"v":2}') }),
    ]);
    expect(page.json.nextCursor).toBeNull();
  });
});
