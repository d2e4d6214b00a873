/**
 * Persisted integrations and the keys bound to them through real HTTP (SPEC §4.2): creation,
 * scoping, revocation of an integration and its keys.
 */
import { describe, expect, it } from 'vitest';
import { client, createKey, type TestServer } from '../helpers/server.js';
import { VALIDATE, proposal, startOwnerServer, type Client } from '../helpers/integrations.js';

describe('integrations', () => {
  let server: TestServer;
  let owner: Client;
  startOwnerServer((started, ownerClient) => {
    server = started;
    owner = ownerClient;
  });

  describe('keys and integrations', () => {
    const newKey = (body: Record<string, unknown>) =>
      owner('POST', '/v1/keys', { body: { name: 'k', ...body } });

    it('refuses product and ai_agent keys without an approved integration of their product (400)', async () => {
      const avatarIntegration = proposal();
      await owner('POST', VALIDATE, { body: avatarIntegration });
      for (const kind of ['product', 'ai_agent']) {
        const none = await newKey({ kind, product: 'ai_avatar' });
        expect(none.status).toBe(400);
        expect(none.json.error.message).toContain('integrationId');
        const unknown = await newKey({ kind, product: 'ai_avatar', integrationId: 'nope' });
        expect(unknown.status).toBe(400);
        const otherProduct = await newKey({
          kind,
          product: 'gurukul',
          integrationId: avatarIntegration.integrationId,
        });
        expect(otherProduct.status).toBe(400);
      }
      const auditor = await newKey({
        kind: 'auditor',
        integrationId: avatarIntegration.integrationId,
      });
      expect(auditor.status).toBe(400);
    });

    it('lets a key act only on the classes its integration declared (T4 otherwise)', async () => {
      const body = proposal({ artifactClasses: ['avatar_config'] });
      await owner('POST', VALIDATE, { body });
      const created = await newKey({
        kind: 'product',
        product: 'ai_avatar',
        integrationId: body.integrationId,
      });
      expect(created.json.integrationId).toBe(body.integrationId);
      const api = client(server.url, created.json.key);
      const declared = await api('PUT', '/v1/artifacts/ai_avatar/avatar_config/declared.json', {
        body: { look: 'calm' },
      });
      expect(declared.status).toBe(201);
      const undeclared = await api('PUT', '/v1/artifacts/ai_avatar/model_checkpoint/w.bin', {
        body: 'weights',
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(undeclared.status).toBe(403);
      expect(undeclared.json.error.decision.reasons[0].rule).toBe('class_not_declared');
      expect(undeclared.json.error.decision.threats.map((t: { id: string }) => t.id)).toEqual([
        'T4',
      ]);
    });

    it('revokes an integration and all its keys at once', async () => {
      const body = proposal();
      await owner('POST', VALIDATE, { body });
      const keys = await Promise.all(
        ['product', 'ai_agent'].map(
          async (kind) =>
            (await newKey({ kind, product: 'ai_avatar', integrationId: body.integrationId })).json,
        ),
      );
      for (const key of keys) {
        expect((await client(server.url, key.key)('GET', '/v1/artifacts/ai_avatar')).status).toBe(
          200,
        );
      }
      const revoked = await owner('DELETE', `/v1/integrations/${body.integrationId}`);
      expect(revoked.status).toBe(200);
      expect(revoked.json.integration).toMatchObject({
        status: 'revoked',
        revokedAt: expect.any(String),
      });
      expect(revoked.json.revokedKeys.sort()).toEqual(keys.map((k) => k.id).sort());
      for (const key of keys) {
        const after = await client(server.url, key.key)('GET', '/v1/artifacts/ai_avatar');
        expect(after.status).toBe(401);
      }
      const listed = await owner('GET', '/v1/keys');
      for (const key of keys) {
        expect(listed.json.keys.find((k: { id: string }) => k.id === key.id).status).toBe(
          'revoked',
        );
      }
      // A revoked integration approves no new key, and its id is not reusable.
      const late = await newKey({
        kind: 'product',
        product: 'ai_avatar',
        integrationId: body.integrationId,
      });
      expect(late.status).toBe(400);
      expect((await owner('POST', VALIDATE, { body })).status).toBe(409);
      expect((await owner('DELETE', '/v1/integrations/no-such-integration')).status).toBe(404);
    });

    it('shows integrations to executors and auditors, not to product keys (403, T4)', async () => {
      for (const kind of ['executor', 'auditor']) {
        const api = client(server.url, (await createKey(server, { kind })).key);
        expect((await api('GET', '/v1/integrations')).status).toBe(200);
      }
      const product = client(
        server.url,
        (await createKey(server, { kind: 'product', product: 'gurukul' })).key,
      );
      const denied = await product('GET', '/v1/integrations');
      expect(denied.status).toBe(403);
      expect(denied.json.error.decision.threats.map((t: { id: string }) => t.id)).toEqual(['T4']);
    });

    it('closes integration writes to product keys (403, T4)', async () => {
      const product = client(
        server.url,
        (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
      );
      const answer = await product('DELETE', '/v1/integrations/anything');
      expect(answer.status).toBe(403);
      expect(answer.json.error.decision.threats.map((t: { id: string }) => t.id)).toEqual(['T4']);
    });
  });
});
