/** The detectors as the gate runs them: stage 1 on request fields, stage 5 on metadata and body. */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { PrincipalKind } from '../../../src/domain/principal.js';
import type { GateContext, StageVerdict } from '../../../src/gate/context.js';
import { DETECTORS } from '../../../src/gate/detectors/index.js';
import { contentStage } from '../../../src/gate/stages/content.js';
import { identityStage } from '../../../src/gate/stages/identity.js';
import { gateContext, principal } from '../../helpers/gate.js';
import { sha256 } from '../../helpers/hash.js';

const threatIds = (verdict: StageVerdict) => (verdict.threats ?? []).map((t) => t.id);
const rules = (verdict: StageVerdict) => (verdict.deny?.reasons ?? []).map((r) => r.rule);

function write(
  classId: string,
  body: unknown,
  fields: Partial<GateContext> = {},
  kind: PrincipalKind = 'product',
  product = classId === 'persona_config' ? 'ai_avatar' : 'gurukul',
): StageVerdict {
  const bytes = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return contentStage(
    gateContext({
      principal: principal(kind, kind === 'owner' ? null : product),
      action: 'artifact.write',
      product,
      class: classId,
      name: 'item',
      contentType: 'application/json',
      ...(bytes
        ? {
            content: {
              size: bytes.length,
              sha256: sha256(bytes),
              bytes,
            },
          }
        : {}),
      ...fields,
    }),
  );
}

describe('stage 5 runs the content detectors', () => {
  it('denies credential material (T1) with 403 and every threat found', () => {
    const verdict = write('user_progress', { password: 'x', db: 'postgres://u@h/db' });
    expect(verdict.deny).toMatchObject({ status: 403, code: 'forbidden' });
    expect(rules(verdict)).toEqual(['credential_material', 'connection_string']);
    expect(threatIds(verdict)).toEqual(['T1', 'T1']);
  });

  it('lets a boolean passwordPolicy through', () => {
    expect(write('user_progress', { passwordPolicy: true, score: 3 })).toEqual({});
  });

  it('denies injection patterns and reserved members (T2)', () => {
    const verdict = write('user_progress', { _id: 1, q: { $where: 'x' } });
    expect(verdict.deny?.status).toBe(403);
    expect(rules(verdict)).toEqual(['reserved_field', 'injection_pattern']);
    expect(threatIds(verdict)).toEqual(['T2', 'T2']);
  });

  it('denies identity claims in the body of a product key (T1), not its own product', () => {
    expect(threatIds(write('user_progress', { product_id: 'ai_avatar' }))).toEqual(['T1']);
    expect(write('user_progress', { product_id: 'gurukul' }).deny).toBeUndefined();
  });

  it('leaves product names in Core content alone (SPEC §1 judges product and ai_agent keys)', () => {
    const core = write('agent_spec', { product: 'gurukul' }, {}, 'core', 'core');
    expect(core).toEqual({});
    const agent = write('user_progress', { product: 'core' }, {}, 'ai_agent');
    expect(threatIds(agent)).toEqual(['T1']);
  });

  it('checks PII only in piiFree classes (T6)', () => {
    const persona = write('persona_config', { contact: 'jane@example.com' });
    expect(persona.deny?.status).toBe(403);
    expect(rules(persona)).toEqual(['pii_in_pii_free_class']);
    expect(threatIds(persona)).toEqual(['T6']);
    expect(write('user_progress', { contact: 'jane@example.com' }).deny).toBeUndefined();
    expect(write('monetization_marker', { card: '4111 1111 1111 1111' }).deny?.status).toBe(403);
  });

  it('denies a shorter retention claim (T6) before the body arrives', () => {
    const verdict = write('user_progress', undefined, { meta: { retention: 'P30D' } });
    expect(verdict.deny?.status).toBe(403);
    expect(threatIds(verdict)).toEqual(['T6']);
    expect(write('user_progress', undefined, { meta: { retention: 'P2Y' } })).toEqual({});
  });

  it('denies metadata headers shadowing server fields (T2) before the body arrives', () => {
    const verdict = write('user_progress', undefined, { meta: { sha256: 'abc' } });
    expect(rules(verdict)).toEqual(['reserved_field']);
  });

  it('records stale or future timestamps (T7) without denying', () => {
    const stale = new Date(Date.now() - 3_600_000).toISOString();
    const header = write('user_progress', undefined, { meta: { timestamp: stale } });
    expect(header.deny).toBeUndefined();
    expect(threatIds(header)).toEqual(['T7']);
    const body = write('user_progress', { created_at: stale, score: 1 });
    expect(body.deny).toBeUndefined();
    expect(threatIds(body)).toEqual(['T7']);
    const fresh = write('user_progress', { timestamp: new Date().toISOString() });
    expect(fresh).toEqual({});
  });

  it('keeps 422 for a class schema failure (T2) and still reports the other threats', () => {
    const base = gateContext({ principal: principal('owner'), action: 'policy.read' }).policy;
    const document = structuredClone(base.document);
    const userProgress = document.classes['user_progress'];
    if (!userProgress) throw new Error('no user_progress class');
    (document.classes as Record<string, unknown>)['user_progress'] = {
      ...userProgress,
      schema: { type: 'object', required: ['score'] },
    };
    const verdict = write('user_progress', { token: 'abc' }, { policy: { ...base, document } });
    expect(verdict.deny).toMatchObject({ status: 422, code: 'schema_violation' });
    expect(threatIds(verdict)).toEqual(['T2', 'T1']);
  });

  it('leaves non-JSON content and reads alone', () => {
    const text = contentStage(
      gateContext({
        principal: principal('product', 'gurukul'),
        action: 'artifact.write',
        product: 'gurukul',
        class: 'educational_content',
        contentType: 'text/plain',
        content: { size: 8, sha256: 'x', bytes: Buffer.from('password') },
      }),
    );
    expect(text).toEqual({});
  });
});

