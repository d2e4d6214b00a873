/**
 * Integrations and the seed's gate endpoints (SPEC §4.2) through real HTTP: validate-integration
 * (JSON, snake_case and query forms; approved, rejected with every reason and threat, 400 naming
 * the field), persisted integrations, keys bound to them, revocation, validate-operation and the
 * four gate GETs.
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
const CHECKS = [
  'threat_assessment',
  'scale_compatibility',
  'product_safety',
  'compliance_validation',
];
const ids = (list: { id: string }[]) => list.map((item) => item.id).sort();
const rules = (list: { rule: string }[]) => list.map((item) => item.rule).sort();

describe('integrations', () => {
  let server: TestServer;
  let owner: ReturnType<typeof client>;
  let counter = 0;
  const uniqueId = (label: string) => `${label}-${++counter}`;

  const proposal = (fields: Record<string, unknown> = {}) => ({
    integrationId: uniqueId('int'),
    integrationType: 'sdk',
    productName: 'ai_avatar',
    artifactClasses: ['avatar_config', 'persona_config'],
    dataSchema: COMPLIANT_SCHEMA,
    ...fields,
  });

  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.ownerKey);
  });
  afterAll(async () => server?.dispose());

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

  describe('POST /governance/gate/validate-operation', () => {
    let integrationId: string;
    beforeAll(async () => {
      const body = proposal({ productName: 'ai_assistant', artifactClasses: ['metadata'] });
      integrationId = body.integrationId;
      expect((await owner('POST', VALIDATE, { body })).status).toBe(200);
    });

    it('answers the real decision: allowed', async () => {
      const answer = await owner('POST', '/governance/gate/validate-operation', {
        body: { integrationId, operationType: 'CREATE', artifactClass: 'metadata', dataSize: 100 },
      });
      expect(answer.status).toBe(200);
      expect(answer.json.allowed).toBe(true);
      expect(answer.json.decision).toMatchObject({
        allow: true,
        operation: 'CREATE',
        principal: { kind: 'product', product: 'ai_assistant' },
        target: { product: 'ai_assistant', class: 'metadata' },
        reasons: [],
        threats: [],
        policyVersion: expect.any(Number),
      });
    });

    it.each([
      [
        'an UPDATE of a write-once class',
        { operationType: 'UPDATE' },
        'operation_not_allowed',
        'T3',
      ],
      ['a size over the class maximum', { dataSize: 1024 * 1024 }, 'max_bytes', 'T5'],
      ['an undeclared class', { artifactClass: 'audit_entry' }, 'class_not_declared', 'T4'],
      ['another product', { product: 'gurukul' }, 'product_isolation', 'T1'],
    ])('answers 403 allowed:false for %s', async (_label, fields, rule, threatId) => {
      const answer = await owner('POST', '/governance/gate/validate-operation', {
        body: {
          integrationId,
          operationType: 'CREATE',
          artifactClass: 'metadata',
          dataSize: 100,
          ...fields,
        },
      });
      expect(answer.status).toBe(403);
      expect(answer.json.allowed).toBe(false);
      expect(answer.json.decision.reasons.map((r: { rule: string }) => r.rule)).toContain(rule);
      expect(answer.json.decision.threats.map((t: { id: string }) => t.id)).toContain(threatId);
    });

    it('accepts the query-parameter form', async () => {
      const query = new URLSearchParams({
        integration_id: integrationId,
        operation_type: 'CREATE',
        artifact_class: 'metadata',
        data_size: '512',
      });
      const answer = await owner('POST', `/governance/gate/validate-operation?${query.toString()}`);
      expect(answer.status).toBe(200);
      expect(answer.json.allowed).toBe(true);
    });

    it('decides an unknown or revoked integration as unapproved (403, T4)', async () => {
      const answer = await owner('POST', '/governance/gate/validate-operation', {
        body: {
          integrationId: 'never-proposed',
          operationType: 'READ',
          artifactClass: 'metadata',
          dataSize: 0,
        },
      });
      expect(answer.status).toBe(403);
      expect(answer.json.allowed).toBe(false);
      expect(answer.json.decision.reasons[0].rule).toBe('integration_required');
      expect(answer.json.decision.threats.map((t: { id: string }) => t.id)).toEqual(['T4']);
    });

    it('runs concurrent identical proposals to one approval', async () => {
      const body = proposal();
      const answers = await Promise.all([1, 2, 3].map(() => owner('POST', VALIDATE, { body })));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    });

    it('accepts snake_case, answers 400 naming a bad field, and has no side effects', async () => {
      const before = (await owner('GET', '/v1/governance/threats')).json;
      const snake = await owner('POST', '/governance/gate/validate-operation', {
        body: {
          integration_id: integrationId,
          operation_type: 'DELETE',
          artifact_class: 'metadata',
          data_size: 0,
        },
      });
      expect(snake.status).toBe(403);
      expect(snake.json.decision.threats.map((t: { id: string }) => t.id)).toEqual(['T3']);
      const after = (await owner('GET', '/v1/governance/threats')).json;
      expect(after.threats).toEqual(before.threats);
      const bad = await owner('POST', '/governance/gate/validate-operation', {
        body: { integrationId, operationType: 'ERASE', artifactClass: 'metadata', dataSize: -1 },
      });
      expect(bad.status).toBe(400);
      expect(bad.json.error.message).toContain('operationType');
      expect(bad.json.error.message).toContain('dataSize');
    });

    it('lets a product key dry-run through its own product’s integrations only', async () => {
      const assistant = client(
        server.url,
        (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key,
      );
      const body = { integrationId, operationType: 'READ', artifactClass: 'metadata', dataSize: 0 };
      expect(
        (await assistant('POST', '/governance/gate/validate-operation', { body })).status,
      ).toBe(200);
      const gurukul = client(
        server.url,
        (await createKey(server, { kind: 'product', product: 'gurukul' })).key,
      );
      const other = await gurukul('POST', '/governance/gate/validate-operation', { body });
      const unknown = await gurukul('POST', '/governance/gate/validate-operation', {
        body: { ...body, integrationId: 'never-proposed' },
      });
      // Another product's integration is to it what an unknown id is: it learns nothing of it.
      for (const answer of [other, unknown]) {
        expect(answer.status).toBe(403);
        expect(answer.json.allowed).toBe(false);
        expect(answer.json.decision.reasons.map((r: { rule: string }) => r.rule)).toEqual([
          'integration_required',
        ]);
        expect(answer.json.decision.threats.map((t: { id: string }) => t.id)).toEqual(['T4']);
        expect(answer.json.decision.target).toEqual({ ...unknown.json.decision.target });
      }
    });
  });

  describe('the gate GETs', () => {
    it('serve the limits with usage, and the rules of the live policy', async () => {
      const policy = (await owner('GET', '/v1/governance/policy')).json;
      const limits = await owner('GET', '/governance/gate/scale-limits');
      expect(limits.status).toBe(200);
      expect(limits.json.limits).toEqual(policy.document.limits);
      expect(limits.json.usage).toMatchObject({
        concurrentWrites: 0,
        artifacts: expect.any(Number),
        products: { ai_avatar: { quotaBytes: policy.document.products.ai_avatar.quotaBytes } },
      });
      const products = await owner('GET', '/governance/gate/product-rules');
      expect(products.json.products).toEqual(policy.document.products);
      expect(products.json.rejectedClasses).toEqual(policy.document.rejectedClasses);
      const operations = await owner('GET', '/governance/gate/operation-rules');
      expect(operations.json.classes.metadata.operations).toEqual(['CREATE', 'READ']);
      expect(operations.json.policyVersion).toBe(policy.version);
    });

    it('report live status counts', async () => {
      const before = (await owner('GET', '/governance/gate/status')).json;
      expect(before).toMatchObject({
        status: 'active',
        mode: 'normal',
        policyVersion: expect.any(Number),
        approvedIntegrations: expect.any(Number),
        decisionsLastHour: { allow: expect.any(Number), deny: expect.any(Number) },
        threatsLast24h: expect.any(Number),
      });
      await owner('POST', VALIDATE, { body: proposal() });
      const auditor = client(server.url, (await createKey(server, { kind: 'auditor' })).key);
      await auditor('POST', '/v1/keys', { body: { kind: 'auditor', name: 'x' } });
      const after = (await owner('GET', '/governance/gate/status')).json;
      expect(after.approvedIntegrations).toBe(before.approvedIntegrations + 1);
      expect(after.decisionsLastHour.allow).toBeGreaterThan(before.decisionsLastHour.allow);
      expect(after.decisionsLastHour.deny).toBeGreaterThan(before.decisionsLastHour.deny);
      const listed = (await owner('GET', '/v1/integrations')).json.integrations;
      expect(listed.filter((i: { status: string }) => i.status === 'approved').length).toBe(
        after.approvedIntegrations,
      );
    });

    it('are open to product keys and closed to ai_agent keys (T4)', async () => {
      const product = client(
        server.url,
        (await createKey(server, { kind: 'product', product: 'gurukul' })).key,
      );
      const agent = client(
        server.url,
        (await createKey(server, { kind: 'ai_agent', product: 'gurukul' })).key,
      );
      for (const path of ['scale-limits', 'product-rules', 'operation-rules', 'status']) {
        expect((await product('GET', `/governance/gate/${path}`)).status).toBe(200);
        const denied = await agent('GET', `/governance/gate/${path}`);
        expect(denied.status).toBe(403);
        expect(denied.json.error.decision.threats.map((t: { id: string }) => t.id)).toEqual(['T4']);
      }
    });
  });
});
