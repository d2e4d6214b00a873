/**
 * Integration ids are scoped by product (issue 16 item 10, docs/decisions/0026): to a product key,
 * another product's integration id is an unknown one — validate-integration and
 * validate-operation answer the same for both, so a key learns nothing of other products'
 * integrations. The owner names the product when products share an id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  client,
  COMPLIANT_SCHEMA,
  createKey,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';

const VALIDATE = '/governance/gate/validate-integration';
const DRY_RUN = '/governance/gate/validate-operation';

describe('integration ids scoped by product', () => {
  let server: TestServer;
  let owner: ReturnType<typeof client>;
  let gurukul: ReturnType<typeof client>;

  const proposal = (integrationId: string, fields: Record<string, unknown> = {}) => ({
    integrationId,
    integrationType: 'sdk',
    productName: 'gurukul',
    artifactClasses: ['user_progress'],
    dataSchema: COMPLIANT_SCHEMA,
    ...fields,
  });
  /** An answer without the id it names, to compare the answers for two ids. */
  const withoutId = (answer: { status: number; json: Record<string, unknown> }) => ({
    status: answer.status,
    body: { ...answer.json, integrationId: '(id)' },
  });

  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.ownerKey);
    gurukul = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'gurukul' })).key,
    );
    for (const id of ['avatar-sync', 'avatar-bad']) {
      const approved = await owner('POST', VALIDATE, {
        body: proposal(id, { productName: 'ai_avatar', artifactClasses: ['avatar_config'] }),
      });
      expect(approved.status, approved.bytes.toString()).toBe(200);
    }
  });
  afterAll(async () => server?.dispose());

  it("answers a product key for another product's id as for an unknown one: approved", async () => {
    const foreign = await gurukul('POST', VALIDATE, { body: proposal('avatar-sync') });
    const unknown = await gurukul('POST', VALIDATE, { body: proposal('gurukul-sync') });
    expect(foreign.status, foreign.bytes.toString()).toBe(200);
    expect(withoutId(foreign)).toEqual(withoutId(unknown));
    expect(foreign.json).toMatchObject({ decision: 'approved', integrationId: 'avatar-sync' });
    // Each product has its own: the key acts through gurukul's, ai_avatar's is untouched.
    const key = await createKey(server, {
      kind: 'product',
      product: 'gurukul',
      integrationId: 'avatar-sync',
    });
    const put = await client(server.url, key.key)(
      'PUT',
      '/v1/artifacts/gurukul/user_progress/scoped.json',
      { body: '{"lesson":1}', headers: { 'content-type': 'application/json' } },
    );
    expect(put.status, put.bytes.toString()).toBe(201);
    const avatars = await owner('GET', '/v1/integrations/avatar-sync?product=ai_avatar');
    expect(avatars.json).toMatchObject({ productName: 'ai_avatar', status: 'approved' });
  });

  it("answers the same rejection, threats and reasons for another product's id", async () => {
    const leaky = { ...COMPLIANT_SCHEMA, password: 'hunter2hunter2' };
    const foreign = await gurukul('POST', VALIDATE, {
      body: proposal('avatar-bad', { dataSchema: leaky }),
    });
    const unknown = await gurukul('POST', VALIDATE, {
      body: proposal('nobody-bad', { dataSchema: leaky }),
    });
    expect(foreign.status).toBe(403);
    expect(withoutId(foreign)).toEqual(withoutId(unknown));
    expect(foreign.json.threatsFound.map((t: { id: string }) => t.id)).toEqual(['T1']);
  });

  it("decides a dry run through another product's id as through an unknown one", async () => {
    const body = { operationType: 'READ', artifactClass: 'user_progress', dataSize: 0 };
    const foreign = await gurukul('POST', DRY_RUN, {
      body: { ...body, integrationId: 'avatar-bad' },
    });
    const unknown = await gurukul('POST', DRY_RUN, {
      body: { ...body, integrationId: 'nobody-at-all' },
    });
    expect(foreign.status).toBe(403);
    expect(unknown.status).toBe(403);
    const shape = (answer: typeof foreign) => ({
      allowed: answer.json.allowed,
      rules: answer.json.decision.reasons.map((r: { rule: string }) => r.rule),
      threats: answer.json.decision.threats.map((t: { id: string }) => t.id),
      target: answer.json.decision.target,
    });
    expect(shape(foreign)).toEqual(shape(unknown));
    expect(shape(foreign).threats).toEqual(['T4']);
  });

  it('has the owner name the product of an id two products hold', async () => {
    const both = await owner('GET', '/v1/integrations/avatar-sync');
    expect(both.status).toBe(409);
    expect(both.json.error.message).toContain('?product=');
    const revoked = await owner('DELETE', '/v1/integrations/avatar-sync?product=gurukul');
    expect(revoked.status, revoked.bytes.toString()).toBe(200);
    expect(revoked.json.integration).toMatchObject({ productName: 'gurukul', status: 'revoked' });
    const avatars = await owner('GET', '/v1/integrations/avatar-sync?product=ai_avatar');
    expect(avatars.json.status).toBe('approved');
    expect((await owner('GET', '/v1/integrations/avatar-sync?product=core')).status).toBe(404);
  });
});
