/** `GET /v1/governance/policy`: the live policy document, its version and hash. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { errorResponses } from '../schemas.js';

export const policyRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      '/v1/governance/policy',
      {
        config: { action: 'policy.read' },
        schema: {
          tags: ['governance'],
          summary: 'The live policy document',
          response: {
            200: Type.Object({
              version: Type.Integer(),
              hash: Type.String(),
              document: Type.Any(),
            }),
            ...errorResponses(401, 403),
          },
        },
      },
      async () => {
        const policy = bucket.policies.current();
        return { version: policy.version, hash: policy.hash, document: policy.document };
      },
    );
  };
