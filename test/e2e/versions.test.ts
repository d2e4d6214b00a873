/**
 * Versions (SPEC §2.2, §3): every write of an UPDATE-able class is a new immutable version, each
 * readable with ?version=n; a write-once class refuses a second write (403, T3) — without T3 when it
 * is the replay of the stored content (an upload retried after its answer was lost).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../helpers/hash.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const CONFIG = '/v1/artifacts/ai_avatar/avatar_config/persona/main.json';
const threatIds = (body: any): string[] =>
  (body?.error?.decision?.threats ?? []).map((t: { id: string }) => t.id);

describe('versions', () => {
  let server: TestServer;
  let avatar: { key: string; id: string };
  let api: ReturnType<typeof client>;
  const bodies = [1, 2, 3, 4].map((n) => JSON.stringify({ revision: n, note: 'x'.repeat(n) }));

  beforeAll(async () => {
    server = await startTestServer();
    avatar = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    api = client(server.url, avatar.key);
    for (const [index, body] of bodies.entries()) {
      const put = await api('PUT', CONFIG, {
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect(put.status).toBe(index === 0 ? 201 : 200);
      expect(put.json.version).toBe(index + 1);
    }
  });
  afterAll(async () => server?.dispose());

  it('lists every version of an avatar_config with its hash, size and author', async () => {
    const list = await api('GET', `${CONFIG}/versions`);
    expect(list.status).toBe(200);
    expect(list.json.versions).toHaveLength(4);
    list.json.versions.forEach((entry: any, index: number) => {
      expect(entry).toEqual({
        version: index + 1,
        sha256: sha256(bodies[index] as string),
        size: Buffer.byteLength(bodies[index] as string),
        createdAt: expect.any(String),
        createdBy: avatar.id,
        tombstone: false,
      });
    });
  });

  it('reads each older version with ?version=n and the latest without it', async () => {
    for (const [index, body] of bodies.entries()) {
      const get = await api('GET', `${CONFIG}?version=${index + 1}`);
      expect(get.status).toBe(200);
      expect(get.bytes.toString()).toBe(body);
      expect(get.headers.get('x-bucket-version')).toBe(String(index + 1));
      expect(get.headers.get('etag')).toBe(`"${sha256(body)}"`);
    }
    const latest = await api('GET', CONFIG);
    expect(latest.bytes.toString()).toBe(bodies[3]);
    expect(latest.headers.get('x-bucket-version')).toBe('4');
    const head = await api('HEAD', `${CONFIG}?version=2`);
    expect(head.headers.get('x-bucket-version')).toBe('2');
  });

  it('answers 404 for a version that does not exist and 400 for one that cannot', async () => {
    const missing = await api('GET', `${CONFIG}?version=5`);
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('version_not_found');
    expect((await api('GET', `${CONFIG}?version=0`)).status).toBe(400);
    expect((await api('GET', `${CONFIG}?version=two`)).status).toBe(400);
  });

  it('answers 404 for the versions of a name never written', async () => {
    const list = await api('GET', '/v1/artifacts/ai_avatar/avatar_config/nobody.json/versions');
    expect(list.status).toBe(404);
  });

  it('makes every one of concurrent unconditional writes a new version (409 is for preconditions)', async () => {
    const { key } = await createKey(server, { kind: 'product', product: 'gurukul' });
    const gurukul = client(server.url, key);
    const path = '/v1/artifacts/gurukul/educational_content/lessons/shared.txt';
    const headers = { 'content-type': 'text/plain' };
    expect((await gurukul('PUT', path, { body: 'draft', headers })).status).toBe(201);
    // Ten editors save at once, none with x-bucket-if-version: each save is a version.
    const bodies = Array.from({ length: 10 }, (_, i) => Buffer.alloc(300 * 1024, 65 + i));
    const answers = await Promise.all(
      bodies.map((body) => gurukul('PUT', path, { body, headers })),
    );
    expect(answers.map((answer) => answer.json?.error?.code ?? answer.status)).toEqual(
      Array(10).fill(200),
    );
    const versions = await gurukul('GET', `${path}/versions`);
    expect(versions.json.versions.map((v: { version: number }) => v.version)).toEqual(
      Array.from({ length: 11 }, (_, i) => i + 1),
    );
    expect(
      versions.json.versions
        .slice(1)
        .map((v: { sha256: string }) => v.sha256)
        .sort(),
    ).toEqual(bodies.map((body) => sha256(body)).sort());
  });

  it('refuses a second write of a write-once model_checkpoint with 403 and T3, keeping the first', async () => {
    const path = '/v1/artifacts/ai_avatar/model_checkpoint/once/weights.bin';
    const first = Buffer.from('first weights');
    const headers = { 'content-type': 'application/octet-stream' };
    expect((await api('PUT', path, { body: first, headers })).status).toBe(201);

    const second = await api('PUT', path, { body: Buffer.from('second weights'), headers });
    expect(second.status).toBe(403);
    expect(second.json.error.code).toBe('forbidden');
    expect(second.json.error.decision).toMatchObject({ allow: false, operation: 'UPDATE' });
    expect(threatIds(second.json)).toContain('T3');

    const get = await api('GET', path);
    expect(get.bytes.equals(first)).toBe(true);
    expect((await api('GET', `${path}/versions`)).json.versions).toHaveLength(1);
  });

  it('refuses a replay of a write-once version (same x-bucket-sha256) without T3, so retries never suspend the key', async () => {
    // A key of its own: its suspension is what a T3 on every retry would bring.
    const retrier = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const retry = client(server.url, retrier.key);
    const path = '/v1/artifacts/ai_avatar/model_checkpoint/once/retried.bin';
    const weights = Buffer.from('weights whose answer was lost');
    const headers = {
      'content-type': 'application/octet-stream',
      'x-bucket-sha256': sha256(weights),
    };
    expect((await retry('PUT', path, { body: weights, headers })).status).toBe(201);

    for (let attempt = 0; attempt < 4; attempt++) {
      const again = await retry('PUT', path, { body: weights, headers });
      expect(again.status).toBe(403);
      expect(again.json.error.code).toBe('forbidden');
      expect(again.json.error.decision.reasons).toEqual([
        {
          rule: 'write_once_unchanged',
          message:
            'version 1 already holds this content (x-bucket-sha256 matches); class ' +
            '"model_checkpoint" is write-once, so it stays as it is',
        },
      ]);
      expect(threatIds(again.json)).toEqual([]);
    }
    // Four retries, and the key still works: none counted toward its suspension.
    expect((await retry('GET', path)).bytes.equals(weights)).toBe(true);

    // A claim of the stored hash over other bytes changes nothing either: refused before the
    // body is read.
    const lying = await retry('PUT', path, { body: Buffer.from('other weights'), headers });
    expect(lying.status).toBe(403);
    expect((await retry('GET', path)).bytes.equals(weights)).toBe(true);
    expect((await retry('GET', `${path}/versions`)).json.versions).toHaveLength(1);

    // Other content with its own hash is the overwrite the class forbids: T3, as before.
    const other = Buffer.from('other weights');
    const overwrite = await retry('PUT', path, {
      body: other,
      headers: { ...headers, 'x-bucket-sha256': sha256(other) },
    });
    expect(overwrite.status).toBe(403);
    expect(threatIds(overwrite.json)).toContain('T3');
  });

  it('refuses a second write of a write-once metadata record with 403 and T3', async () => {
    const { key } = await createKey(server, { kind: 'product', product: 'ai_assistant' });
    const assistant = client(server.url, key);
    const path = '/v1/artifacts/ai_assistant/metadata/once/run.json';
    expect((await assistant('PUT', path, { body: { run: 1 } })).status).toBe(201);
    const second = await assistant('PUT', path, { body: { run: 2 } });
    expect(second.status).toBe(403);
    expect(threatIds(second.json)).toContain('T3');
    expect((await assistant('GET', path)).json).toEqual({ run: 1 });
  });
});
