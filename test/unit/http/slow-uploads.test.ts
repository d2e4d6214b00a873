/**
 * One slow client cannot take every write slot (SPEC §2.3; issue 16, item 6): a product holds at
 * most `productWriteShare` of `concurrentWrites`, so another product still writes while it is at
 * its share; and an upload slower than `minUploadBytesPerSecond` over 10 s is cut with 408,
 * giving its slot back. (This test waits out one real 10 s window.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stalledUpload } from '../../helpers/http.js';
import { envelope, startInProcess, type InProcessServer } from '../../helpers/in-process.js';
import { createKey } from '../../helpers/server.js';

/** An upload of a checkpoint `name` of ai_avatar that stalls after its first byte. */
const stalledCheckpoint = (url: string, key: string, name: string) =>
  stalledUpload(url, key, `/v1/artifacts/ai_avatar/model_checkpoint/${name}`);

describe('slow uploads and the write slots', () => {
  let server: InProcessServer;
  let avatar: string;
  let assistant: string;

  beforeAll(async () => {
    server = await startInProcess();
    const owner = `Bearer ${server.ownerKey}`;
    const current = await server.running.app.inject({
      method: 'GET',
      url: '/v1/governance/policy',
      headers: { authorization: owner },
    });
    const document = current.json().document;
    // 4 slots, 2 per product: two stalled uploads fill one product's share.
    document.limits = { ...document.limits, concurrentWrites: 4, productWriteShare: 0.5 };
    const updated = await server.running.app.inject({
      method: 'PUT',
      url: '/v1/governance/policy',
      headers: { authorization: owner },
      payload: { document, reason: 'small write slots for the test' },
    });
    expect(updated.statusCode).toBe(200);
    avatar = (await createKey(server.asTestServer(), { kind: 'product', product: 'ai_avatar' }))
      .key;
    assistant = (
      await createKey(server.asTestServer(), { kind: 'product', product: 'ai_assistant' })
    ).key;
  });
  afterAll(async () => server?.dispose());

  const put = (key: string, url: string, payload: string, contentType: string) =>
    server.running.app.inject({
      method: 'PUT',
      url,
      headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
      payload,
    });
  const avatarPut = (name: string) =>
    put(avatar, `/v1/artifacts/ai_avatar/model_checkpoint/${name}`, 'bytes', 'text/plain');

  it('holds a product to its share, then cuts its stalled uploads with 408', async () => {
    const stalled = [
      stalledCheckpoint(server.url, avatar, 'slow-1.bin'),
      stalledCheckpoint(server.url, avatar, 'slow-2.bin'),
    ];
    await expect
      .poll(() => server.running.bucket.limiter.writesInFlight(), { timeout: 10_000 })
      .toBe(2);

    const third = await avatarPut('third.bin');
    expect(third.statusCode).toBe(429);
    expect(third.json()).toEqual(envelope('rate_limited'));
    const other = await put(
      assistant,
      '/v1/artifacts/ai_assistant/metadata/other.json',
      '{"ok":true}',
      'application/json',
    );
    expect(other.statusCode).toBe(201);

    for (const upload of stalled) {
      const answer = await upload.answered;
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer.toLowerCase()).toContain('connection: close');
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual(
        envelope('request_timeout'),
      );
      upload.close();
    }
    await expect.poll(() => server.running.bucket.limiter.writesInFlight()).toBe(0);
    expect((await avatarPut('after.bin')).statusCode).toBe(201);
  });
});
