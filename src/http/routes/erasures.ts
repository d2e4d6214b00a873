/**
 * Erasure of a data subject (SPEC §8, GDPR Art. 17): `POST /v1/governance/erasures` (owner) →
 * 201 with the report; `GET /v1/governance/erasures/{id}` (owner, executor, auditor) → the same
 * report again.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { BucketError } from '../../domain/errors.js';
import { SUBJECT_PATTERN } from '../../domain/subjects.js';
import { requestInfo } from '../request.js';
import { errorResponses } from '../schemas.js';

const Place = {
  product: Type.String(),
  class: Type.String(),
  name: Type.String(),
  version: Type.Integer(),
};

const Report = Type.Object({
  id: Type.String(),
  subject: Type.String(),
  reason: Type.String(),
  requestedAt: Type.String(),
  completedAt: Type.String(),
  erased: Type.Array(Type.Object({ ...Place, sha256: Type.String() })),
  withheld: Type.Array(
    Type.Object({
      ...Place,
      reason: Type.Union([Type.Literal('legal_hold'), Type.Literal('compliance_retention')]),
    }),
  ),
  keyDestroyed: Type.Boolean({ description: 'This erasure destroyed the subject’s live key' }),
  keyFound: Type.Optional(
    Type.Boolean({
      description:
        'The subject had a live key when the erasure ran (false: no encrypted content ever, or ' +
        'an earlier erasure destroyed it); absent from reports made before it was recorded',
    }),
  ),
  audit: Type.Object({ leafIndex: Type.Integer(), leafHash: Type.String() }),
});

export const erasureRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.post(
      '/v1/governance/erasures',
      {
        config: { action: 'erasures.create', answers: 201 },
        schema: {
          tags: ['governance'],
          summary: "Erase a data subject's contents (owner, GDPR Art. 17)",
          description:
            'Purges every version of the subject not withheld (a legal hold, a compliance ' +
            'retention not ended; governance retention is overridden), destroys its key when ' +
            'it has one and nothing is withheld (keyFound says whether it had one), and answers with the report, whose SHA-256 is in the audit ' +
            'entry of the erasure (RFC 8785 JSON of the report without its `audit` member).',
          body: Type.Object(
            {
              subject: Type.String({ pattern: SUBJECT_PATTERN }),
              reason: Type.String({ minLength: 1, maxLength: 1000 }),
            },
            { additionalProperties: false },
          ),
          response: { 201: Report, ...errorResponses(400, 401, 403, 503) },
        },
      },
      async (request, reply) => {
        const entry = request.allowedAction?.entry;
        const decision = request.allowedAction?.decision;
        if (!entry || !decision) throw new BucketError('internal_error', 'no pending entry');
        const info = requestInfo(request);
        const report = await bucket.erasures.erase(request.body, {
          decision,
          entry,
          requestId: info.requestId,
          principal: info.principal,
        });
        return reply.code(201).send(report);
      },
    );

    app.get(
      '/v1/governance/erasures/:id',
      {
        config: { action: 'erasures.read' },
        schema: {
          tags: ['governance'],
          summary: "An erasure's report, again (owner, executor, auditor)",
          params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
          response: { 200: Report, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => bucket.erasures.get(request.params.id),
    );
  };
