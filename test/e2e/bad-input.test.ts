/**
 * Bad input (SPEC §2.2 names, §3 status codes, issue 2 "Bad input"): every malformed request is
 * answered in the error envelope with the right status, nothing is stored, and the server stays
 * healthy. Paths go over node:http so that `..` and percent-encodings reach the server as sent.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fetchUpload,
  filesUnder,
  generatedBytes,
  rawRequest,
  sleep,
  type RawAnswer,
} from '../helpers/http.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const META_BASE = '/v1/artifacts/ai_assistant/metadata';
const META_MAX = 16 * 1024;

/** The SPEC §3 error envelope. */
function expectEnvelope(answer: { json: any }, code: string): void {
  expect(answer.json).toEqual({
    error: expect.objectContaining({
      code,
      message: expect.any(String),
      requestId: expect.any(String),
    }),
  });
}

/** A JSON object of exactly `size` bytes. */
function jsonOfSize(size: number): string {
  const shell = '{"pad":""}';
  return `{"pad":"${'x'.repeat(size - shell.length)}"}`;
}

/**
 * A body source that sends `before` bytes, then waits until `release()` — as a client would
 * that is still uploading when the server answers.
 */
function stalledBody(before: AsyncIterable<Buffer>) {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  async function* source(): AsyncGenerator<Buffer> {
    yield* before;
    await released;
  }
  return { stream: source(), release };
}

