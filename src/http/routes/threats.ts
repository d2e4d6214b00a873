/** Threats and suspension (SPEC §5): the live catalogue, and the owner's reinstatement of a key. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { errorResponses } from '../schemas.js';

export const threatRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      '/v1/governance/threats',
      {
        config: { action: 'threats.read' },
        schema: {
          tags: ['governance'],
          summary: 'The threat catalogue T1–T7 with live counts and recent detections',
          response: {
            200: Type.Object({
              threats: Type.Array(
                Type.Object({
                  id: Type.String(),
                  name: Type.String(),
                  severity: Type.String(),
                  detections: Type.Integer(),
                  last24h: Type.Integer(),
                  detectors: Type.Array(Type.Any()),
                }),
              ),
              recent: Type.Array(Type.Any()),
              suspendedKeys: Type.Array(
                Type.Object({
                  keyId: Type.String(),
                  suspendedAt: Type.String({
                    description: 'When the escalation rule suspended it',
                  }),
                  reason: Type.String(),
                }),
              ),
            }),
            ...errorResponses(401, 403),
          },
        },
      },
      async () => bucket.threats.catalogue(),
    );

    app.post(
      '/v1/keys/:id/reinstate',
      {
        config: { action: 'keys.reinstate' },
        schema: {
          tags: ['keys'],
          summary: 'Lift the suspension of a key (owner)',
          params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
          response: {
            200: Type.Object({ keyId: Type.String(), reinstated: Type.Boolean() }),
            ...errorResponses(401, 403, 404),
          },
        },
      },
      async (request) =>
        bucket.threats.reinstate(request.params.id, request.allowedAction?.entry ?? undefined),
    );
  };
