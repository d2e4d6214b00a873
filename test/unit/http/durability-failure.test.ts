/**
 * A disk that fails to sync the embedded store's WAL (wal-sync.ts): the Bucket stops acknowledging
 * writes and audited reads, says why, and `/health` reports it — it never answers a write it could
 * not make durable.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket, type Bucket } from '../../../src/bucket.js';
import { configFromEnv } from '../../../src/config.js';
import { buildApp, type App } from '../../../src/http/app.js';
import { createLogger } from '../../../src/server.js';
import { SqliteMetadataStore } from '../../../src/storage/sqlite/metadata.js';
import { WalSync } from '../../../src/storage/sqlite/wal-sync.js';
import { createKey, type TestServer } from '../../helpers/server.js';

describe('a WAL sync that fails', () => {
  let dataDir: string;
  let bucket: Bucket;
  let app: App;
  let writer: string;
  /** Set by the test: the next syncs fail as a dying disk's would. */
  let diskFails = false;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'bucket-syncfail-'));
    const metadata = new SqliteMetadataStore(join(dataDir, 'bucket.db'), {
      wal: (walFile) => {
        const real = WalSync.forFile(walFile);
        return new WalSync(
          walFile,
          async () => {
            if (diskFails)
              throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
            await real.barrier();
          },
          () => real.close(),
        );
      },
    });
    await metadata.init();
    bucket = await createBucket(configFromEnv({ BUCKET_DATA_DIR: dataDir }), {
      metadata,
      eventLoopDelayMs: () => 0,
    });
    app = await buildApp(bucket, createLogger('silent'));
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const ownerKey = (await readFile(join(dataDir, 'owner.key'), 'utf8')).trim();
    const { key } = await createKey({ url, ownerKey } as TestServer, {
      kind: 'product',
      product: 'ai_avatar',
    });
    writer = `Bearer ${key}`;
  });
  afterAll(async () => {
    await app?.close();
    await bucket?.close().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  });

  const put = (name: string) =>
    app.inject({
      method: 'PUT',
      url: `/v1/artifacts/ai_avatar/model_checkpoint/${name}`,
      headers: { authorization: writer, 'content-type': 'application/octet-stream' },
      payload: Buffer.from(`content of ${name}`),
    });

  it('answers writes while the disk syncs, then refuses every write and says why', async () => {
    const before = await put('before.bin');
    expect(before.statusCode).toBe(201);
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({
      status: 'healthy',
    });

    diskFails = true;
    const failed = await put('during.bin');
    expect(failed.statusCode).toBe(503);
    expect(failed.json()).toMatchObject({
      error: { code: 'storage_unavailable', message: expect.stringMatching(/disk failed a sync/) },
    });
    // The server's paths stay in its log.
    expect(failed.body).not.toContain(dataDir);

    // Final: a disk that recovers is not trusted again until the server restarts.
    diskFails = false;
    expect((await put('after.bin')).statusCode).toBe(503);
    const read = await app.inject({
      method: 'GET',
      url: '/v1/artifacts/ai_avatar/model_checkpoint/before.bin',
      headers: { authorization: writer },
    });
    // Every read is audited, and its entry cannot be made durable either.
    expect(read.statusCode).toBe(503);

    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({
      status: 'unhealthy',
      backends: {
        metadata: {
          ok: false,
          error: expect.stringMatching(/bucket\.db-wal could not be synced to disk \(EIO/),
        },
      },
    });
  });
});