describe('bad input', () => {
  let server: TestServer;
  let assistantKey: string;
  let avatarKey: string;
  let assistant: ReturnType<typeof client>;
  let avatar: ReturnType<typeof client>;
  let owner: ReturnType<typeof client>;

  const put = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    rawRequest(server.url, {
      method: 'PUT',
      path,
      key: assistantKey,
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  const versionsStatus = async (path: string) =>
    (await rawRequest(server.url, { method: 'GET', path: `${path}/versions`, key: assistantKey }))
      .status;

  beforeAll(async () => {
    server = await startTestServer();
    assistantKey = (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key;
    avatarKey = (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key;
    assistant = client(server.url, assistantKey);
    avatar = client(server.url, avatarKey);
    owner = client(server.url, server.ownerKey);
  });
  afterAll(async () => server?.dispose());

  describe('artifact names', () => {
    it.each([
      ['a percent-encoded ".." segment', 'a/%2E%2E/b'],
      ['a lower-case percent-encoded ".." segment', 'a/%2e%2e'],
      ['a literal ".." segment', 'a/../b'],
      ['a "." segment', 'a/./b'],
      ['an empty segment', 'a//b'],
      ['a leading slash', '/a'],
      ['a trailing slash', 'a/'],
      ['a leading dot', '.hidden'],
      ['more than 512 bytes', 'n'.repeat(513)],
      ['a NUL character', 'a%00b'],
      ['a newline', 'a%0Ab'],
      ['a unit separator', 'a%1Fb'],
      ['a DEL character', 'a%7Fb'],
      ['a space', 'a%20b'],
      ['a non-ASCII letter', 'caf%C3%A9'],
      ['a last segment "versions"', 'x/versions'],
      ['a last segment "restore"', 'x/restore'],
    ])('refuses a name with %s with 400 invalid_name', async (_label, name) => {
      const answer = await put(`${META_BASE}/${name}`, '{"a":1}');
      expect(answer.status).toBe(400);
      expectEnvelope(answer, 'invalid_name');
    });

    it('refuses a bad name on reads too', async () => {
      const answer = await rawRequest(server.url, {
        method: 'GET',
        path: `${META_BASE}/a/%2E%2E/%2E%2E/b`,
        key: assistantKey,
      });
      expect(answer.status).toBe(400);
      expectEnvelope(answer, 'invalid_name');
    });

    it('accepts a name of exactly 512 bytes', async () => {
      const answer = await put(`${META_BASE}/${'n'.repeat(512)}`, '{"a":1}');
      expect(answer.status).toBe(201);
    });

    it('answers a malformed percent-encoding with 400 in the error envelope', async () => {
      const answer = await put(`${META_BASE}/a%ZZb`, '{"a":1}');
      expect(answer.status).toBe(400);
      expectEnvelope(answer, 'invalid_request');
    });

    it('stored none of the refused names', async () => {
      const list = await assistant('GET', '/v1/artifacts/ai_assistant?limit=1000');
      expect(list.json.items.map((item: { name: string }) => item.name)).toEqual(['n'.repeat(512)]);
    });
  });

  describe('content', () => {
    it('refuses a non-JSON content type for a JSON class with 415', async () => {
      const path = `${META_BASE}/content/plain`;
      const answer = await put(path, '{"a":1}', { 'content-type': 'text/plain' });
      expect(answer.status).toBe(415);
      expectEnvelope(answer, 'unsupported_media_type');
      expect(await versionsStatus(path)).toBe(404);
    });

    it('refuses a JSON class body without a content type with 415', async () => {
      const path = `${META_BASE}/content/untyped`;
      const answer = await rawRequest(server.url, {
        method: 'PUT',
        path,
        key: assistantKey,
        body: '{"a":1}',
      });
      expect(answer.status).toBe(415);
      expect(await versionsStatus(path)).toBe(404);
    });

    it.each([
      ['truncated JSON', '{"a":'],
      ['an empty body', ''],
      ['a trailing comma', '{"a":1,}'],
      ['single quotes', "{'a':1}"],
    ])('refuses %s with 400 invalid_json', async (_label, body) => {
      const path = `${META_BASE}/content/invalid-${body.length}`;
      const answer = await put(path, body);
      expect(answer.status).toBe(400);
      expectEnvelope(answer, 'invalid_json');
      expect(await versionsStatus(path)).toBe(404);
    });

    it.each([
      ['an array', '[{"a":1}]'],
      ['null', 'null'],
      ['a string', '"text"'],
      ['a number', '42'],
    ])('refuses %s for a JSON-object class with 400', async (label, body) => {
      const path = `${META_BASE}/content/not-object-${label.replace(' ', '-')}`;
      const answer = await put(path, body);
      expect(answer.status).toBe(400);
      expectEnvelope(answer, 'json_not_object');
      expect(await versionsStatus(path)).toBe(404);
    });
  });

  describe('size limits', () => {
    it('accepts a body of exactly the class maximum', async () => {
      const answer = await put(`${META_BASE}/size/exact`, jsonOfSize(META_MAX));
      expect(answer.status).toBe(201);
      expect(answer.json.size).toBe(META_MAX);
    });

    it('refuses a declared Content-Length over the class limit with 413 before reading the body', async () => {
      const path = `${META_BASE}/size/declared`;
      const body = stalledBody(generatedBytes(10, 1));
      const answer = await rawRequest(server.url, {
        method: 'PUT',
        path,
        key: assistantKey,
        headers: { 'content-type': 'application/json', 'content-length': String(META_MAX + 1) },
        stream: body.stream,
        timeoutMs: 10_000,
      });
      body.release();
      expect(answer.status).toBe(413);
      expectEnvelope(answer, 'payload_too_large');
      expect(answer.json.error.decision.threats.map((t: { id: string }) => t.id)).toContain('T5');
      expect(await versionsStatus(path)).toBe(404);
    });

    it('refuses a declared Content-Length over the global 500 MB limit at once', async () => {
      const path = '/v1/artifacts/ai_avatar/model_checkpoint/size/huge.ckpt';
      const body = stalledBody(generatedBytes(1024, 2));
      const answer = await rawRequest(server.url, {
        method: 'PUT',
        path,
        key: avatarKey,
        headers: { 'content-type': 'application/octet-stream', 'content-length': '524288001' },
        stream: body.stream,
        timeoutMs: 10_000,
      });
      body.release();
      expect(answer.status).toBe(413);
      expectEnvelope(answer, 'payload_too_large');
      expect((await avatar('GET', `${path}/versions`)).status).toBe(404);
    });

    it('aborts a chunked JSON body with 413 as soon as it passes the class limit', async () => {
      const path = `${META_BASE}/size/chunked.json`;
      // One byte more than the class allows arrives, then the client stalls without ending the
      // body: only an answer sent mid-stream ends this request.
      const body = stalledBody(generatedBytes(META_MAX + 1, 3, 4096));
      const answer = await rawRequest(server.url, {
        method: 'PUT',
        path,
        key: assistantKey,
        headers: { 'content-type': 'application/json' },
        stream: body.stream,
        timeoutMs: 10_000,
      });
      body.release();
      expect(answer.status).toBe(413);
      expectEnvelope(answer, 'payload_too_large');
      expect(await versionsStatus(path)).toBe(404);
    });

    it('answers 413 to a client still streaming past the limit, not a broken connection', async () => {
      // A client uploading without Content-Length keeps sending while the server decides. RFC 9112
      // §9.6: closing at once with unread input resets the connection and the client may never
      // read the 413; the server must let the answer reach it (e.g. drain briefly, then close).
      const path = `${META_BASE}/size/streaming.json`;
      const sending = fetchUpload(
        server.url,
        path,
        assistantKey,
        { 'content-type': 'application/json' },
        generatedBytes(50 * 1024 * 1024, 5, 64 * 1024),
      );
      await expect(sending).resolves.toMatchObject({ status: 413 });
      expect(await versionsStatus(path)).toBe(404);
    });

    it('aborts a chunked binary body over its class limit mid-stream and keeps no file', async () => {
      const path = '/v1/artifacts/gurukul/educational_content/size/too-long.txt';
      const { key } = await createKey(server, { kind: 'product', product: 'gurukul' });
      const blobsDir = join(server.dataDir, 'blobs');
      const before = await filesUnder(blobsDir);
      // 100 MiB is the class maximum; one byte more arrives, then the client stalls.
      const body = stalledBody(generatedBytes(100 * 1024 * 1024 + 1, 4));
      const answer = await rawRequest(server.url, {
        method: 'PUT',
        path,
        key,
        headers: { 'content-type': 'text/plain' },
        stream: body.stream,
        timeoutMs: 20_000,
      });
      body.release();
      expect(answer.status).toBe(413);
      expectEnvelope(answer, 'payload_too_large');
      const versions = await rawRequest(server.url, {
        method: 'GET',
        path: `${path}/versions`,
        key,
      });
      expect(versions.status).toBe(404);
      // The aborted upload's temporary file is removed, and no content file appeared.
      let after: string[] = [];
      for (let attempt = 0; attempt < 20; attempt++) {
        after = await filesUnder(blobsDir);
        if (after.length === before.length) break;
        await sleep(100);
      }
      expect(after).toEqual(before);
    });
  });

  describe('products and classes', () => {
    it('answers 404 product_not_found to the owner for an unknown product', async () => {
      const read = await owner('GET', '/v1/artifacts/no_such_product/metadata/x.json');
      expect(read.status).toBe(404);
      expectEnvelope(read, 'product_not_found');
      const list = await owner('GET', '/v1/artifacts/no_such_product');
      expect(list.status).toBe(404);
      expectEnvelope(list, 'product_not_found');
    });

    it('answers 404 class_not_found for an unknown class to the owner', async () => {
      const answer = await owner('GET', '/v1/artifacts/ai_avatar/no_such_class/x.json');
      expect(answer.status).toBe(404);
      expectEnvelope(answer, 'class_not_found');
    });

    it('refuses a product key a class its integration did not declare (403, T4)', async () => {
      const answer = await avatar('PUT', '/v1/artifacts/ai_avatar/no_such_class/x.json', {
        body: { a: 1 },
      });
      expect(answer.status).toBe(403);
      expectEnvelope(answer, 'forbidden');
      expect(answer.json.error.decision.reasons.map((r: { rule: string }) => r.rule)).toEqual([
        'class_not_declared',
      ]);
      expect(answer.json.error.decision.threats.map((t: { id: string }) => t.id)).toEqual(['T4']);
    });

    it.each([
      ['rejected everywhere', 'user_credentials', 'class_rejected'],
      ['forbidden for the product', 'access_control', 'class_forbidden'],
      ['allowed only for another product', 'metadata', 'class_not_allowed'],
    ])('refuses a class %s with 403', async (_label, className, rule) => {
      const path = `/v1/artifacts/ai_avatar/${className}/x.json`;
      // A product key is stopped at stage 2 (its integration never declared the class) ...
      const write = await avatar('PUT', path, { body: { a: 1 } });
      expect(write.status).toBe(403);
      expectEnvelope(write, 'forbidden');
      expect((await avatar('GET', path)).status).toBe(403);
      // ... and stage 3 (admission) names the rule to a key without an integration.
      const read = await owner('GET', path);
      expect(read.status).toBe(403);
      expectEnvelope(read, 'forbidden');
      expect(read.json.error.decision.reasons.map((r: { rule: string }) => r.rule)).toContain(rule);
    });

    it('refuses every write to the read-only workflow_engine product with 403', async () => {
      const { key } = await createKey(server, { kind: 'product', product: 'workflow_engine' });
      const answer = await client(server.url, key)(
        'PUT',
        '/v1/artifacts/workflow_engine/event_history/e1.json',
        { body: { event: 'x' } },
      );
      expect(answer.status).toBe(403);
      expectEnvelope(answer, 'forbidden');
    });
  });

  describe('metadata headers', () => {
    it('accepts x-bucket-meta-* of exactly 8 KiB and returns it', async () => {
      const path = `${META_BASE}/meta/exact`;
      const value = 'v'.repeat(8192 - 'note'.length);
      const answer = await put(path, '{"a":1}', { 'x-bucket-meta-note': value });
      expect(answer.status).toBe(201);
      const head = await rawRequest(server.url, { method: 'HEAD', path, key: assistantKey });
      expect(head.headers['x-bucket-meta-note']).toBe(value);
    });

    it('refuses x-bucket-meta-* over 8 KiB in all with 400 and stores nothing', async () => {
      const path = `${META_BASE}/meta/over`;
      const answer = await put(path, '{"a":1}', {
        'x-bucket-meta-first': 'a'.repeat(4096),
        'x-bucket-meta-second': 'b'.repeat(4096),
      });
      expect(answer.status).toBe(400);
      expectEnvelope(answer, 'invalid_metadata');
      expect(await versionsStatus(path)).toBe(404);
    });
  });

  describe('other malformed requests', () => {
    const cases: [string, () => Promise<RawAnswer>, number][] = [
      [
        'a non-numeric x-bucket-if-version',
        () => put(`${META_BASE}/other/ifv`, '{}', { 'x-bucket-if-version': '1e3' }),
        400,
      ],
      [
        'If-None-Match other than * on PUT',
        () => put(`${META_BASE}/other/inm`, '{}', { 'if-none-match': '"abc"' }),
        400,
      ],
      [
        'a negative list limit',
        () =>
          rawRequest(server.url, {
            method: 'GET',
            path: '/v1/artifacts/ai_assistant?limit=-1',
            key: assistantKey,
          }),
        400,
      ],
      [
        'POST to an artifact without /restore',
        () => rawRequest(server.url, { method: 'POST', path: `${META_BASE}/x`, key: assistantKey }),
        404,
      ],
      [
        'a malformed key body',
        () =>
          rawRequest(server.url, {
            method: 'POST',
            path: '/v1/keys',
            key: server.ownerKey,
            headers: { 'content-type': 'application/json' },
            body: '{"kind":',
          }),
        400,
      ],
    ];
    it.each(cases)('answers %s in the error envelope', async (_label, send, status) => {
      const answer = await send();
      expect(answer.status).toBe(status);
      expect(answer.json?.error?.requestId).toEqual(expect.any(String));
    });
  });

  it('is still healthy and serving after all of the above', async () => {
    const health = await client(server.url)('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json.status).toBe('healthy');
    const path = `${META_BASE}/after/all.json`;
    expect((await assistant('PUT', path, { body: { fine: true } })).status).toBe(201);
    expect((await assistant('GET', path)).json).toEqual({ fine: true });
  });
});
