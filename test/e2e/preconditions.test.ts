/**
 * Write preconditions and the client hash (SPEC §3): If-None-Match: * → 412 when the name exists,
 * x-bucket-if-version → 409 unless current, x-bucket-sha256 mismatch → 400 — and a refused write
 * changes nothing.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder, generatedBytes } from '../helpers/http.js';
import { sha256 } from '../helpers/hash.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const CONFIG = '/v1/artifacts/ai_avatar/avatar_config';

describe('write preconditions', () => {
  let server: TestServer;
  let api: ReturnType<typeof client>;

  const versionsOf = async (path: string) => api('GET', `${path}/versions`);

  beforeAll(async () => {
    server = await startTestServer();
    const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    api = client(server.url, key);
  });
  afterAll(async () => server?.dispose());

  it('creates with If-None-Match: * and refuses the same name again with 412, unchanged', async () => {
    const path = `${CONFIG}/pre/inm.json`;
    const first = await api('PUT', path, { body: { n: 1 }, headers: { 'if-none-match': '*' } });
    expect(first.status).toBe(201);

    const again = await api('PUT', path, { body: { n: 2 }, headers: { 'if-none-match': '*' } });
    expect(again.status).toBe(412);
    expect(again.json.error.code).toBe('already_exists');
    expect(again.json.error.decision.allow).toBe(false);

    const versions = await versionsOf(path);
    expect(versions.json.versions).toHaveLength(1);
    const get = await api('GET', path);
    expect(get.json).toEqual({ n: 1 });
    expect(get.headers.get('x-bucket-version')).toBe('1');
  });

  it('writes with x-bucket-if-version only when it names the current version (409 otherwise)', async () => {
    const path = `${CONFIG}/pre/ifv.json`;
    const missing = await api('PUT', path, {
      body: { n: 0 },
      headers: { 'x-bucket-if-version': '3' },
    });
    expect(missing.status).toBe(409);
    expect(missing.json.error.code).toBe('version_conflict');
    expect((await versionsOf(path)).status).toBe(404);

    const created = await api('PUT', path, {
      body: { n: 1 },
      headers: { 'x-bucket-if-version': '0' },
    });
    expect(created.status).toBe(201);
    const second = await api('PUT', path, {
      body: { n: 2 },
      headers: { 'x-bucket-if-version': '1' },
    });
    expect(second.status).toBe(200);
    expect(second.json.version).toBe(2);

    const stale = await api('PUT', path, {
      body: { n: 3 },
      headers: { 'x-bucket-if-version': '1' },
    });
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe('version_conflict');
    expect((await versionsOf(path)).json.versions).toHaveLength(2);
    expect((await api('GET', path)).json).toEqual({ n: 2 });
  });

  it('refuses a malformed x-bucket-if-version with 400', async () => {
    const answer = await api('PUT', `${CONFIG}/pre/bad-ifv.json`, {
      body: { n: 1 },
      headers: { 'x-bucket-if-version': 'latest' },
    });
    expect(answer.status).toBe(400);
    expect((await versionsOf(`${CONFIG}/pre/bad-ifv.json`)).status).toBe(404);
  });

  it('accepts a matching x-bucket-sha256, in either case', async () => {
    const body = JSON.stringify({ checked: true });
    const answer = await api('PUT', `${CONFIG}/pre/sha-ok.json`, {
      body,
      headers: {
        'content-type': 'application/json',
        'x-bucket-sha256': sha256(body).toUpperCase(),
      },
    });
    expect(answer.status).toBe(201);
    expect(answer.json.sha256).toBe(sha256(body));
  });

  it('refuses an x-bucket-sha256 mismatch with 400 (T7) and stores nothing', async () => {
    const path = `${CONFIG}/pre/sha-bad.json`;
    const answer = await api('PUT', path, {
      body: { claimed: 'wrong' },
      headers: { 'x-bucket-sha256': sha256('something else') },
    });
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('sha256_mismatch');
    expect(answer.json.error.decision.threats.map((t: { id: string }) => t.id)).toContain('T7');
    expect((await versionsOf(path)).status).toBe(404);
    expect((await api('GET', path)).status).toBe(404);
  });

  it('refuses a mismatching hash on a new version of an existing name, keeping the old one', async () => {
    const path = `${CONFIG}/pre/sha-update.json`;
    expect((await api('PUT', path, { body: { v: 1 } })).status).toBe(201);
    const answer = await api('PUT', path, {
      body: { v: 2 },
      headers: { 'x-bucket-sha256': sha256('{"v":1}') },
    });
    expect(answer.status).toBe(400);
    expect((await versionsOf(path)).json.versions).toHaveLength(1);
    expect((await api('GET', path)).json).toEqual({ v: 1 });
  });

  it('refuses a mismatching hash on a file-stored binary and leaves no file behind', async () => {
    const parts: Buffer[] = [];
    for await (const chunk of generatedBytes(300 * 1024, 9)) parts.push(chunk);
    const body = Buffer.concat(parts);
    const blobsDir = join(server.dataDir, 'blobs');
    const before = await filesUnder(blobsDir);
    const path = '/v1/artifacts/ai_avatar/model_checkpoint/pre/sha-bad.bin';
    const answer = await api('PUT', path, {
      body,
      headers: {
        'content-type': 'application/octet-stream',
        'x-bucket-sha256': sha256('not these bytes'),
      },
    });
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('sha256_mismatch');
    expect((await versionsOf(path)).status).toBe(404);
    expect(await filesUnder(blobsDir)).toEqual(before);
  });

  it('refuses an x-bucket-sha256 that is not 64 hex digits with 400', async () => {
    const path = `${CONFIG}/pre/sha-malformed.json`;
    const answer = await api('PUT', path, {
      body: { a: 1 },
      headers: { 'x-bucket-sha256': 'abc' },
    });
    expect(answer.status).toBe(400);
    expect((await versionsOf(path)).status).toBe(404);
  });
});
