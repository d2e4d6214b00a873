/**
 * S3 credentials of keys (SPEC §13, owner): create (the secret shown once), list (access key ids
 * only), revoke — key administration, decided as the `keys.*` actions. The S3 door (src/s3/)
 * verifies SigV4 signatures with them.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { errorResponses } from '../schemas.js';

const CredentialView = Type.Object({
  accessKeyId: Type.String(),
  keyId: Type.String(),
  createdAt: Type.String(),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});

const KeyParams = Type.Object({ id: Type.String({ maxLength: 100 }) });

export const s3CredentialRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.post(
      '/v1/keys/:id/s3-credentials',
      {
        config: { action: 'keys.create', answers: 201 },
        schema: {
          tags: ['keys'],
          summary: 'Create an S3 credential for a key (owner); the secret is shown once',
          params: KeyParams,
          response: {
            201: Type.Object({
              accessKeyId: Type.String({ description: '20 characters [A-Z0-9]' }),
              secretAccessKey: Type.String({ description: 'Shown only in this answer' }),
              keyId: Type.String(),
              createdAt: Type.String(),
            }),
            ...errorResponses(401, 403, 404, 409),
          },
        },
      },
      async (request, reply) => {
        const created = await bucket.s3Credentials.create(
          request.params.id,
          request.allowedAction?.entry ?? undefined,
        );
        return reply.code(201).send({
          accessKeyId: created.accessKeyId,
          secretAccessKey: created.secretAccessKey,
          keyId: created.keyId,
          createdAt: created.createdAt,
        });
      },
    );

    app.get(
      '/v1/keys/:id/s3-credentials',
      {
        config: { action: 'keys.list' },
        schema: {
          tags: ['keys'],
          summary: "List a key's S3 credentials (owner); never returns secrets",
          params: KeyParams,
          response: {
            200: Type.Object({ credentials: Type.Array(CredentialView) }),
            ...errorResponses(401, 403, 404),
          },
        },
      },
      async (request) => ({ credentials: await bucket.s3Credentials.list(request.params.id) }),
    );

    app.delete(
      '/v1/keys/:id/s3-credentials/:accessKeyId',
      {
        config: { action: 'keys.revoke' },
        schema: {
          tags: ['keys'],
          summary: 'Revoke an S3 credential (owner); effective at once',
          params: Type.Object({
            id: Type.String({ maxLength: 100 }),
            accessKeyId: Type.String({ maxLength: 100 }),
          }),
          response: { 200: CredentialView, ...errorResponses(401, 403, 404) },
        },
      },
      async (request) =>
        bucket.s3Credentials.revoke(
          request.params.id,
          request.params.accessKeyId,
          request.allowedAction?.entry ?? undefined,
        ),
    );
  };
