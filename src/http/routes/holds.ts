/**
 * Legal holds and the retention sweep (SPEC §8): `/v1/governance/holds` (the owner places and
 * lifts; owner, executor and auditor read) and `POST /v1/governance/retention/sweep` (owner,
 * executor).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { BucketError } from '../../domain/errors.js';
import { holdView } from '../../domain/holds.js';
import { SUBJECT_PATTERN } from '../../domain/subjects.js';
import { requestInfo } from '../request.js';
import { errorResponses } from '../schemas.js';

const Scope = Type.Union([
  Type.Object(
    {
      product: Type.String({ minLength: 1, maxLength: 64 }),
      class: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
      prefix: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { subject: Type.String({ pattern: SUBJECT_PATTERN }) },
    { additionalProperties: false },
  ),
]);

const Hold = Type.Object({
  id: Type.String(),
  scope: Type.Any(),
  caseRef: Type.String(),
  reason: Type.String(),
  placedAt: Type.String(),
  placedBy: Type.String(),
  liftedAt: Type.Union([Type.String(), Type.Null()]),
  liftedBy: Type.Union([Type.String(), Type.Null()]),
  liftReason: Type.Union([Type.String(), Type.Null()]),
});

const Purged = Type.Object({
  product: Type.String(),
  class: Type.String(),
  name: Type.String(),
  version: Type.Integer(),
  sha256: Type.String(),
  reason: Type.String(),
});

export const holdRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.post(
      '/v1/governance/holds',
      {
        config: { action: 'holds.place', answers: 201 },
        schema: {
          tags: ['governance'],
          summary: 'Place a legal hold on a product, class, name prefix or data subject (owner)',
          body: Type.Object(
            {
              scope: Scope,
              caseRef: Type.String({ minLength: 1, maxLength: 200 }),
              reason: Type.String({ minLength: 1, maxLength: 1000 }),
            },
            { additionalProperties: false },
          ),
          response: { 201: Hold, ...errorResponses(400, 401, 403) },
        },
      },
      async (request, reply) => {
        const hold = await bucket.holds.place(
          request.body,
          requestInfo(request).principal,
          request.allowedAction?.entry ?? undefined,
        );
        return reply.code(201).send(holdView(hold));
      },
    );

    app.get(
      '/v1/governance/holds',
      {
        config: { action: 'holds.read' },
        schema: {
          tags: ['governance'],
          summary: 'Every legal hold, lifted ones included (history); ?active=true: those in force',
          querystring: Type.Object({ active: Type.Optional(Type.Boolean()) }),
          response: {
            200: Type.Object({ holds: Type.Array(Hold) }),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request) => ({
        holds: (await bucket.holds.list(request.query.active === true)).map(holdView),
      }),
    );

    app.delete(
      '/v1/governance/holds/:id',
      {
        config: { action: 'holds.lift' },
        schema: {
          tags: ['governance'],
          summary: 'Lift a legal hold (owner); it stays in the history with liftedAt',
          params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
          querystring: Type.Object({
            reason: Type.String({ minLength: 1, maxLength: 1000 }),
          }),
          response: { 200: Hold, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request) => {
        const hold = await bucket.holds.lift(
          request.params.id,
          request.query.reason,
          requestInfo(request).principal,
          request.allowedAction?.entry ?? undefined,
        );
        return holdView(hold);
      },
    );

    app.post(
      '/v1/governance/retention/sweep',
      {
        config: { action: 'retention.sweep' },
        schema: {
          tags: ['governance'],
          summary:
            'Run the retention sweep now (owner, executor); dryRun lists what it would purge',
          body: Type.Object(
            { dryRun: Type.Optional(Type.Boolean()) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              purged: Type.Array(Purged),
              kept: Type.Integer(),
              dryRun: Type.Boolean(),
            }),
            ...errorResponses(400, 401, 403, 409),
          },
        },
      },
      async (request) => {
        const decision = request.allowedAction?.decision;
        if (!decision) throw new BucketError('internal_error', 'the sweep was not decided');
        return bucket.retentionSweep.sweep({
          dryRun: request.body?.dryRun === true,
          decision,
          requestId: request.id,
        });
      },
    );
  };
