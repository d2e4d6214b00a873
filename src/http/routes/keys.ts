/** Keys API (SPEC §1, owner only): create, list (never secrets), revoke. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { keyFactsOf, type KeyRecord } from '../../domain/principal.js';
import { keyStatus } from '../../services/keys.js';
import { errorResponses, KEY_FIELDS, KeyView } from '../schemas.js';

/** A key as the owner sees it; an active key suspended by escalation (SPEC §5) shows `suspended`. */
function view(key: KeyRecord, suspended: (id: string) => boolean) {
  const status = keyStatus(key, Date.now());
  return {
    ...keyFactsOf(key),
    revokedAt: key.revokedAt,
    status: status === 'active' && suspended(key.id) ? ('suspended' as const) : status,
  };
}

const CreateKey = Type.Object(
  {
    kind: Type.String({ description: 'owner, executor, auditor, product, ai_agent or core' }),
    product: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    integrationId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    expiresAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
  },
  { additionalProperties: false },
);

const CreatedKey = Type.Object({
  ...KEY_FIELDS,
  key: Type.String({ description: 'The secret, shown only in this answer' }),
});

export const keyRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    const suspended = (id: string) => bucket.threats.isSuspended(id);
    app.post(
      '/v1/keys',
      {
        config: { action: 'keys.create', answers: 201 },
        schema: {
          tags: ['keys'],
          summary: 'Create a key (owner); the secret is shown once',
          body: CreateKey,
          response: { 201: CreatedKey, ...errorResponses(400, 401, 403) },
        },
      },
      async (request, reply) => {
        const created = await bucket.keys.create(
          request.body,
          request.allowedAction?.entry ?? undefined,
        );
        const { record } = created;
        return reply.code(201).send({
          id: record.id,
          key: created.key,
          kind: record.kind,
          product: record.product,
          integrationId: record.integrationId,
          name: record.name,
          createdAt: record.createdAt,
          expiresAt: record.expiresAt,
        });
      },
    );

    app.get(
      '/v1/keys',
      {
        config: { action: 'keys.list' },
        schema: {
          tags: ['keys'],
          summary: 'List keys (owner); never returns secrets',
          response: {
            200: Type.Object({ keys: Type.Array(KeyView) }),
            ...errorResponses(401, 403),
          },
        },
      },
      async () => ({ keys: (await bucket.keys.list()).map((key) => view(key, suspended)) }),
    );

    app.delete(
      '/v1/keys/:id',
      {
        config: { action: 'keys.revoke' },
        schema: {
          tags: ['keys'],
          summary: 'Revoke a key (owner); effective at once',
          params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
          response: { 200: KeyView, ...errorResponses(401, 403, 404, 409) },
        },
      },
      async (request) => {
        const entry = request.allowedAction?.entry ?? undefined;
        // Its S3 credentials go with it (SPEC §13): the key service tells their cache.
        const revoked = await bucket.keys.revoke(request.params.id, entry);
        return view(revoked, suspended);
      },
    );
  };
