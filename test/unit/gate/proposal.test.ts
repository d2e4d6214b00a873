/** validate-integration's four checks (SPEC §4.2) and stage 2, integration (SPEC §4.1): pure. */
import { describe, expect, it } from 'vitest';
import type { IntegrationProposal } from '../../../src/domain/integration.js';
import { evaluateProposal } from '../../../src/gate/proposal.js';
import { schemaThreats } from '../../../src/gate/proposal-scan.js';
import { integrationStage } from '../../../src/gate/stages/integration.js';
import { loadDefaultPolicy } from '../../../src/policy/load.js';
import { gateContext, integrationFor, principal } from '../../helpers/gate.js';

const document = loadDefaultPolicy();
const sound: IntegrationProposal = {
  integrationId: 'i1',
  integrationType: 'api_client',
  productName: 'ai_avatar',
  artifactClasses: ['avatar_config'],
  dataSchema: { nsfw_policy: 'none allowed', retention_policy: 'class retention' },
};
const evaluate = (fields: Partial<IntegrationProposal>) =>
  evaluateProposal({ ...sound, ...fields }, document);
const ruleNames = (fields: Partial<IntegrationProposal>) =>
  evaluate(fields).reasons.map((reason) => reason.rule);
const threatIds = (fields: Partial<IntegrationProposal>) =>
  evaluate(fields).threats.map((found) => found.id);

describe('evaluateProposal', () => {
  it('approves a sound proposal with no reason and no threat', () => {
    expect(evaluate({})).toEqual({ approved: true, reasons: [], threats: [] });
  });

  it.each(['api_client', 'sdk', 'batch_import', 'agent', 'service'])('accepts type %s', (type) => {
    expect(evaluate({ integrationType: type }).approved).toBe(true);
  });

  it('treats direct_database as T1 and _-prefixed or unknown types as T4', () => {
    expect(threatIds({ integrationType: 'direct_database' })).toEqual(['T1']);
    expect(threatIds({ integrationType: '_admin' })).toEqual(['T4']);
    expect(threatIds({ integrationType: 'webhook' })).toEqual(['T4']);
  });

  it('names every class outside the product: rejected, forbidden, unknown, not allowed', () => {
    expect(
      ruleNames({
        artifactClasses: ['payment_info', 'access_control', 'nonexistent', 'metadata'],
      }),
    ).toEqual(['class_rejected', 'class_forbidden', 'unknown_class', 'class_not_allowed']);
    expect(ruleNames({ artifactClasses: [] })).toEqual(['artifact_classes']);
    expect(ruleNames({ productName: 'nobody' })).toContain('unknown_product');
  });

  it('lets the read-only Workflow Engine declare the classes it reads', () => {
    const verdict = evaluate({
      productName: 'workflow_engine',
      artifactClasses: ['event_history', 'audit_log'],
    });
    expect(verdict.approved).toBe(true);
  });

  it('requires a content policy and a retention or deletion strategy, non-empty (T6)', () => {
    expect(ruleNames({ dataSchema: {} })).toEqual(['content_policy', 'retention_policy']);
    expect(threatIds({ dataSchema: {} })).toEqual(['T6']);
    expect(
      ruleNames({ dataSchema: { content_filter: ' ', deletion_strategy: 'purge after 1y' } }),
    ).toEqual(['content_policy']);
    expect(
      evaluate({ dataSchema: { content_filter: 'strict', deletion_strategy: 'purge' } }).approved,
    ).toBe(true);
  });

  it('refuses declared scales beyond the enforced limits', () => {
    expect(
      ruleNames({ dataSchema: { ...sound.dataSchema, writes_per_second: 1_000_000 } }),
    ).toEqual(['scale_limit']);
    expect(evaluate({ dataSchema: { ...sound.dataSchema, writesPerSecond: 10 } }).approved).toBe(
      true,
    );
  });

  it('treats several products in one name as T4', () => {
    expect(threatIds({ productName: 'ai_avatar,gurukul' })).toEqual(['T4']);
  });
});

