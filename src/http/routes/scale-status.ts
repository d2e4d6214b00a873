/**
 * `GET /v1/metrics/scale-status` (SPEC §7): every enforced limit with its live reading and band.
 * Decided as `gate.read`, like `GET /governance/gate/scale-limits` (SPEC §4.2): the same facts, so
 * the same readers — owner, executor, auditor, and product keys (their own product's quota).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { BucketError } from '../../domain/errors.js';
import { scaleReadings } from '../../services/scale.js';
import { errorResponses } from '../schemas.js';

const Reading = Type.Object({
  name: Type.String(),
  limit: Type.Number(),
  current: Type.Number(),
  ratio: Type.Number(),
  status: Type.Union([
    Type.Literal('GREEN'),
    Type.Literal('YELLOW'),
    Type.Literal('ORANGE'),
    Type.Literal('RED'),
  ]),
});

export function scaleStatusRoutes(bucket: Bucket): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/metrics/scale-status',
      {
        config: { action: 'gate.read' },
        schema: {
          tags: ['governance'],
          summary: 'Every enforced limit with its live reading and status band',
          description:
            'Rates, write concurrency, storage capacity and artifact count (`storage_capacity`, ' +
            '`artifacts`), the p99 event-loop delay against the latency limit (`latency`, ' +
            'ms), and per product `quota:<product>` and `artifacts:<product>` — a ' +
            "product key sees only its own product's.",
          response: {
            200: Type.Object({ limits: Type.Array(Reading) }),
            ...errorResponses(401, 403),
          },
        },
      },
      async (request) => {
        const principal = request.principal;
        if (!principal) throw new BucketError('unauthenticated');
        const { policies, limiter, metadata, eventLoop } = bucket;
        return {
          limits: await scaleReadings(policies, limiter, metadata, principal, eventLoop),
        };
      },
    );
  };
}
