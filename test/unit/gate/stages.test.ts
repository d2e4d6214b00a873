import { describe, expect, it } from 'vitest';
import type { StageVerdict } from '../../../src/gate/context.js';
import { admissionStage } from '../../../src/gate/stages/admission.js';
import { contentStage } from '../../../src/gate/stages/content.js';
import { identityStage } from '../../../src/gate/stages/identity.js';
import { bodyLimitOf, limitsStage } from '../../../src/gate/stages/limits.js';
import { operationStage } from '../../../src/gate/stages/operation.js';
import { defaultPolicyVersion, gateContext, headVersion, principal } from '../../helpers/gate.js';
import { sha256 } from '../../helpers/hash.js';

const threatIds = (verdict: StageVerdict) => (verdict.threats ?? []).map((t) => t.id);
const rules = (verdict: StageVerdict) => (verdict.deny?.reasons ?? []).map((r) => r.rule);

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

describe('stage 3: admission', () => {
  const admit = (product: string, classId: string | null, name: string | null = null) =>
    admissionStage(
      gateContext({
        principal: principal('owner'),
        action: 'artifact.read',
        product,
        class: classId,
        name,
      }),
    );

  it('answers an unknown product with 404 product_not_found', () => {
    expect(admit('no_such_product', 'metadata').deny).toMatchObject({
      status: 404,
      code: 'product_not_found',
    });
  });

  it('refuses every globally rejected class, for every product', () => {
    const document = defaultPolicyVersion().document;
    for (const product of Object.keys(document.products)) {
      for (const classId of document.rejectedClasses) {
        const verdict = admit(product, classId);
        expect(verdict.deny?.status, `${product}/${classId}`).toBe(403);
      }
    }
  });

  it("refuses a product's explicitly forbidden class with 403", () => {
    const verdict = admit('ai_assistant', 'system_config');
    expect(verdict.deny?.status).toBe(403);
    expect(rules(verdict)).toEqual(['class_forbidden']);
  });

  it('answers an unknown class with 404 class_not_found', () => {
    expect(admit('gurukul', 'no_such_class').deny).toMatchObject({
      status: 404,
      code: 'class_not_found',
    });
  });

  it("refuses another product's class with 403 class_not_allowed", () => {
    const verdict = admit('gurukul', 'model_checkpoint');
    expect(verdict.deny?.status).toBe(403);
    expect(rules(verdict)).toEqual(['class_not_allowed']);
  });

  it('admits each product exactly its allowed classes', () => {
    const document = defaultPolicyVersion().document;
    for (const [product, rule] of Object.entries(document.products)) {
      for (const classId of Object.keys(document.classes)) {
        const allowed = admit(product, classId).deny === undefined;
        expect(allowed, `${product}/${classId}`).toBe(rule.allowedClasses.includes(classId));
      }
    }
  });

  it('refuses a malformed artifact name with 400 invalid_name', () => {
    expect(admit('gurukul', 'user_progress', 'a/../b').deny).toMatchObject({
      status: 400,
      code: 'invalid_name',
    });
    expect(admit('gurukul', 'user_progress', 'a/b.json').deny).toBeUndefined();
  });
});

