/**
 * Keys and principals (SPEC §1): owner bootstrap, the keys API, secrets never shown twice nor
 * stored, revocation and expiry effective at once, and what each kind of key may do.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../helpers/http.js';
import { sha256 } from '../helpers/hash.js';
import { approvedIntegration, client, createKey } from '../helpers/server.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const CONFIG = '/v1/artifacts/ai_avatar/avatar_config';
const threatIds = (body: any): string[] =>
  (body?.error?.decision?.threats ?? []).map((t: { id: string }) => t.id);

describe('keys', () => {
  let server: ServerProcess;
  let owner: ReturnType<typeof client>;
  const secrets: string[] = [];

  /** Product and ai_agent keys name an approved integration of their product (SPEC §1). */
  const create = async (body: Record<string, unknown>) => {
    const bound = body['kind'] === 'product' || body['kind'] === 'ai_agent';
    const product = body['product'];
    const integrationId =
      bound && typeof product === 'string' && product !== 'no_such_product'
        ? await approvedIntegration(server, product)
        : undefined;
    const created = await owner('POST', '/v1/keys', {
      body: { name: 'test key', ...(integrationId ? { integrationId } : {}), ...body },
    });
    if (created.status === 201) secrets.push(created.json.key);
    return created;
  };

  beforeAll(async () => {
    server = await startServerProcess();
    owner = client(server.url, server.ownerKey);
  });
  afterAll(async () => server?.dispose());

  it('bootstraps the owner key into owner.key, readable by its owner only', async () => {
    const printed = /^owner key: (bkt_\S+)$/m.exec(server.output())?.[1];
    expect(printed).toEqual(expect.stringMatching(/^bkt_/));
    const file = join(server.dataDir, 'owner.key');
    expect((await readFile(file, 'utf8')).trim()).toBe(printed);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await client(server.url, printed)('GET', '/v1/keys')).status).toBe(200);
  });

  it.each([
    { kind: 'product', product: 'ai_avatar' },
    { kind: 'ai_agent', product: 'ai_avatar' },
    { kind: 'auditor' },
    { kind: 'core' },
  ])('creates a $kind key and shows its secret once', async (request) => {
    const created = await create({ ...request, name: `a ${request.kind} key` });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      id: expect.any(String),
      key: expect.stringMatching(/^bkt_[A-Za-z0-9_-]{22,}$/),
      kind: request.kind,
      product: request.kind === 'core' ? 'core' : (request.product ?? null),
      integrationId:
        request.kind === 'product' || request.kind === 'ai_agent'
          ? expect.stringMatching(/^it-ai_avatar-/)
          : null,
      name: `a ${request.kind} key`,
      createdAt: expect.any(String),
      expiresAt: null,
    });
  });

  it('never returns a secret or its hash from GET /v1/keys, nor stores the secret', async () => {
    await create({ kind: 'product', product: 'gurukul' });
    const list = await owner('GET', '/v1/keys');
    expect(list.status).toBe(200);
    expect(list.json.keys.length).toBeGreaterThanOrEqual(secrets.length + 1);
    const text = list.bytes.toString();
    for (const secret of [...secrets, server.ownerKey]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(4));
      expect(text).not.toContain(sha256(secret));
    }
    for (const key of list.json.keys) {
      expect(Object.keys(key)).not.toContain('key');
      expect(Object.keys(key)).not.toContain('hash');
      expect(Object.keys(key)).not.toContain('secret');
    }
    // Hashed at rest: the secret appears nowhere in the database files.
    for (const file of ['bucket.db', 'bucket.db-wal']) {
      const bytes = await readFile(join(server.dataDir, file)).catch(() => Buffer.alloc(0));
      for (const secret of secrets) expect(bytes.includes(secret)).toBe(false);
    }
  });

  it.each([
    ['an unknown kind', { kind: 'superuser' }],
    ['a product key without a product', { kind: 'product' }],
    ['a product key for an unknown product', { kind: 'product', product: 'no_such_product' }],
    ['an auditor key bound to a product', { kind: 'auditor', product: 'gurukul' }],
    ['an expiry in the past', { kind: 'auditor', expiresAt: '2000-01-01T00:00:00.000Z' }],
    ['an expiry that is not a date', { kind: 'auditor', expiresAt: 'tomorrow' }],
  ])('refuses to create %s with 400', async (_label, body) => {
    const created = await create(body);
    expect(created.status).toBe(400);
    expect(created.json.error.requestId).toEqual(expect.any(String));
  });

  it('answers 401 to a revoked key on its very next request', async () => {
    const created = await create({ kind: 'product', product: 'ai_avatar' });
    const api = client(server.url, created.json.key);
    expect((await api('GET', '/v1/artifacts/ai_avatar')).status).toBe(200);
    const revoked = await owner('DELETE', `/v1/keys/${created.json.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ id: created.json.id, status: 'revoked' });
    const after = await api('GET', '/v1/artifacts/ai_avatar');
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe('unauthenticated');
    const listed = await owner('GET', '/v1/keys');
    const entry = listed.json.keys.find((k: { id: string }) => k.id === created.json.id);
    expect(entry).toMatchObject({ status: 'revoked', revokedAt: expect.any(String) });
  });

  it('answers 404 when revoking a key that does not exist', async () => {
    const answer = await owner('DELETE', '/v1/keys/key_does_not_exist');
    expect(answer.status).toBe(404);
  });

  it('answers 401 to a key once its expiry has passed', async () => {
    const expiresAt = new Date(Date.now() + 2000).toISOString();
    const created = await create({ kind: 'auditor', expiresAt });
    expect(created.json.expiresAt).toBe(expiresAt);
    const api = client(server.url, created.json.key);
    expect((await api('GET', '/v1/artifacts/ai_avatar')).status).toBe(200);
    await sleep(Date.parse(expiresAt) - Date.now() + 250);
    const after = await api('GET', '/v1/artifacts/ai_avatar');
    expect(after.status).toBe(401);
    const listed = await owner('GET', '/v1/keys');
    const entry = listed.json.keys.find((k: { id: string }) => k.id === created.json.id);
    expect(entry.status).toBe('expired');
  });

  it('answers 401 to an unknown key and to a non-Bearer authorization', async () => {
    const unknown = await client(server.url, 'bkt_not-a-real-key-000000000000')('GET', '/v1/keys');
    expect(unknown.status).toBe(401);
    const basic = await client(server.url)('GET', '/v1/keys', {
      headers: {
        authorization: `Basic ${Buffer.from('owner:' + server.ownerKey).toString('base64')}`,
      },
    });
    expect(basic.status).toBe(401);
  });

  it.each([
    ['GET', '/v1/keys', undefined],
    ['POST', '/v1/keys', { kind: 'owner', name: 'escalate' }],
    ['POST', '/v1/keys', { not: 'even valid' }],
    ['DELETE', '/v1/keys/key_owner', undefined],
  ])('refuses a product key on %s %s with 403 (T4)', async (method, path, body) => {
    const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const answer = await client(server.url, key)(method, path, { body });
    expect(answer.status).toBe(403);
    expect(threatIds(answer.json)).toContain('T4');
    // Nothing happened: the owner key still works and no owner key was added.
    const keys = await owner('GET', '/v1/keys');
    expect(keys.json.keys.filter((k: { kind: string }) => k.kind === 'owner')).toHaveLength(1);
  });

  it('lets an ai_agent key CREATE and READ, but never write a second version (403, T3)', async () => {
    const { key } = await createKey(server, { kind: 'ai_agent', product: 'ai_avatar' });
    const agent = client(server.url, key);
    const path = `${CONFIG}/agent/made.json`;
    expect((await agent('PUT', path, { body: { v: 1 } })).status).toBe(201);
    expect((await agent('GET', path)).json).toEqual({ v: 1 });
    const update = await agent('PUT', path, { body: { v: 2 } });
    expect(update.status).toBe(403);
    expect(threatIds(update.json)).toContain('T3');
    // The class allows UPDATE: a product key may write the version the agent may not.
    const { key: productKey } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    expect((await client(server.url, productKey)('PUT', path, { body: { v: 2 } })).status).toBe(
      200,
    );
  });

  it('lets an auditor HEAD, list and see versions, but not read content', async () => {
    const { key: productKey } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const path = `${CONFIG}/audited.json`;
    const content = { confidential: 'do-not-show-auditors' };
    const put = await client(server.url, productKey)('PUT', path, { body: content });
    expect(put.status).toBe(201);

    const { key } = await createKey(server, { kind: 'auditor' });
    const auditor = client(server.url, key);
    const head = await auditor('HEAD', path);
    expect(head.status).toBe(200);
    expect(head.headers.get('x-bucket-sha256')).toBe(put.json.sha256);
    const list = await auditor('GET', '/v1/artifacts/ai_avatar');
    expect(list.status).toBe(200);
    expect(list.json.items.map((item: { name: string }) => item.name)).toContain('audited.json');
    expect((await auditor('GET', `${path}/versions`)).status).toBe(200);

    const get = await auditor('GET', path);
    expect(get.status).toBe(403);
    expect(get.bytes.toString()).not.toContain('do-not-show-auditors');
    // Nor may an auditor write.
    expect((await auditor('PUT', path, { body: { v: 9 } })).status).toBe(403);
  });

  describe('after a restart', () => {
    let restarted: ServerProcess;
    let productSecret: string;
    let revokedSecret: string;

    beforeAll(async () => {
      productSecret = (await createKey(server, { kind: 'product', product: 'gurukul' })).key;
      const revoked = await createKey(server, { kind: 'product', product: 'gurukul' });
      revokedSecret = revoked.key;
      expect((await owner('DELETE', `/v1/keys/${revoked.id}`)).status).toBe(200);
      await server.kill('SIGTERM');
      restarted = await startServerProcess({ dataDir: server.dataDir });
    });
    afterAll(async () => restarted?.kill());

    it('prints no key, and the same owner key still works', async () => {
      expect(restarted.output()).not.toMatch(/owner key/);
      expect(restarted.output()).not.toMatch(/bkt_/);
      expect(restarted.ownerKey).toBe(server.ownerKey);
      expect((await client(restarted.url, server.ownerKey)('GET', '/v1/keys')).status).toBe(200);
    });

    it('keeps keys and revocations', async () => {
      expect(
        (await client(restarted.url, productSecret)('GET', '/v1/artifacts/gurukul')).status,
      ).toBe(200);
      expect(
        (await client(restarted.url, revokedSecret)('GET', '/v1/artifacts/gurukul')).status,
      ).toBe(401);
    });
  });
});

describe('BUCKET_OWNER_KEY', () => {
  const ownerKey = 'bkt_supplied-by-the-operator-0123456789';
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServerProcess({ env: { BUCKET_OWNER_KEY: ownerKey } });
  });
  afterAll(async () => server?.dispose());

  it('makes that value the owner key and prints no key', async () => {
    expect(server.output()).not.toMatch(/owner key/);
    expect(server.output()).not.toMatch(/bkt_/);
    const keys = await client(server.url, ownerKey)('GET', '/v1/keys');
    expect(keys.status).toBe(200);
    expect(keys.json.keys).toEqual([expect.objectContaining({ kind: 'owner', status: 'active' })]);
    const created = await client(server.url, ownerKey)('POST', '/v1/keys', {
      body: { kind: 'auditor', name: 'made by the supplied owner key' },
    });
    expect(created.status).toBe(201);
  });
});
