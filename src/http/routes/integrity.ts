/**
 * The integrity scrub and drift (SPEC §9): `POST /v1/governance/scrub` (owner, executor) → 202,
 * `GET /v1/governance/scrub/{id}` and `GET /v1/governance/drift` (owner, executor, auditor).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { BucketError } from '../../domain/errors.js';
import { scrubView } from '../../domain/scrub.js';
import { requestInfo } from '../request.js';
import { errorResponses } from '../schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const Scrub = Type.Object({
  id: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('passed'), Type.Literal('failed')]),
  checked: Type.Object({
    contents: Type.Integer(),
    entries: Type.Integer(),
    versions: Type.Integer(),
  }),
  problems: Type.Array(Type.Object({ code: Type.String(), message: Type.String() })),
  startedAt: Type.String(),
  finishedAt: Nullable(Type.String()),
  startedBy: Type.String(),
  checkpoint: Nullable(Type.Object({ size: Type.Integer(), rootHash: Type.String() })),
});

const Check = Type.Object({
  component: Type.String(),
  baseline: Type.String(),
  live: Type.String(),
  explained: Type.Boolean(),
  explanation: Nullable(Type.String()),
});

const Drift = Type.Object({
  status: Type.Union([Type.Literal('clean'), Type.Literal('explained'), Type.Literal('drifted')]),
  baseline: Type.Object({
    sequence: Type.Integer(),
    createdAt: Type.String(),
    reason: Type.String(),
    schemaVersion: Type.Integer(),
    codeVersion: Type.String(),
    policyVersion: Type.Integer(),
    components: Type.Record(Type.String(), Type.String()),
    signature: Type.String(),
    signatureValid: Type.Boolean(),
  }),
  checks: Type.Array(Check),
  checkedAt: Type.String(),
});

export const integrityRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.post(
      '/v1/governance/scrub',
      {
        config: { action: 'scrub.start', answers: 202 },
        schema: {
          tags: ['governance'],
          summary: 'Start an integrity scrub in the background (owner, executor)',
          response: {
            202: Type.Object({ id: Type.String(), status: Type.Literal('running') }),
            ...errorResponses(401, 403, 409),
          },
        },
      },
      async (request, reply) => {
        const record = await bucket.scrub.begin(requestInfo(request).principal.id);
        if (!record) throw new BucketError('scrub_running', 'a scrub is running; retry later');
        return reply.code(202).send({ id: record.id, status: 'running' as const });
      },
    );

    app.get(
      '/v1/governance/scrub/:id',
      {
        config: { action: 'scrub.read' },
        schema: {
          tags: ['governance'],
          summary: 'A scrub: its status, what it checked so far, what it found',
          params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
          response: { 200: Scrub, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => scrubView(await bucket.scrub.get(request.params.id)),
    );

    app.get(
      '/v1/governance/drift',
      {
        config: { action: 'drift.read' },
        schema: {
          tags: ['governance'],
          summary: 'The live Bucket against its signed baseline (checked now)',
          response: { 200: Drift, ...errorResponses(401, 403) },
        },
      },
      async () => bucket.drift.check(),
    );
  };