describe('stage 4: operation', () => {
  const operate = (
    kind: 'product' | 'ai_agent' | 'core',
    product: string,
    classId: string,
    action: 'artifact.write' | 'artifact.delete' | 'artifact.read',
    head: ReturnType<typeof headVersion> | null,
    preconditions = { ifNoneMatch: false, ifVersion: null as number | null },
  ) =>
    operationStage(
      gateContext({
        principal: principal(kind, product),
        action,
        product,
        class: classId,
        name: 'item',
        preconditions,
        target: { head },
      }),
    );

  it('resolves a write to CREATE for a new name and UPDATE for an existing one', () => {
    expect(operate('product', 'ai_avatar', 'avatar_config', 'artifact.write', null)).toEqual({
      operation: 'CREATE',
    });
    const head = headVersion('ai_avatar', 'avatar_config', 'item');
    expect(operate('product', 'ai_avatar', 'avatar_config', 'artifact.write', head)).toEqual({
      operation: 'UPDATE',
    });
  });

  it('refuses an overwrite of a write-once class with 403 and T3', () => {
    const head = headVersion('ai_assistant', 'metadata', 'item');
    const verdict = operate('product', 'ai_assistant', 'metadata', 'artifact.write', head);
    expect(verdict.deny?.status).toBe(403);
    expect(rules(verdict)).toEqual(['operation_not_allowed']);
    expect(threatIds(verdict)).toEqual(['T3']);
  });

  it('refuses the replay of a write-once version (the same x-bucket-sha256) without T3', () => {
    const head = headVersion('ai_avatar', 'model_checkpoint', 'item', 4);
    const replay = (sha256Claim: string | null, target = head) =>
      operationStage(
        gateContext({
          principal: principal('product', 'ai_avatar'),
          action: 'artifact.write',
          product: 'ai_avatar',
          class: 'model_checkpoint',
          name: 'item',
          sha256Claim,
          target: { head: target },
        }),
      );
    const same = replay(head.sha256);
    expect(same.deny?.status).toBe(403);
    expect(same.deny?.code).toBe('forbidden');
    expect(rules(same)).toEqual(['write_once_unchanged']);
    expect(same.deny?.reasons[0]?.message).toContain('version 4 already holds this content');
    expect(threatIds(same)).toEqual([]);
    // Other content, no claim, or a deleted head: the overwrite the class forbids, with T3.
    for (const verdict of [
      replay('b'.repeat(64)),
      replay(null),
      replay(head.sha256, headVersion('ai_avatar', 'model_checkpoint', 'item', 4, true)),
    ]) {
      expect(rules(verdict)).toEqual(['operation_not_allowed']);
      expect(threatIds(verdict)).toEqual(['T3']);
    }
    // Where the class allows UPDATE, the same content is simply a new version.
    const config = headVersion('ai_avatar', 'avatar_config', 'item');
    expect(
      operationStage(
        gateContext({
          principal: principal('product', 'ai_avatar'),
          action: 'artifact.write',
          product: 'ai_avatar',
          class: 'avatar_config',
          name: 'item',
          sha256Claim: config.sha256,
          target: { head: config },
        }),
      ),
    ).toEqual({ operation: 'UPDATE' });
  });

  it('refuses DELETE where the class has no D, and allows it on basket_config', () => {
    const checkpoint = headVersion('ai_avatar', 'model_checkpoint', 'item');
    const refused = operate(
      'product',
      'ai_avatar',
      'model_checkpoint',
      'artifact.delete',
      checkpoint,
    );
    expect(refused.deny?.status).toBe(403);
    expect(threatIds(refused)).toEqual(['T3']);
    const basket = headVersion('core', 'basket_config', 'item');
    expect(operate('core', 'core', 'basket_config', 'artifact.delete', basket)).toEqual({
      operation: 'DELETE',
    });
  });

  it('holds ai_agent keys to CREATE and READ, even where the class allows UPDATE', () => {
    const head = headVersion('ai_avatar', 'avatar_config', 'item');
    expect(operate('ai_agent', 'ai_avatar', 'avatar_config', 'artifact.write', null).deny).toBe(
      undefined,
    );
    expect(operate('ai_agent', 'ai_avatar', 'avatar_config', 'artifact.read', head).deny).toBe(
      undefined,
    );
    const update = operate('ai_agent', 'ai_avatar', 'avatar_config', 'artifact.write', head);
    expect(update.deny?.status).toBe(403);
    expect(rules(update)).toEqual(['ai_write_only']);
    const basket = headVersion('core', 'basket_config', 'item');
    const remove = operate('ai_agent', 'core', 'basket_config', 'artifact.delete', basket);
    expect(remove.deny?.status).toBe(403);
    expect(rules(remove)).toEqual(['ai_write_only']);
  });

  it('refuses any write to the read-only workflow_engine product', () => {
    const verdict = operate('product', 'workflow_engine', 'event_history', 'artifact.write', null);
    expect(verdict.deny?.status).toBe(403);
    expect(rules(verdict)).toEqual(['product_read_only']);
    expect(operate('product', 'workflow_engine', 'event_history', 'artifact.read', null).deny).toBe(
      undefined,
    );
  });

  it('answers If-None-Match: * on an existing name with 412, but not on a tombstoned one', () => {
    const precondition = { ifNoneMatch: true, ifVersion: null };
    const live = headVersion('core', 'basket_config', 'item', 3);
    const exists = operate('core', 'core', 'basket_config', 'artifact.write', live, precondition);
    expect(exists.deny).toMatchObject({ status: 412, code: 'already_exists' });
    const fresh = operate('core', 'core', 'basket_config', 'artifact.write', null, precondition);
    expect(fresh.deny).toBeUndefined();
    const deleted = headVersion('core', 'basket_config', 'item', 4, true);
    const again = operate('core', 'core', 'basket_config', 'artifact.write', deleted, precondition);
    expect(again.deny).toBeUndefined();
  });

  it('answers x-bucket-if-version that is not the current version with 409', () => {
    const head = headVersion('core', 'agent_spec', 'item', 2);
    const stale = operate('core', 'core', 'agent_spec', 'artifact.write', head, {
      ifNoneMatch: false,
      ifVersion: 1,
    });
    expect(stale.deny).toMatchObject({ status: 409, code: 'version_conflict' });
    const current = operate('core', 'core', 'agent_spec', 'artifact.write', head, {
      ifNoneMatch: false,
      ifVersion: 2,
    });
    expect(current.deny).toBeUndefined();
    const absent = operate('core', 'core', 'agent_spec', 'artifact.write', null, {
      ifNoneMatch: false,
      ifVersion: 0,
    });
    expect(absent.deny).toBeUndefined();
    const expectedButAbsent = operate('core', 'core', 'agent_spec', 'artifact.write', null, {
      ifNoneMatch: false,
      ifVersion: 1,
    });
    expect(expectedButAbsent.deny?.status).toBe(409);
  });
});

