/**
 * Issue 21: a worker whose primary is gone (decision 0054). Its limiter — the primary's, over IPC
 * (src/cluster/limiter.ts) — can no longer answer, so every request that needs it fails closed
 * with 503 `gate_unavailable` in the SPEC §3 envelope, nothing stored, instead of waiting for an
 * answer that will not come or crashing on the closed channel. In process, the channel played in
 * memory; test/durability/workers-primary.test.ts kills a real primary.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpcLimiter, LimiterHost } from '../../src/cluster/limiter.js';
import { configFromEnv } from '../../src/config.js';
import { createLogger, startServer, type RunningServer } from '../../src/server.js';
import { MemoryLimiter } from '../../src/storage/memory/limiter.js';
import { envelope } from '../helpers/in-process.js';
import { channelTo } from '../helpers/ipc-channel.js';
import { SCALE_OUT } from '../helpers/scaleout.js';
import { client, createKey, type TestServer } from '../helpers/server.js';

// Workers are the embedded configuration's.
describe.skipIf(SCALE_OUT)('a worker whose primary is gone', () => {
  let dataDir: string;
  let server: RunningServer;
  let channel: ReturnType<typeof channelTo>;
  let writer: ReturnType<typeof client>;
  const path = '/v1/artifacts/ai_avatar/avatar_config/gone/one.json';

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'bucket-primary-gone-'));
    channel = channelTo(new LimiterHost(new MemoryLimiter(), 2), 1);
    const config = configFromEnv({ BUCKET_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' });
    server = await startServer(
      config,
      { limiter: new IpcLimiter(channel), eventLoopDelayMs: () => 0 },
      createLogger('silent'),
    );
    const ownerKey = server.bucket.newOwnerKey ?? '';
    const asTestServer = { url: server.url, ownerKey } as unknown as TestServer;
    writer = client(
      server.url,
      (await createKey(asTestServer, { kind: 'product', product: 'ai_avatar' })).key,
    );
  });
  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses what needs the limiter with 503 gate_unavailable, and stores nothing', async () => {
    expect((await writer('PUT', path, { body: { turn: 1 } })).status).toBe(201);
    channel.disconnect();
    const write = await writer('PUT', path, { body: { turn: 2 } });
    expect(write.status).toBe(503);
    expect(write.json).toEqual(envelope('gate_unavailable'));
    const read = await writer('GET', path);
    expect(read.status).toBe(503);
    expect(read.json).toEqual(envelope('gate_unavailable'));
    // A failing key's failure cannot be counted (brute force, SPEC §5 T1): closed as well.
    const stranger = await client(server.url, 'bkt_not-a-key-of-this-bucket')('GET', path);
    expect(stranger.status).toBe(503);
    expect(stranger.json).toEqual(envelope('gate_unavailable'));
    // Health says which backend is gone; the version stored before is the only one.
    const health = await client(server.url)('GET', '/health');
    expect(health.json.status).toBe('degraded');
    expect(health.json.backends.limiter.ok).toBe(false);
    expect((await server.bucket.metadata.listVersions(keyOf(path))).length).toBe(1);
  });
});

function keyOf(path: string) {
  const [, , , product = '', cls = '', ...name] = path.split('/');
  return { product, class: cls, name: name.join('/') };
}
