/**
 * The seed's gate endpoints through real HTTP (SPEC §4.2): validate-operation and the four gate
 * GETs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { client, createKey, type TestServer } from '../helpers/server.js';
import { VALIDATE, proposal, startOwnerServer, type Client } from '../helpers/integrations.js';

describe('gate endpoints', () => {
  let server: TestServer;
  let owner: Client;
  startOwnerServer((started, ownerClient) => {
    server = started;
    owner = ownerClient;
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
