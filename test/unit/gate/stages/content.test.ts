/** Stage 5 (content) of the gate: src/gate/stages/content.ts as a pure function. */
import { describe, expect, it } from 'vitest';
import { contentStage } from '../../../../src/gate/stages/content.js';
import { sha256 } from '../../../helpers/hash.js';
import { defaultPolicyVersion, gateContext, principal, threatIds } from '../../../helpers/gate.js';

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
