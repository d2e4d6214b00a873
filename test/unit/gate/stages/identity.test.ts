/** Stage 1 (identity and isolation) of the gate: src/gate/stages/identity.ts as a pure function. */
import { describe, expect, it } from 'vitest';
import { identityStage } from '../../../../src/gate/stages/identity.js';
import { gateContext, principal, rules, threatIds } from '../../../helpers/gate.js';

describe('stage 1: identity and isolation', () => {
  it('refuses a product key on another product with 403 and a T1 threat', () => {
    const verdict = identityStage(
      gateContext({
        principal: principal('product', 'gurukul'),
        action: 'artifact.read',
        product: 'ai_avatar',
        class: 'model_checkpoint',
        name: 'secret.ckpt',
      }),
    );
    expect(verdict.deny).toMatchObject({ status: 403, code: 'forbidden' });
    expect(rules(verdict)).toEqual(['product_isolation']);
    expect(threatIds(verdict)).toEqual(['T1']);
  });

  it('refuses a product key on a product that does not exist with 403, not 404', () => {
    const verdict = identityStage(
      gateContext({
        principal: principal('ai_agent', 'gurukul'),
        action: 'artifact.list',
        product: 'no_such_product',
      }),
    );
    expect(verdict.deny?.status).toBe(403);
    expect(threatIds(verdict)).toEqual(['T1']);
  });

  it('lets a product key act on its own product', () => {
    const verdict = identityStage(
      gateContext({
        principal: principal('product', 'gurukul'),
        action: 'artifact.write',
        product: 'gurukul',
        class: 'user_progress',
        name: 'p/1',
      }),
    );
    expect(verdict.deny).toBeUndefined();
  });

  it('binds a core key to the core namespace', () => {
    const own = identityStage(
      gateContext({
        principal: principal('core', 'core'),
        action: 'artifact.list',
        product: 'core',
      }),
    );
    const other = identityStage(
      gateContext({
        principal: principal('core', 'core'),
        action: 'artifact.list',
        product: 'gurukul',
      }),
    );
    expect(own.deny).toBeUndefined();
    expect(other.deny?.status).toBe(403);
  });

  it('lets the owner read any product but write none', () => {
    const read = identityStage(
      gateContext({ principal: principal('owner'), action: 'artifact.read', product: 'gurukul' }),
    );
    const write = identityStage(
      gateContext({ principal: principal('owner'), action: 'artifact.write', product: 'gurukul' }),
    );
    expect(read.deny).toBeUndefined();
    expect(write.deny).toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('keeps auditors and executors to metadata: no artifact content', () => {
    for (const kind of ['auditor', 'executor'] as const) {
      const content = identityStage(
        gateContext({ principal: principal(kind), action: 'artifact.read', product: 'gurukul' }),
      );
      const head = identityStage(
        gateContext({ principal: principal(kind), action: 'artifact.head', product: 'gurukul' }),
      );
      expect(content.deny?.status, kind).toBe(403);
      expect(head.deny, kind).toBeUndefined();
    }
  });

  it('refuses key administration to product keys as governance circumvention (T4)', () => {
    for (const action of ['keys.create', 'keys.list', 'keys.revoke'] as const) {
      const verdict = identityStage(
        gateContext({ principal: principal('product', 'gurukul'), action }),
      );
      expect(verdict.deny?.status, action).toBe(403);
      expect(threatIds(verdict), action).toEqual(['T4']);
    }
    const executor = identityStage(
      gateContext({ principal: principal('executor'), action: 'keys.create' }),
    );
    expect(executor.deny?.status).toBe(403);
  });

  it('treats an identity claim naming another product as T1, in metadata and in the query', () => {
    const base = {
      principal: principal('product', 'gurukul'),
      action: 'artifact.write' as const,
      product: 'gurukul',
      class: 'user_progress',
      name: 'p/1',
    };
    const meta = identityStage(gateContext({ ...base, meta: { product: 'ai_avatar' } }));
    const query = identityStage(gateContext({ ...base, query: { productId: 'ai_avatar' } }));
    const owner = identityStage(gateContext({ ...base, meta: { owner_id: 'ai_avatar' } }));
    for (const verdict of [meta, query, owner]) {
      expect(verdict.deny?.status).toBe(403);
      expect(rules(verdict)).toEqual(['identity_claim']);
      expect(threatIds(verdict)).toContain('T1');
    }
    const truthful = identityStage(gateContext({ ...base, meta: { product: 'gurukul' } }));
    expect(truthful.deny).toBeUndefined();
  });
});