describe('stage 1 runs the request detectors', () => {
  const base = {
    action: 'artifact.list' as const,
    product: 'gurukul',
  };

  it('denies bypass parameters and headers (T4), for every kind of key', () => {
    for (const kind of ['owner', 'product', 'auditor'] as const) {
      const verdict = identityStage(
        gateContext({
          ...base,
          principal: principal(kind, kind === 'product' ? 'gurukul' : null),
          query: { skip_audit: '1' },
        }),
      );
      expect(verdict.deny?.status, kind).toBe(403);
      expect(rules(verdict)).toEqual(['bypass_attempt']);
      expect(threatIds(verdict)).toEqual(['T4']);
    }
    const header = identityStage(
      gateContext({
        ...base,
        principal: principal('product', 'gurukul'),
        headerNames: ['authorization', 'x-emergency-access'],
      }),
    );
    expect(threatIds(header)).toEqual(['T4']);
  });

  it('reports the claims alongside an isolation denial', () => {
    const verdict = identityStage(
      gateContext({
        ...base,
        product: 'ai_avatar',
        principal: principal('product', 'gurukul'),
        meta: { product: 'ai_avatar' },
        query: { override: 'yes' },
      }),
    );
    expect(rules(verdict)).toEqual(['product_isolation']);
    expect(threatIds(verdict)).toEqual(['T1', 'T1', 'T4']);
  });

  it('treats executors and auditors reaching for policy or keys as T4 (SPEC §9)', () => {
    for (const kind of ['executor', 'auditor', 'product', 'ai_agent'] as const) {
      const verdict = identityStage(
        gateContext({
          principal: principal(kind, kind === 'product' || kind === 'ai_agent' ? 'gurukul' : null),
          action: 'policy.update',
        }),
      );
      expect(verdict.deny?.status, kind).toBe(403);
      expect(threatIds(verdict), kind).toEqual(['T4']);
    }
    const owner = identityStage(
      gateContext({ principal: principal('owner'), action: 'policy.update' }),
    );
    expect(owner).toEqual({});
  });

  it('lets ordinary requests through', () => {
    const verdict = identityStage(
      gateContext({
        ...base,
        principal: principal('product', 'gurukul'),
        query: { prefix: 'a/', limit: '10' },
        headerNames: ['authorization', 'accept', 'user-agent'],
      }),
    );
    expect(verdict).toEqual({});
  });
});

describe('the detector catalogue', () => {
  it('names source files that exist', () => {
    for (const detector of DETECTORS) {
      const file = new URL(`../../../src/gate/detectors/${detector.file}`, import.meta.url);
      expect(existsSync(file), detector.file).toBe(true);
    }
  });
});