describe('stage 5: content', () => {
  const write = (classId: string, contentType: string | null, body?: string, claim?: string) => {
    const bytes = body === undefined ? undefined : Buffer.from(body);
    return contentStage(
      gateContext({
        principal: principal('product', 'ai_avatar'),
        action: 'artifact.write',
        product: 'ai_avatar',
        class: classId,
        name: 'item',
        contentType,
        sha256Claim: claim ?? null,
        ...(bytes ? { content: { size: bytes.length, sha256: sha256(bytes), bytes } } : {}),
      }),
    );
  };

  it('requires application/json for JSON classes (415 otherwise), parameters allowed', () => {
    expect(write('avatar_config', 'text/plain').deny).toMatchObject({
      status: 415,
      code: 'unsupported_media_type',
    });
    expect(write('avatar_config', null).deny?.status).toBe(415);
    expect(write('avatar_config', 'Application/JSON; charset=utf-8').deny).toBeUndefined();
  });

  it('accepts any media type for binary classes', () => {
    expect(write('model_checkpoint', 'application/octet-stream').deny).toBeUndefined();
    expect(write('model_checkpoint', null).deny).toBeUndefined();
  });

  it('accepts only the listed media types for educational_content', () => {
    const accept = (type: string) =>
      contentStage(
        gateContext({
          principal: principal('product', 'gurukul'),
          action: 'artifact.write',
          product: 'gurukul',
          class: 'educational_content',
          contentType: type,
        }),
      ).deny?.status ?? 200;
    expect(accept('text/markdown')).toBe(200);
    expect(accept('application/pdf')).toBe(200);
    expect(accept('image/png')).toBe(415);
  });

  it('refuses invalid JSON with 400 invalid_json and a JSON array with 400 json_not_object', () => {
    expect(write('avatar_config', 'application/json', '{"a":').deny).toMatchObject({
      status: 400,
      code: 'invalid_json',
    });
    expect(write('avatar_config', 'application/json', '[1,2]').deny).toMatchObject({
      status: 400,
      code: 'json_not_object',
    });
    expect(write('avatar_config', 'application/json', 'null').deny?.code).toBe('json_not_object');
    expect(write('avatar_config', 'application/json', '{"a":1}').deny).toBeUndefined();
  });

  it('refuses a body whose SHA-256 differs from x-bucket-sha256 with 400 and T7', () => {
    const verdict = write('avatar_config', 'application/json', '{"a":1}', 'b'.repeat(64));
    expect(verdict.deny).toMatchObject({ status: 400, code: 'sha256_mismatch' });
    expect(threatIds(verdict)).toEqual(['T7']);
    const body = '{"a":1}';
    const matching = write('avatar_config', 'application/json', body, sha256(Buffer.from(body)));
    expect(matching.deny).toBeUndefined();
  });

  it('validates JSON content against the class schema with 422', () => {
    const policy = defaultPolicyVersion();
    const document = structuredClone(policy.document);
    const avatar = document.classes['avatar_config'];
    if (!avatar) throw new Error('avatar_config missing from the default policy');
    document.classes['avatar_config'] = {
      ...avatar,
      schema: { type: 'object', required: ['style'], properties: { style: { type: 'string' } } },
    };
    const withSchema = defaultPolicyVersion(document);
    const check = (body: string) => {
      const bytes = Buffer.from(body);
      return contentStage(
        gateContext({
          policy: withSchema,
          principal: principal('product', 'ai_avatar'),
          action: 'artifact.write',
          product: 'ai_avatar',
          class: 'avatar_config',
          name: 'item',
          contentType: 'application/json',
          content: { size: bytes.length, sha256: sha256(bytes), bytes },
        }),
      );
    };
    const missing = check('{"colour":"red"}');
    expect(missing.deny).toMatchObject({ status: 422, code: 'schema_violation' });
    expect(missing.deny?.reasons[0]?.message).toMatch(/style/);
    expect(check('{"style":7}').deny?.status).toBe(422);
    expect(check('{"style":"anime"}').deny).toBeUndefined();
  });
});

