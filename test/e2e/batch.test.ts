/**
 * Batch writes (SPEC §15): NDJSON in, one result per item out; each item its own decision,
 * version, audit entry (with a verifiable receipt) and event; at most limits.maxBatch items;
 * lines that are not items fail alone; the batch decided as a whole for who and for the mode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyInclusion } from '../../src/audit/proof.js';
import { NDJSON, ndjson, put } from '../helpers/batch.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

type Api = ReturnType<typeof client>;

describe('POST /v1/batch', () => {
  let server: TestServer;
  let owner: Api;
  let assistant: Api;
  let core: Api;

  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.ownerKey);
    assistant = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key,
    );
    core = client(server.url, (await createKey(server, { kind: 'core' })).key);
  });
  afterAll(async () => server?.dispose());

  const batch = (api: Api, items: readonly unknown[] | string, query = '') =>
    api('POST', `/v1/batch${query}`, {
      body: typeof items === 'string' ? items : ndjson(items),
      headers: NDJSON,
    });

  it('writes each allowed item as its own version, entry and event, and refuses the others', async () => {
    const since = Number((await owner('GET', '/v1/events?limit=1000')).json.nextCursor);
    const answer = await batch(assistant, [
      put('batch/a.json', { a: 1 }),
      put('batch/b.json', { b: 1 }, { meta: { source: 'batch' } }),
      // Another product's namespace: denied (T1), the rest still written.
      { ...put('batch/c.json', { c: 1 }), product: 'ai_avatar', class: 'avatar_config' },
      // metadata has no UPDATE: a second version of a.json is denied.
      put('batch/a.json', { a: 2 }),
    ]);
    expect(answer.status, answer.bytes.toString()).toBe(200);
    const { items, summary } = answer.json;
    expect(summary).toEqual({ succeeded: 2, failed: 2 });
    expect(items.map((item: { status: number }) => item.status)).toEqual([201, 201, 403, 403]);
    expect(items[0].artifact).toMatchObject({ name: 'batch/a.json', version: 1, size: 7 });
    expect(items[2].error).toMatchObject({
      code: expect.any(String),
      requestId: `${answer.headers.get('x-request-id')}.2`,
      decision: { allow: false, threats: [expect.objectContaining({ id: 'T1' })] },
    });
    expect(
      (await assistant('GET', '/v1/artifacts/ai_assistant/metadata/batch/b.json')).json,
    ).toEqual({ b: 1 });

    // Each receipt is proven by the log, and its entry names the batch's request and the item.
    const checkpoint = (await owner('GET', '/v1/audit/checkpoint')).json;
    for (const [index, item] of [items[0], items[1]].entries()) {
      const { leafIndex, leafHash } = item.artifact.audit;
      const proof = (
        await owner('GET', `/v1/audit/proof/inclusion?index=${leafIndex}&size=${checkpoint.size}`)
      ).json;
      verifyInclusion(
        leafIndex,
        checkpoint.size,
        Buffer.from(leafHash, 'hex'),
        proof.proof.map((hash: string) => Buffer.from(hash, 'hex')),
        Buffer.from(checkpoint.rootHash, 'hex'),
      );
      const entry = (await owner('GET', `/v1/audit/entries/${leafIndex}`)).json;
      expect(JSON.stringify(entry)).toContain(`${answer.headers.get('x-request-id')}.${index}`);
    }
    const events = (await owner('GET', `/v1/events?since=${since}&limit=1000`)).json.events;
    const created = events.filter(
      (event: { type: string }) => event.type === 'bucket.artifact.created',
    );
    // Items on different names run at once: their commits may come in either order.
    expect(created.map((event: { data: { name: string } }) => event.data.name).sort()).toEqual([
      'batch/a.json',
      'batch/b.json',
    ]);
  });

  it('runs the items on one name in their order: a write, a new version, a tombstone', async () => {
    const basket = (body: unknown) => ({
      op: 'put',
      product: 'core',
      class: 'basket_config',
      name: 'batch/basket.json',
      json: body,
    });
    const del = {
      op: 'delete',
      product: 'core',
      class: 'basket_config',
      name: 'batch/basket.json',
    };
    const answer = await batch(core, [basket({ v: 1 }), basket({ v: 2 }), del]);
    expect(answer.status, answer.bytes.toString()).toBe(200);
    expect(answer.json.items.map((item: { status: number }) => item.status)).toEqual([
      201, 200, 204,
    ]);
    expect(answer.json.items.map((item: any) => item.artifact.version)).toEqual([1, 2, 3]);
    const versions = await core(
      'GET',
      '/v1/artifacts/core/basket_config/batch/basket.json/versions',
    );
    expect(versions.json.versions.map((v: { tombstone: boolean }) => v.tombstone)).toEqual([
      false,
      false,
      true,
    ]);
  });

  it('fails a line that is not an item alone, with 400 invalid_batch_item', async () => {
    const lines = [
      JSON.stringify(put('batch/ok.json', { ok: true })),
      '{not json',
      JSON.stringify({ op: 'put', product: 'ai_assistant', class: 'metadata', name: 'x' }),
      JSON.stringify(put('batch/both.json', {}, { base64: 'e30=' })),
      JSON.stringify({ op: 'copy', product: 'ai_assistant', class: 'metadata', name: 'x' }),
      JSON.stringify(put('batch/meta.json', {}, { meta: { 'Bad Key': 'v' } })),
      JSON.stringify({
        ...put('batch/raw.json', undefined),
        json: undefined,
        base64: 'eyJ4IjoxfQ==',
        contentType: 'application/json',
      }),
    ].join('\n');
    const answer = await batch(assistant, `${lines}\n\n`);
    expect(answer.status, answer.bytes.toString()).toBe(200);
    const statuses = answer.json.items.map((item: { status: number }) => item.status);
    expect(statuses).toEqual([201, 400, 400, 400, 400, 400, 201]);
    for (const item of answer.json.items.slice(1, 5)) {
      expect(item.error.code).toBe('invalid_batch_item');
    }
    expect(answer.json.items[5].error.code).toBe('invalid_metadata');
    const raw = await assistant('GET', '/v1/artifacts/ai_assistant/metadata/batch/raw.json');
    expect(raw.json).toEqual({ x: 1 });
  });

  it('fails an item nested too deeply to store alone, saying so', async () => {
    const depth = 200_000;
    const deep = JSON.stringify(put('batch/deep.json', null)).replace(
      '"json":null',
      `"json":${'['.repeat(depth)}${']'.repeat(depth)}`,
    );
    const answer = await assistant('POST', '/v1/batch', {
      body: [deep, JSON.stringify(put('batch/shallow.json', { a: 1 }))].join('\n'),
      headers: NDJSON,
    });
    expect(answer.status, answer.bytes.toString().slice(0, 300)).toBe(200);
    const [refused, written] = answer.json.items;
    expect(refused).toMatchObject({ status: 400, error: { code: 'invalid_batch_item' } });
    expect(refused.error.message).toMatch(/nested too deeply/);
    expect(refused.error.message).not.toMatch(/RangeError|call stack/);
    expect(written.status).toBe(201);
  });

  it('takes 500 items, and refuses 501 whole with nothing written', async () => {
    const many = Array.from({ length: 500 }, (_, i) => put(`batch/many/${i}.json`, { i }));
    const accepted = await batch(assistant, many);
    expect(accepted.status, accepted.bytes.toString()).toBe(200);
    expect(accepted.json.summary).toEqual({ succeeded: 500, failed: 0 });

    const tooMany = Array.from({ length: 501 }, (_, i) => put(`batch/over/${i}.json`, { i }));
    const refused = await batch(assistant, tooMany);
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe('batch_too_large');
    const listed = await assistant('GET', '/v1/artifacts/ai_assistant?prefix=batch/over/&limit=10');
    expect(listed.json.items).toEqual([]);
  });

  it('refuses what is not a batch, a key that may not write, and a read_only Bucket', async () => {
    const wrongType = await assistant('POST', '/v1/batch', {
      body: ndjson([put('batch/t.json', {})]),
      headers: { 'content-type': 'application/json' },
    });
    expect(wrongType.status).toBe(415);
    expect((await batch(assistant, '\n\n')).json.error.code).toBe('invalid_request');
    const auditor = client(server.url, (await createKey(server, { kind: 'auditor' })).key);
    expect((await batch(auditor, [put('batch/t.json', {})])).status).toBe(403);

    const readOnly = await owner('POST', '/v1/governance/mode', {
      body: { mode: 'read_only', reason: 'batch test' },
    });
    expect(readOnly.status).toBe(200);
    try {
      const refused = await batch(assistant, [put('batch/ro.json', {})]);
      expect(refused.status).toBe(503);
      expect(refused.json.error.code).toBe('bucket_read_only');
    } finally {
      await owner('POST', '/v1/governance/mode', { body: { mode: 'normal', reason: 'done' } });
    }
    expect(
      (await assistant('GET', '/v1/artifacts/ai_assistant/metadata/batch/ro.json')).status,
    ).toBe(404);
  });

  it('charges every item to the write rate', async () => {
    const { document } = (await owner('GET', '/v1/governance/policy')).json;
    document.limits.writesPerSecond = 2;
    expect(
      (await owner('PUT', '/v1/governance/policy', { body: { document, reason: 'slow' } })).status,
    ).toBe(200);
    try {
      const items = Array.from({ length: 30 }, (_, i) => put(`batch/rate/${i}.json`, { i }));
      const answer = await batch(assistant, items);
      expect(answer.status).toBe(200);
      const { succeeded, failed } = answer.json.summary;
      // Two a second while the items may wait for the rate (5 s), a window more at a boundary:
      // never the thirty.
      expect(succeeded).toBeGreaterThanOrEqual(2);
      expect(succeeded).toBeLessThanOrEqual(14);
      expect(failed).toBe(30 - succeeded);
      const refused = answer.json.items.find((item: { status: number }) => item.status === 429);
      expect(refused.error.code).toBe('rate_limited');
    } finally {
      document.limits.writesPerSecond = 1000;
      await owner('PUT', '/v1/governance/policy', { body: { document, reason: 'back' } });
    }
  });

  it('refuses header-unsafe metadata and content types, and a body over 64 MiB at once', async () => {
    const unsafe = await batch(assistant, [
      put('batch/euro.json', {}, { meta: { price: '5 €' } }),
      put('batch/nl.json', {}, { meta: { note: 'a\nb' } }),
      put('batch/type.json', {}, { contentType: 'application/json\r\nx-evil: 1' }),
    ]);
    expect(unsafe.status).toBe(200);
    expect(unsafe.json.items.map((item: any) => item.error?.code)).toEqual([
      'invalid_batch_item',
      'invalid_batch_item',
      'invalid_batch_item',
    ]);

    const huge = Buffer.alloc(64 * 1024 * 1024 + 1, 0x0a);
    const refused = await assistant('POST', '/v1/batch', { body: huge, headers: NDJSON });
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe('batch_too_large');
  });

  it('keeps a large item in the blob store, and refuses one over its class maximum alone', async () => {
    const avatar = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
    // Over the 64 KiB kept inline: the item's bytes go to a blob, as a streamed PUT's would.
    const large = Buffer.alloc(100 * 1024, 'checkpoint ');
    const answer = await batch(avatar, [
      {
        op: 'put',
        product: 'ai_avatar',
        class: 'model_checkpoint',
        name: 'batch/large.bin',
        contentType: 'application/octet-stream',
        base64: large.toString('base64'),
      },
    ]);
    expect(answer.status, answer.bytes.toString()).toBe(200);
    expect(answer.json.items[0].status).toBe(201);
    // metadata allows 16 KiB: that item alone is refused, with the gate's 413.
    const mixed = await batch(assistant, [
      put('batch/too-big.json', { text: 'x'.repeat(20 * 1024) }),
      put('batch/small.json', { ok: true }),
    ]);
    expect(mixed.json.items.map((item: { status: number }) => item.status)).toEqual([413, 201]);
    expect(mixed.json.items[0].error.code).toBe('payload_too_large');
    const read = await avatar('GET', '/v1/artifacts/ai_avatar/model_checkpoint/batch/large.bin');
    expect(read.status).toBe(200);
    expect(read.bytes.equals(large)).toBe(true);
    const missing = await assistant(
      'GET',
      '/v1/artifacts/ai_assistant/metadata/batch/too-big.json',
    );
    expect(missing.status).toBe(404);
  });
});
