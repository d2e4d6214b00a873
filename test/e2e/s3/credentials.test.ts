/**
 * S3 credentials of keys (SPEC §13): the owner creates them (the secret shown once, stored
 * wrapped by the key-encryption key), lists access key ids and revokes them; no other key may.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  client,
  createKey,
  startTestServer,
  type InProcessTestServer,
} from '../../helpers/server.js';

describe('S3 credentials', () => {
  let server: InProcessTestServer;
  let productKey: { key: string; id: string };

  beforeAll(async () => {
    server = await startTestServer();
    productKey = await createKey(server, { kind: 'product', product: 'ai_avatar' });
  });
  afterAll(async () => server?.dispose());

  it('creates a credential with the secret shown once, stored only wrapped', async () => {
    const api = client(server.url, server.ownerKey);
    const created = await api('POST', `/v1/keys/${productKey.id}/s3-credentials`);
    expect(created.status).toBe(201);
    expect(created.json.accessKeyId).toMatch(/^[A-Z0-9]{20}$/);
    expect(created.json.secretAccessKey).toHaveLength(40);
    expect(created.json.keyId).toBe(productKey.id);

    const stored = await server.bucket.metadata.getS3Credential(created.json.accessKeyId);
    expect(stored?.wrappedSecret.startsWith('kek1:')).toBe(true);
    expect(stored?.wrappedSecret).not.toContain(created.json.secretAccessKey);

    const listed = await api('GET', `/v1/keys/${productKey.id}/s3-credentials`);
    expect(listed.status).toBe(200);
    expect(listed.json.credentials).toEqual([
      expect.objectContaining({ accessKeyId: created.json.accessKeyId, revokedAt: null }),
    ]);
    expect(listed.bytes.toString()).not.toContain(created.json.secretAccessKey);

    const resolved = await server.bucket.s3Credentials.resolve(created.json.accessKeyId);
    expect(resolved?.secretAccessKey).toBe(created.json.secretAccessKey);
    expect(resolved?.principal.id).toBe(productKey.id);
  });

  it('revokes a credential at once, and a revoked key takes its credentials with it', async () => {
    const api = client(server.url, server.ownerKey);
    const first = await api('POST', `/v1/keys/${productKey.id}/s3-credentials`);
    const id = first.json.accessKeyId as string;
    expect(await server.bucket.s3Credentials.resolve(id)).not.toBeNull();
    const revoked = await api('DELETE', `/v1/keys/${productKey.id}/s3-credentials/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json.revokedAt).toEqual(expect.any(String));
    expect(await server.bucket.s3Credentials.resolve(id)).toBeNull();
    const again = await api(
      'DELETE',
      `/v1/keys/${productKey.id}/s3-credentials/NOSUCHCREDENTIAL0000`,
    );
    expect(again.status).toBe(404);

    const other = await createKey(server, { kind: 'product', product: 'gurukul' });
    const second = await api('POST', `/v1/keys/${other.id}/s3-credentials`);
    expect(await server.bucket.s3Credentials.resolve(second.json.accessKeyId)).not.toBeNull();
    expect((await api('DELETE', `/v1/keys/${other.id}`)).status).toBe(200);
    expect(await server.bucket.s3Credentials.resolve(second.json.accessKeyId)).toBeNull();
    expect((await api('POST', `/v1/keys/${other.id}/s3-credentials`)).status).toBe(409);
    expect((await api('GET', '/v1/keys/key_missing/s3-credentials')).status).toBe(404);
  });

  it('is closed to every key but the owner', async () => {
    const asProduct = client(server.url, productKey.key);
    const refused = await asProduct('POST', `/v1/keys/${productKey.id}/s3-credentials`);
    expect(refused.status).toBe(403);
    expect(refused.json.error.decision.threats).toEqual([expect.objectContaining({ id: 'T4' })]);
    expect((await asProduct('GET', `/v1/keys/${productKey.id}/s3-credentials`)).status).toBe(403);
  });
});
