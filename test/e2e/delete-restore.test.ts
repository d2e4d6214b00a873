/**
 * DELETE and restore (SPEC §2.2, §3, §8): a delete is a restorable tombstone version, only where
 * the class allows D (core/basket_config); elsewhere it is refused with 403 and T3.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../helpers/hash.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const BASKET = '/v1/artifacts/core/basket_config/baskets/nightly.json';
const threatIds = (body: any): string[] =>
  (body?.error?.decision?.threats ?? []).map((t: { id: string }) => t.id);

describe('delete and restore', () => {
  let server: TestServer;
  let coreKey: { key: string; id: string };
  let core: ReturnType<typeof client>;
  const original = JSON.stringify({ strategy: 'sequential', agents: ['a', 'b'] });

  beforeAll(async () => {
    server = await startTestServer();
    coreKey = await createKey(server, { kind: 'core' });
    core = client(server.url, coreKey.key);
    const put = await core('PUT', BASKET, {
      body: original,
      headers: { 'content-type': 'application/json' },
    });
    expect(put.status).toBe(201);
  });
  afterAll(async () => server?.dispose());

  it('deletes a basket_config with 204 and then answers 404 to reads', async () => {
    const deleted = await core('DELETE', BASKET);
    expect(deleted.status).toBe(204);
    expect(deleted.bytes.length).toBe(0);

    const get = await core('GET', BASKET);
    expect(get.status).toBe(404);
    expect(get.json.error.code).toBe('artifact_deleted');
    expect((await core('HEAD', BASKET)).status).toBe(404);
    const list = await core('GET', '/v1/artifacts/core?class=basket_config');
    expect(list.json.items).toEqual([]);
  });

  it('shows the tombstone in the versions list and keeps the old version readable', async () => {
    const versions = await core('GET', `${BASKET}/versions`);
    expect(versions.status).toBe(200);
    expect(versions.json.versions).toEqual([
      expect.objectContaining({ version: 1, tombstone: false, sha256: sha256(original) }),
      expect.objectContaining({ version: 2, tombstone: true, size: 0, createdBy: coreKey.id }),
    ]);
    const old = await core('GET', `${BASKET}?version=1`);
    expect(old.status).toBe(200);
    expect(old.bytes.toString()).toBe(original);
  });

  it('refuses to delete what is already deleted', async () => {
    const again = await core('DELETE', BASKET);
    expect(again.status).toBe(404);
    expect((await core('GET', `${BASKET}/versions`)).json.versions).toHaveLength(2);
  });

  it('restores with 200 and the old SHA-256, and the content reads again', async () => {
    const restored = await core('POST', `${BASKET}/restore`);
    expect(restored.status).toBe(200);
    expect(restored.json).toMatchObject({
      product: 'core',
      class: 'basket_config',
      name: 'baskets/nightly.json',
      version: 3,
      sha256: sha256(original),
      size: Buffer.byteLength(original),
      createdBy: coreKey.id,
    });
    const get = await core('GET', BASKET);
    expect(get.status).toBe(200);
    expect(get.bytes.toString()).toBe(original);
    expect(get.headers.get('x-bucket-version')).toBe('3');
    const list = await core('GET', '/v1/artifacts/core?class=basket_config');
    expect(list.json.items).toEqual([
      expect.objectContaining({ name: 'baskets/nightly.json', version: 3 }),
    ]);
    const versions = await core('GET', `${BASKET}/versions`);
    expect(versions.json.versions.map((v: { tombstone: boolean }) => v.tombstone)).toEqual([
      false,
      true,
      false,
    ]);
  });

  it('answers 409 to restoring an artifact that is not deleted', async () => {
    const restore = await core('POST', `${BASKET}/restore`);
    expect(restore.status).toBe(409);
    expect((await core('GET', `${BASKET}/versions`)).json.versions).toHaveLength(3);
  });

  it('answers 404 to deleting an artifact that does not exist', async () => {
    const answer = await core('DELETE', '/v1/artifacts/core/basket_config/never.json');
    expect(answer.status).toBe(404);
  });

  it('refuses DELETE of a class without D (core/agent_spec) with 403 and T3', async () => {
    const path = '/v1/artifacts/core/agent_spec/agents/cashflow.json';
    expect((await core('PUT', path, { body: { kind: 'builtin' } })).status).toBe(201);
    const answer = await core('DELETE', path);
    expect(answer.status).toBe(403);
    expect(answer.json.error.code).toBe('forbidden');
    expect(threatIds(answer.json)).toContain('T3');
    const get = await core('GET', path);
    expect(get.status).toBe(200);
    expect(get.json).toEqual({ kind: 'builtin' });
  });

  it('refuses DELETE of a write-once model_checkpoint with 403 and T3', async () => {
    const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const avatar = client(server.url, key);
    const path = '/v1/artifacts/ai_avatar/model_checkpoint/keep.bin';
    const put = await avatar('PUT', path, {
      body: Buffer.from('weights'),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(put.status).toBe(201);
    const answer = await avatar('DELETE', path);
    expect(answer.status).toBe(403);
    expect(threatIds(answer.json)).toContain('T3');
    expect((await avatar('GET', path)).bytes.toString()).toBe('weights');
  });

  it('refuses DELETE by an ai_agent key even where the class allows it (403)', async () => {
    const path = '/v1/artifacts/core/basket_config/baskets/agent-target.json';
    expect((await core('PUT', path, { body: { strategy: 'parallel' } })).status).toBe(201);
    // ai_agent keys are bound to a product; a core-product agent key is the closest there is.
    const created = await createKey(server, { kind: 'ai_agent', product: 'core', name: 'agent' });
    const answer = await client(server.url, created.key)('DELETE', path);
    expect(answer.status).toBe(403);
    expect((await core('GET', path)).status).toBe(200);
  });
});
