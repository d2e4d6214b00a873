/**
 * Escalation and the AI write-only lock (SPEC §5, §1) through real HTTP: three requests with a
 * CRITICAL detection suspend a key before its next request is decided; the owner reinstates it;
 * proposal threats never count; `GET /v1/governance/threats` shows live counts; ai_agent keys are
 * refused every governance and key route with T4.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const threatIds = (answer: { json: any }): string[] =>
  (answer.json?.error?.decision?.threats ?? []).map((t: { id: string }) => t.id);

describe('escalation', () => {
  let server: TestServer;
  let owner: ReturnType<typeof client>;

  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.ownerKey);
  });
  afterAll(async () => server?.dispose());

  /** A cross-product read: refused before any lookup, with a CRITICAL T1. */
  const critical = (api: ReturnType<typeof client>) =>
    api('GET', '/v1/artifacts/gurukul/user_progress/someone.json');

  it('suspends a key after 3 requests with a CRITICAL detection, until the owner reinstates it', async () => {
    const { key, id } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const api = client(server.url, key);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const answer = await critical(api);
      expect(answer.status).toBe(403);
      expect(answer.json.error.code).toBe('forbidden');
      expect(threatIds(answer)).toEqual(['T1']);
    }
    // Its next request — a legitimate one — is refused before it is decided.
    const next = await api('GET', '/v1/artifacts/ai_avatar');
    expect(next.status).toBe(403);
    expect(next.json.error.code).toBe('principal_suspended');
    // The refusal names its way out: who may lift it, and how.
    expect(next.json.error.message).toContain(`(${id}) is suspended`);
    expect(next.json.error.message).toContain(`\`bucket keys reinstate ${id}\``);
    expect(next.json.error.message).toContain(`POST /v1/keys/${id}/reinstate`);
    expect(next.json.error.details).toEqual({ keyId: id });

    const threats = await owner('GET', '/v1/governance/threats');
    expect(threats.status).toBe(200);
    expect(threats.json.threats.map((t: { id: string }) => t.id)).toEqual([
      'T1',
      'T2',
      'T3',
      'T4',
      'T5',
      'T6',
      'T7',
    ]);
    const t1 = threats.json.threats.find((t: { id: string }) => t.id === 'T1');
    expect(t1).toMatchObject({ name: 'Access control bypass', severity: 'CRITICAL' });
    expect(t1.detections).toBeGreaterThanOrEqual(3);
    expect(t1.last24h).toBeGreaterThanOrEqual(3);
    expect(
      threats.json.recent.filter(
        (r: { principalId: string; threatId: string }) => r.principalId === id,
      ),
    ).toHaveLength(3);
    expect(threats.json.suspendedKeys.map((s: { keyId: string }) => s.keyId)).toContain(id);

    const statusOf = async () =>
      (await owner('GET', '/v1/keys')).json.keys.find((k: { id: string }) => k.id === id).status;
    expect(await statusOf()).toBe('suspended');
    const reinstated = await owner('POST', `/v1/keys/${id}/reinstate`);
    expect(reinstated.status).toBe(200);
    expect(reinstated.json).toEqual({ keyId: id, reinstated: true });
    expect((await api('GET', '/v1/artifacts/ai_avatar')).status).toBe(200);
    expect(await statusOf()).toBe('active');
    // Reinstated, it starts over: the old detections are still within the hour, so one more
    // CRITICAL request suspends it again.
    await critical(api);
    expect((await api('GET', '/v1/artifacts/ai_avatar')).json.error.code).toBe(
      'principal_suspended',
    );
    await owner('POST', `/v1/keys/${id}/reinstate`);
  });

  it('counts per key: another key of the same product is unaffected', async () => {
    const first = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
    const second = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
    for (let attempt = 0; attempt < 3; attempt++) await critical(first);
    expect((await first('GET', '/v1/artifacts/ai_avatar')).status).toBe(403);
    expect((await second('GET', '/v1/artifacts/ai_avatar')).status).toBe(200);
  });

  it('does not count threats found in a validate-integration proposal', async () => {
    const api = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
    for (let attempt = 0; attempt < 4; attempt++) {
      const answer = await api('POST', '/governance/gate/validate-integration', {
        body: {
          integrationId: `db-${attempt}`,
          integrationType: 'direct_database',
          productName: 'ai_avatar',
          artifactClasses: ['avatar_config'],
          dataSchema: { url: 'mongodb://root@db/avatars' },
        },
      });
      expect(answer.status).toBe(403);
      expect(answer.json.threatsFound.map((t: { id: string }) => t.id)).toContain('T1');
    }
    expect((await api('GET', '/v1/artifacts/ai_avatar')).status).toBe(200);
    // They are recorded all the same.
    const recent = (await owner('GET', '/v1/governance/threats')).json.recent;
    expect(
      recent.some(
        (r: { evidence: string; counted: boolean }) =>
          /direct_database/.test(r.evidence) && r.counted === false,
      ),
    ).toBe(true);
  });

  it('reinstating is the owner’s; an unknown key is 404', async () => {
    const product = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'gurukul' })).key,
    );
    const denied = await product('POST', '/v1/keys/key_owner/reinstate');
    expect(denied.status).toBe(403);
    expect(threatIds(denied)).toEqual(['T4']);
    expect((await owner('POST', '/v1/keys/key_nope/reinstate')).status).toBe(404);
  });

  describe('the AI write-only lock', () => {
    let agent: ReturnType<typeof client>;
    beforeAll(async () => {
      agent = client(
        server.url,
        (await createKey(server, { kind: 'ai_agent', product: 'gurukul' })).key,
      );
    });

    it.each([
      ['GET', '/v1/keys'],
      ['POST', '/v1/keys'],
      ['DELETE', '/v1/keys/key_owner'],
      ['POST', '/v1/keys/key_owner/reinstate'],
      ['GET', '/v1/integrations'],
      ['GET', '/v1/integrations/anything'],
      ['DELETE', '/v1/integrations/anything'],
      ['POST', '/governance/gate/validate-integration'],
      ['POST', '/governance/gate/validate-operation'],
      ['GET', '/governance/gate/scale-limits'],
      ['GET', '/governance/gate/product-rules'],
      ['GET', '/governance/gate/operation-rules'],
      ['GET', '/governance/gate/status'],
      ['GET', '/v1/governance/threats'],
    ])('refuses an ai_agent key on %s %s with 403 and T4', async (method, path) => {
      const answer = await agent(method, path, method === 'GET' ? {} : { body: {} });
      expect(answer.status).toBe(403);
      expect(answer.json.error.code).toBe('forbidden');
      expect(threatIds(answer)).toEqual(['T4']);
    });

    it('still lets it CREATE and READ in its own product', async () => {
      const path = '/v1/artifacts/gurukul/user_progress/agent/p1.json';
      expect((await agent('PUT', path, { body: { lesson: 3 } })).status).toBe(201);
      expect((await agent('GET', path)).status).toBe(200);
    });
  });
});
