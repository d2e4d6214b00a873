/**
 * Bad input past the limits (SPEC §2.3, §3): sizes over the class or global maximum (declared or
 * streamed), unknown products and classes — answered in the error envelope, nothing stored.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fetchUpload, filesUnder, generatedBytes, rawRequest, sleep } from '../helpers/http.js';
import { client, createKey } from '../helpers/server.js';
import {
  META_BASE,
  META_MAX,
  assistantKey,
  avatar,
  avatarKey,
  expectEnvelope,
  jsonOfSize,
  owner,
  put,
  server,
  stalledBody,
  startBadInputServer,
  versionsStatus,
} from '../helpers/bad-input.js';

describe('bad input', () => {
  startBadInputServer();

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
});