describe('schemaThreats', () => {
  it('finds connection strings and credentials (T1) and schema mutation (T2)', () => {
    const found = schemaThreats({
      storage: 'mongodb://root:pw@db/x',
      auth: { api_key: 'abc123' },
      steps: ['collection_mutation'],
      $schema_change: true,
    });
    expect(found.map((t) => t.id).sort()).toEqual(['T1', 'T1', 'T2', 'T2']);
  });

  it('lets through what only looks like them', () => {
    expect(
      schemaThreats({
        passwordPolicy: true,
        tokenCount: 3,
        properties: { password: { type: 'string' } },
        docs: 'see https://example.com/postgres-guide',
      }),
    ).toEqual([]);
  });

  /** `inner` wrapped in `depth` levels of `{"n": …}`. */
  const nested = (depth: number, inner: unknown): Record<string, unknown> => {
    let value = inner;
    for (let level = 0; level < depth; level++) value = { n: value };
    return value as Record<string, unknown>;
  };

  it.each([
    ['a password', { password: 'hunter2hunter2' }, 'T1'],
    ['a connection string', 'postgres://u:p@db/x', 'T1'],
    ['an AWS key id', 'AKIAABCDEFGHIJKLMNOP', 'T1'],
    ['a schema mutation', 'collection_mutation', 'T2'],
  ])('finds %s nested 40 levels deep', (_what, inner, id) => {
    expect(schemaThreats(nested(40, inner)).map((t) => t.id)).toEqual([id]);
  });

  it.each([
    ['a password', { password: 'hunter2hunter2' }],
    ['a connection string', 'postgres://u:p@db/x'],
    ['an AWS key id', 'AKIAABCDEFGHIJKLMNOP'],
    ['nothing', 'harmless'],
  ])('refuses a schema nested 70 levels deep, holding %s: not inspected whole', (_what, inner) => {
    const verdict = evaluate({ dataSchema: { ...sound.dataSchema, deep: nested(70, inner) } });
    expect(verdict.approved).toBe(false);
    expect(verdict.reasons).toContainEqual({
      rule: 'data_schema',
      message: expect.stringMatching(/cannot be inspected whole/),
    });
    expect(verdict.threats.map((t) => t.id)).toContain('T2');
  });

  it('refuses a schema nested 5,000 levels deep without overflowing', () => {
    expect(evaluate({ dataSchema: nested(5000, {}) }).approved).toBe(false);
  });
});

describe('integrationStage', () => {
  const product = principal('product', 'ai_avatar');

  it('lets a key through its approved integration on a declared class', () => {
    const ctx = gateContext({
      principal: product,
      action: 'artifact.read',
      class: 'avatar_config',
    });
    expect(integrationStage(ctx).deny).toBeUndefined();
  });

  it('refuses a key without an approved integration of its product (T4)', () => {
    for (const integration of [
      null,
      {
        ...(integrationFor(product) as NonNullable<ReturnType<typeof integrationFor>>),
        product: 'gurukul',
      },
    ]) {
      const verdict = integrationStage(
        gateContext({ principal: product, action: 'artifact.list', integration }),
      );
      expect(verdict.deny?.reasons[0]?.rule).toBe('integration_required');
      expect(verdict.threats?.map((t) => t.id)).toEqual(['T4']);
    }
  });

  it('refuses a revoked integration and an undeclared class (T4)', () => {
    const base = integrationFor(product);
    const revoked = integrationStage(
      gateContext({
        principal: product,
        action: 'artifact.list',
        integration: base && { ...base, revokedAt: '2026-01-02T00:00:00.000Z' },
      }),
    );
    expect(revoked.deny?.reasons[0]?.rule).toBe('integration_revoked');
    const undeclared = integrationStage(
      gateContext({
        principal: product,
        action: 'artifact.read',
        class: 'model_checkpoint',
        integration: base && { ...base, classes: ['avatar_config'] },
      }),
    );
    expect(undeclared.deny?.reasons[0]?.rule).toBe('class_not_declared');
    expect(undeclared.threats?.map((t) => t.id)).toEqual(['T4']);
  });

  it('does not concern owner, executor, auditor and core keys', () => {
    for (const kind of ['owner', 'executor', 'auditor', 'core'] as const) {
      const ctx = gateContext({
        principal: principal(kind, kind === 'core' ? 'core' : null),
        action: 'artifact.list',
        integration: null,
      });
      expect(integrationStage(ctx).deny).toBeUndefined();
    }
  });
});
