/**
 * Event streams and the server around them (SPEC §9, §10): a Bucket switched to `halted` ends the
 * open streams at once and refuses new ones; an idle stream outlives a short idle timeout, because
 * its keep-alive comes well within it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../helpers/http.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';
import { SseReader } from '../helpers/sse.js';

describe('event streams and a short idle timeout', () => {
  let server: TestServer;

  // A one-second idle timeout: the keep-alive (the default heartbeat) must come within it.
  beforeAll(async () => {
    server = await startTestServer({ env: { BUCKET_IDLE_TIMEOUT_S: '1' } });
  });
  afterAll(async () => server?.dispose());

  it('keeps an idle stream open past the idle timeout, then delivers the next event', async () => {
    const assistant = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key,
    );
    const stream = await SseReader.open(`${server.url}/v1/events/stream`, server.ownerKey);
    expect(stream.status).toBe(200);
    await sleep(2500);
    expect(stream.ended).toBe(false);
    const put = await assistant('PUT', '/v1/artifacts/ai_assistant/metadata/idle.json', {
      body: { a: 1 },
    });
    expect(put.status).toBe(201);
    const frame = await stream.next((next) => next.event === 'bucket.artifact.created');
    expect(JSON.parse(frame.data ?? '')).toMatchObject({
      bucketproduct: 'ai_assistant',
      data: { name: 'idle.json' },
    });
    stream.close();
  });
});

describe('event streams and the halted mode', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.dispose());

  it('ends every open stream when the Bucket is halted, and refuses new ones until normal', async () => {
    const owner = client(server.url, server.ownerKey);
    const auditor = (await createKey(server, { kind: 'auditor' })).key;
    const streams = [
      await SseReader.open(`${server.url}/v1/events/stream`, server.ownerKey),
      await SseReader.open(`${server.url}/v1/events/stream`, auditor),
    ];
    for (const stream of streams) expect(stream.status).toBe(200);
    const halted = await owner('POST', '/v1/governance/mode', {
      body: { mode: 'halted', reason: 'investigating' },
    });
    expect(halted.status).toBe(200);
    // Ended by the switch itself, not by a heartbeat (15 s) nor by the idle timeout (120 s).
    const started = Date.now();
    for (const stream of streams) {
      await expect(stream.next(() => false)).rejects.toThrow('the stream ended');
    }
    expect(Date.now() - started).toBeLessThan(5000);
    const refused = await SseReader.open(`${server.url}/v1/events/stream`, server.ownerKey);
    expect(refused.status).toBe(503);
    refused.close();
    const normal = await owner('POST', '/v1/governance/mode', {
      body: { mode: 'normal', reason: 'done' },
    });
    expect(normal.status).toBe(200);
    const again = await SseReader.open(`${server.url}/v1/events/stream`, server.ownerKey);
    expect(again.status).toBe(200);
    again.close();
  });
});
