/**
 * Integrations (SPEC §4.2) through real HTTP: validate-integration (JSON, snake_case and query
 * forms; approved, rejected with every reason and threat, 400 naming the field). Keys bound to
 * integrations: integration-keys.test.ts; validate-operation and the gate GETs:
 * gate-endpoints.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { client, COMPLIANT_SCHEMA, createKey, type TestServer } from '../helpers/server.js';
import {
  CHECKS,
  VALIDATE,
  ids,
  proposal,
  rules,
  startOwnerServer,
  uniqueId,
  type Client,
} from '../helpers/integrations.js';

describe('integrations', () => {
  let server: TestServer;
  let owner: Client;
  startOwnerServer((started, ownerClient) => {
    server = started;
    owner = ownerClient;
  });

  describe('POST /governance/gate/validate-integration', () => {
    it('approves a sound proposal with the pinned body and persists it', async () => {
      const body = proposal();
      const answer = await owner('POST', VALIDATE, { body });
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({
        decision: 'approved',
        integrationId: body.integrationId,
        checksPerformed: CHECKS,
        threatsFound: [],
        reasons: [],
      });
      const stored = await owner('GET', `/v1/integrations/${body.integrationId}`);
      expect(stored.status).toBe(200);
      expect(stored.json).toMatchObject({
        id: body.integrationId,
        integrationType: 'sdk',
        productName: 'ai_avatar',
        artifactClasses: ['avatar_config', 'persona_config'],
        status: 'approved',
        revokedAt: null,
      });
      const listed = await owner('GET', '/v1/integrations');
      expect(listed.json.integrations.map((i: { id: string }) => i.id)).toContain(
        body.integrationId,
      );
    });

    it('accepts the snake_case names', async () => {
      const integrationId = uniqueId('snake');
      const answer = await owner('POST', VALIDATE, {
        body: {
          integration_id: integrationId,
          integration_type: 'batch_import',
          product_name: 'gurukul',
          artifact_classes: ['educational_content'],
          data_schema: { content_filter: 'strict', deletion_strategy: 'tombstone then purge' },
        },
      });
      expect(answer.status).toBe(200);
      expect(answer.json.integrationId).toBe(integrationId);
      expect((await owner('GET', `/v1/integrations/${integrationId}`)).status).toBe(200);
    });

    it('accepts the original query-parameter form', async () => {
      const integrationId = uniqueId('query');
      const query = new URLSearchParams({
        integration_id: integrationId,
        integration_type: 'service',
        product_name: 'ai_assistant',
        artifact_classes: 'metadata,artifact_manifest',
        data_schema: JSON.stringify(COMPLIANT_SCHEMA),
      });
      const answer = await owner('POST', `${VALIDATE}?${query.toString()}`);
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ decision: 'approved', integrationId });
      const stored = await owner('GET', `/v1/integrations/${integrationId}`);
      expect(stored.json.artifactClasses).toEqual(['metadata', 'artifact_manifest']);
    });

    it('approves a read-only product declaring the classes it reads', async () => {
      const answer = await owner('POST', VALIDATE, {
        body: proposal({
          productName: 'workflow_engine',
          artifactClasses: ['event_history', 'audit_log'],
        }),
      });
      expect(answer.status).toBe(200);
    });

    it.each([
      ['integrationId', { integrationId: undefined }, 'is missing'],
      ['integrationType', { integrationType: 7 }, 'must be a non-empty string'],
      ['productName', { productName: undefined }, 'is missing'],
      ['artifactClasses', { artifactClasses: 'avatar_config' }, 'must be an array of strings'],
      ['dataSchema', { dataSchema: undefined }, 'is missing'],
      ['dataSchema', { dataSchema: ['not', 'an', 'object'] }, 'must be a JSON object'],
      [
        'integrationId',
        { integrationId: 'has spaces/and slashes' },
        'must be 1 to 128 letters, digits, ".", "_", ":" or "-"',
      ],
    ])('answers 400 naming %s when it is missing or mistyped', async (name, fields, problem) => {
      const answer = await owner('POST', VALIDATE, { body: proposal(fields) });
      expect(answer.status).toBe(400);
      expect(answer.json.error.code).toBe('invalid_request');
      expect(answer.json.error.message).toContain(`${name} ${problem}`);
      expect(answer.json.error.details.fields).toEqual([{ field: name, problem }]);
    });

    it('rejects a proposal breaking every check with 403, every reason and every threat', async () => {
      const body = proposal({
        integrationType: 'direct_database',
        productName: 'ai_avatar',
        artifactClasses: ['avatar_config', 'metadata', 'user_credentials', 'access_control'],
        dataSchema: {
          connection: 'postgres://admin@db.internal:5432/avatars',
          password: 'hunter2',
          passwordPolicy: true,
          maxArtifactBytes: 10 * 1024 * 1024 * 1024,
        },
      });
      const answer = await owner('POST', VALIDATE, { body });
      expect(answer.status).toBe(403);
      expect(answer.json).toMatchObject({
        decision: 'rejected',
        integrationId: body.integrationId,
        checksPerformed: CHECKS,
      });
      expect(ids(answer.json.threatsFound)).toEqual(['T1', 'T1', 'T1', 'T6']);
      for (const found of answer.json.threatsFound) {
        expect(found).toEqual({
          id: expect.stringMatching(/^T[1-7]$/),
          name: expect.any(String),
          severity: expect.stringMatching(/^(CRITICAL|HIGH|MEDIUM)$/),
          evidence: expect.any(String),
        });
      }
      expect(rules(answer.json.reasons)).toEqual(
        [
          'integration_type',
          'data_schema',
          'data_schema',
          'scale_limit',
          'class_not_allowed',
          'class_rejected',
          'class_forbidden',
          'content_policy',
          'retention_policy',
        ].sort(),
      );
      // A rejected proposal is not persisted.
      expect((await owner('GET', `/v1/integrations/${body.integrationId}`)).status).toBe(404);
    });

    it.each([
      ['a reserved type', '_internal'],
      ['an unknown type', 'carrier_pigeon'],
    ])('rejects %s as T4', async (_label, integrationType) => {
      const answer = await owner('POST', VALIDATE, { body: proposal({ integrationType }) });
      expect(answer.status).toBe(403);
      expect(ids(answer.json.threatsFound)).toEqual(['T4']);
      expect(rules(answer.json.reasons)).toEqual(['integration_type']);
    });

    it('rejects schema mutation requests as T2 and several products as T4', async () => {
      const answer = await owner('POST', VALIDATE, {
        body: proposal({
          productName: 'ai_avatar,gurukul',
          dataSchema: { ...COMPLIANT_SCHEMA, operations: ['$schema_change'] },
        }),
      });
      expect(answer.status).toBe(403);
      expect(ids(answer.json.threatsFound)).toEqual(['T2', 'T4']);
      expect(rules(answer.json.reasons)).toContain('unknown_product');
    });

    it('lets a product key propose for its own product only; ai_agent and auditor keys never', async () => {
      const product = client(
        server.url,
        (await createKey(server, { kind: 'product', product: 'gurukul' })).key,
      );
      const own = await product('POST', VALIDATE, {
        body: proposal({ productName: 'gurukul', artifactClasses: ['user_progress'] }),
      });
      expect(own.status).toBe(200);
      const other = await product('POST', VALIDATE, { body: proposal() });
      expect(other.status).toBe(403);
      expect(other.json.error.code).toBe('forbidden');
      const agent = client(
        server.url,
        (await createKey(server, { kind: 'ai_agent', product: 'gurukul' })).key,
      );
      const byAgent = await agent('POST', VALIDATE, { body: proposal({ productName: 'gurukul' }) });
      expect(byAgent.status).toBe(403);
      expect(byAgent.json.error.decision.threats.map((t: { id: string }) => t.id)).toEqual(['T4']);
      const auditor = client(server.url, (await createKey(server, { kind: 'auditor' })).key);
      // Refused before the body is read: even a malformed body gets 403, not 400.
      expect((await auditor('POST', VALIDATE, { body: {} })).status).toBe(403);
    });

    it('re-approves the same proposal, and refuses another one under a used id (409)', async () => {
      const body = proposal();
      expect((await owner('POST', VALIDATE, { body })).status).toBe(200);
      expect((await owner('POST', VALIDATE, { body })).status).toBe(200);
      const changed = await owner('POST', VALIDATE, {
        body: { ...body, artifactClasses: ['avatar_config'] },
      });
      expect(changed.status).toBe(409);
    });
  });
});
