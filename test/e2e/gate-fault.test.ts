/**
 * Fail closed (SPEC §4.1, issue 3 item 7): a fault injected into any stage of the gate
 * (`BUCKET_TEST_GATE_FAULT=<stage>`, honoured only with NODE_ENV=test) answers 503
 * `gate_unavailable` and leaves storage untouched.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const STAGES = ['identity', 'integration', 'admission', 'operation', 'content', 'limits'];
const PATH = '/v1/artifacts/ai_avatar/avatar_config/fault/a.json';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('a fault inside the gate', () => {
  let first: TestServer;
  let key: string;

  beforeAll(async () => {
    first = await startTestServer();
    key = (await createKey(first, { kind: 'product', product: 'ai_avatar' })).key;
    expect((await client(first.url, key)('PUT', PATH, { body: { look: 'v1' } })).status).toBe(201);
    await first.stop();
  });
  afterAll(async () => first?.dispose());

  it.each(STAGES)('in stage %s answers 503 gate_unavailable and stores nothing', async (stage) => {
    const blobsBefore = await filesUnder(join(first.dataDir, 'blobs'));
    const faulty = await startTestServer({
      dataDir: first.dataDir,
      env: { BUCKET_TEST_GATE_FAULT: stage, NODE_ENV: 'test', BUCKET_OWNER_KEY: first.ownerKey },
    });
    try {
      const api = client(faulty.url, key);
      const write = await api('PUT', PATH, { body: { look: 'v2', size: 'x'.repeat(100_000) } });
      expect(write.status).toBe(503);
      expect(write.json.error.code).toBe('gate_unavailable');
      expect(write.json.error.decision).toMatchObject({
        allow: false,
        status: 503,
        reasons: [{ rule: 'gate_failure', message: expect.stringContaining(stage) }],
      });
      expect((await api('GET', PATH)).status).toBe(503);
      const ownerCall = await client(faulty.url, first.ownerKey)('GET', '/v1/keys');
      expect(ownerCall.status).toBe(503);
    } finally {
      await faulty.stop();
    }
    expect(await filesUnder(join(first.dataDir, 'blobs'))).toEqual(blobsBefore);
    const healthy = await startTestServer({
      dataDir: first.dataDir,
      env: { BUCKET_OWNER_KEY: first.ownerKey },
    });
    try {
      const versions = await client(healthy.url, key)('GET', `${PATH}/versions`);
      expect(versions.json.versions.map((v: { version: number }) => v.version)).toEqual([1]);
    } finally {
      await healthy.stop();
    }
  });

  it('is refused outside tests: the server does not start', async () => {
    await expect(
      startTestServer({
        dataDir: first.dataDir,
        env: { BUCKET_TEST_GATE_FAULT: 'identity', NODE_ENV: 'production' },
      }),
    ).rejects.toThrow(/NODE_ENV=test/);
    await expect(
      startTestServer({
        dataDir: first.dataDir,
        env: { BUCKET_TEST_GATE_FAULT: 'no_such_stage', NODE_ENV: 'test' },
      }),
    ).rejects.toThrow(/must name a stage/);
  });
});
