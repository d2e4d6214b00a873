/**
 * Round trips through real HTTP (SPEC §3): what goes in comes out byte for byte, with the SHA-256
 * the write answered — from an empty body to a 200 MB stream that neither side holds in memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadHash, generatedBytes, hashing, hashOf, rawRequest } from '../helpers/http.js';
import { sha256 } from '../helpers/hash.js';
import { contentStored, storedSize } from '../helpers/durability.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const BASE = '/v1/artifacts/ai_avatar/model_checkpoint';

describe('artifact round trips', () => {
  let server: TestServer;
  let avatar: { key: string; id: string };
  let api: ReturnType<typeof client>;

  beforeAll(async () => {
    server = await startTestServer();
    avatar = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    api = client(server.url, avatar.key);
  });
  afterAll(async () => server?.dispose());

  it.each([
    ['empty', 0],
    ['1 byte', 1],
    ['1 KiB', 1024],
  ])('round-trips a %s binary body with an equal SHA-256', async (label, size) => {
    const body = Buffer.alloc(size);
    for await (const chunk of generatedBytes(size, size + 7)) chunk.copy(body);
    const name = `rt/${label.replace(' ', '-')}.ckpt`;
    const put = await api('PUT', `${BASE}/${name}`, {
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(put.status).toBe(201);
    expect(put.json).toMatchObject({
      product: 'ai_avatar',
      class: 'model_checkpoint',
      name,
      version: 1,
      sha256: sha256(body),
      size,
      contentType: 'application/octet-stream',
      createdBy: avatar.id,
      retention: { mode: 'compliance', until: null },
    });
    expect(Date.parse(put.json.createdAt)).not.toBeNaN();

    const get = await api('GET', `${BASE}/${name}`);
    expect(get.status).toBe(200);
    expect(get.bytes.equals(body)).toBe(true);
    expect(get.headers.get('content-length')).toBe(String(size));
    expect(get.headers.get('x-bucket-sha256')).toBe(sha256(body));
    expect(get.headers.get('etag')).toBe(`"${sha256(body)}"`);
  });

  it('round-trips 10 MiB sent chunked (no Content-Length) and hashes it while streaming', async () => {
    const upload = hashing(generatedBytes(10 * MiB, 10));
    const put = await rawRequest(server.url, {
      method: 'PUT',
      path: `${BASE}/rt/10MiB.ckpt`,
      key: avatar.key,
      headers: { 'content-type': 'application/octet-stream' },
      stream: upload.stream,
    });
    const sent = upload.result();
    expect(put.status).toBe(201);
    expect(put.json).toMatchObject({ sha256: sent.sha256, size: 10 * MiB, version: 1 });

    const got = await downloadHash(server.url, `${BASE}/rt/10MiB.ckpt`, avatar.key);
    expect(got.status).toBe(200);
    expect(got).toMatchObject({ sha256: sent.sha256, size: 10 * MiB });
    expect(got.headers['content-length']).toBe(String(10 * MiB));
  });

  it('streams a 200 MB checkpoint in and out with a verified x-bucket-sha256', async () => {
    const size = 200 * MiB;
    const expected = await hashOf(generatedBytes(size, 200));
    const upload = hashing(generatedBytes(size, 200));
    const put = await rawRequest(server.url, {
      method: 'PUT',
      path: `${BASE}/rt/200MB.ckpt`,
      key: avatar.key,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(size),
        'x-bucket-sha256': expected.sha256,
      },
      stream: upload.stream,
    });
    expect(put.status).toBe(201);
    expect(upload.result().sha256).toBe(expected.sha256);
    expect(put.json).toMatchObject({ sha256: expected.sha256, size, version: 1 });

    const got = await downloadHash(server.url, `${BASE}/rt/200MB.ckpt`, avatar.key);
    expect(got.status).toBe(200);
    expect(got.sha256).toBe(expected.sha256);
    expect(got.size).toBe(size);
    expect(got.headers['x-bucket-sha256']).toBe(expected.sha256);

    // Content-addressed: the file (or object) is named by the hash and holds exactly the bytes.
    expect(await storedSize(server, expected.sha256)).toBe(size);
  });

  it('keeps a small JSON document inline, byte for byte (no reformatting)', async () => {
    const document = '{ "voice": "warm",\n  "pitch": 1.5, "tags": ["a", "b"] }';
    const put = await api('PUT', '/v1/artifacts/ai_avatar/avatar_config/rt/config.json', {
      body: document,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(put.status).toBe(201);
    expect(put.json).toMatchObject({
      sha256: sha256(document),
      size: Buffer.byteLength(document),
      contentType: 'application/json; charset=utf-8',
    });
    const get = await api('GET', '/v1/artifacts/ai_avatar/avatar_config/rt/config.json');
    expect(get.status).toBe(200);
    expect(get.bytes.toString('utf8')).toBe(document);
    expect(get.headers.get('content-type')).toBe('application/json; charset=utf-8');
    // Small contents live in the database: no blob was stored.
    expect(await contentStored(server, sha256(document))).toBe(false);
  });

  it('keeps a 100 KiB+ binary in a content-addressed file and round-trips it', async () => {
    const body = Buffer.alloc(150 * 1024);
    let offset = 0;
    for await (const chunk of generatedBytes(body.length, 150, 8 * 1024)) {
      chunk.copy(body, offset);
      offset += chunk.length;
    }
    const sha = sha256(body);
    const put = await api('PUT', `${BASE}/rt/150KiB.bin`, {
      body,
      headers: { 'content-type': 'application/x-checkpoint' },
    });
    expect(put.status).toBe(201);
    expect(put.json).toMatchObject({ sha256: sha, size: body.length });
    expect(await storedSize(server, sha)).toBe(body.length);

    const get = await api('GET', `${BASE}/rt/150KiB.bin`);
    expect(get.status).toBe(200);
    expect(get.bytes.equals(body)).toBe(true);
    expect(get.headers.get('content-type')).toBe('application/x-checkpoint');
  });

  it('answers 404 for an artifact that was never written', async () => {
    const get = await api('GET', `${BASE}/rt/never-written.ckpt`);
    expect(get.status).toBe(404);
    expect(get.json.error.code).toBe('artifact_not_found');
  });
});
