/**
 * Atomic batches (SPEC §15 `?atomic=true`): all items or none. A denial, a bad line or a refused
 * precondition makes every item fail — the one that failed with its own error, the others with
 * 409 `batch_aborted` — nothing is written (no version, no event), and the answer is 409.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NDJSON, put } from '../helpers/batch.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

type Api = ReturnType<typeof client>;

describe('POST /v1/batch?atomic=true', () => {
  let server: TestServer;
  let owner: Api;
  let assistant: Api;

  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.ownerKey);
    assistant = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key,
    );
  });
  afterAll(async () => server?.dispose());

  const atomic = (items: readonly unknown[] | string) =>
    assistant('POST', '/v1/batch?atomic=true', {
      body:
        typeof items === 'string' ? items : items.map((item) => JSON.stringify(item)).join('\n'),
      headers: NDJSON,
    });
  const latestEvent = async () =>
    Number((await owner('GET', '/v1/events?limit=1000')).json.nextCursor);
  const exists = async (name: string) =>
    (await assistant('GET', `/v1/artifacts/ai_assistant/metadata/${name}`)).status !== 404;

  it('writes every item when all are allowed, their entries one after another', async () => {
    const answer = await atomic([put('at/a.json', { a: 1 }), put('at/b.json', { b: 1 })]);
    expect(answer.status, answer.bytes.toString()).toBe(200);
    expect(answer.json.summary).toEqual({ succeeded: 2, failed: 0 });
    const [a, b] = answer.json.items;
    expect(b.artifact.audit.leafIndex).toBe(a.artifact.audit.leafIndex + 1);
    expect(await exists('at/a.json')).toBe(true);
    expect(await exists('at/b.json')).toBe(true);
  });

  it('writes nothing when one item is denied, and answers 409 with every item failed', async () => {
    const events = await latestEvent();
    const answer = await atomic([
      put('at/c.json', { c: 1 }),
      { ...put('at/d.json', { d: 1 }), product: 'ai_avatar', class: 'avatar_config' },
      put('at/e.json', { e: 1 }),
    ]);
    expect(answer.status, answer.bytes.toString()).toBe(409);
    expect(answer.json.summary).toEqual({ succeeded: 0, failed: 3 });
    const [c, d, e] = answer.json.items;
    expect(d).toMatchObject({ status: 403, error: { decision: { allow: false } } });
    for (const aborted of [c, e]) {
      expect(aborted).toMatchObject({ status: 409, error: { code: 'batch_aborted' } });
    }
    expect(await exists('at/c.json')).toBe(false);
    expect(await exists('at/e.json')).toBe(false);
    const since = (await owner('GET', `/v1/events?since=${events}&limit=1000`)).json.events;
    expect(
      since.filter((event: { type: string }) => event.type.startsWith('bucket.artifact.')),
    ).toEqual([]);
  });

  it('writes nothing when a precondition fails or a line is not an item', async () => {
    // A write-once name written again: denied (403) before any precondition.
    const again = await atomic([put('at/f.json', { f: 1 }), put('at/a.json', { a: 2 })]);
    expect(again.status).toBe(409);
    expect(again.json.items.map((item: { status: number }) => item.status)).toEqual([409, 403]);
    expect(await exists('at/f.json')).toBe(false);
    // A precondition: If-None-Match on a basket that exists (basket_config allows UPDATE).
    const core = client(server.url, (await createKey(server, { kind: 'core' })).key);
    const basket = (name: string, extra: Record<string, unknown> = {}) => ({
      op: 'put',
      product: 'core',
      class: 'basket_config',
      name,
      json: { name },
      ...extra,
    });
    const made = await core('PUT', '/v1/artifacts/core/basket_config/at/y.json', { body: {} });
    expect(made.status).toBe(201);
    const refused = await core('POST', '/v1/batch?atomic=true', {
      body: [basket('at/z.json'), basket('at/y.json', { ifNoneMatch: '*' })]
        .map((item) => JSON.stringify(item))
        .join('\n'),
      headers: NDJSON,
    });
    expect(refused.status).toBe(409);
    expect(refused.json.items.map((item: { status: number }) => item.status)).toEqual([409, 412]);
    expect((await core('GET', '/v1/artifacts/core/basket_config/at/z.json')).status).toBe(404);

    const unreadable = await atomic(`${JSON.stringify(put('at/g.json', {}))}\n{oops\n`);
    expect(unreadable.status).toBe(409);
    expect(unreadable.json.items.map((item: any) => item.error.code)).toEqual([
      'batch_aborted',
      'invalid_batch_item',
    ]);
    expect(await exists('at/g.json')).toBe(false);
  });

  it('refuses a name given twice, and lets the same batch through without atomic', async () => {
    const twice = [
      { op: 'put', product: 'core', class: 'basket_config', name: 'at/x.json', json: { v: 1 } },
      { op: 'delete', product: 'core', class: 'basket_config', name: 'at/x.json' },
    ];
    const core = client(server.url, (await createKey(server, { kind: 'core' })).key);
    const body = twice.map((item) => JSON.stringify(item)).join('\n');
    const refused = await core('POST', '/v1/batch?atomic=true', { body, headers: NDJSON });
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe('invalid_request');
    const plain = await core('POST', '/v1/batch', { body, headers: NDJSON });
    expect(plain.status).toBe(200);
    expect(plain.json.summary).toEqual({ succeeded: 2, failed: 0 });
  });
});