describe('stage 6: limits', () => {
  const sized = (classId: string, declaredSize: number | null, received?: number) =>
    gateContext({
      principal: principal('product', 'ai_assistant'),
      action: 'artifact.write',
      product: 'ai_assistant',
      class: classId,
      name: 'item',
      declaredSize,
      ...(received === undefined ? {} : { content: { size: received, sha256: '', bytes: null } }),
    });

  it("limits a write body to the class's maximum within the global one", () => {
    expect(bodyLimitOf(sized('metadata', null))).toBe(16 * 1024);
    expect(bodyLimitOf(sized('audit_entry', null))).toBe(100 * 1024);
    const read = gateContext({ principal: principal('owner'), action: 'artifact.read' });
    expect(bodyLimitOf(read)).toBeNull();
  });

  it('answers a declared size over the class maximum with 413 and T5', () => {
    const verdict = limitsStage(sized('metadata', 16 * 1024 + 1));
    expect(verdict.deny).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(threatIds(verdict)).toEqual(['T5']);
    expect(limitsStage(sized('metadata', 16 * 1024)).deny).toBeUndefined();
  });

  it('judges the received size, not the declared one, once the body has arrived', () => {
    expect(limitsStage(sized('metadata', null, 16 * 1024 + 1)).deny?.status).toBe(413);
    expect(limitsStage(sized('metadata', 10, 16 * 1024 + 1)).deny?.status).toBe(413);
  });

  it('answers a write without a free write slot with 429 and T5', () => {
    const verdict = limitsStage({ ...sized('metadata', 10), writeSlot: false });
    expect(verdict.deny).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(threatIds(verdict)).toEqual(['T5']);
  });
});
