/**
 * `POST /v1/batch` (SPEC §15): NDJSON in, one result per item out. The batch as a whole is decided
 * first (`artifact.batch`: who may send one, the mode) before its body is read; then every item
 * is decided, versioned, audited and announced as its own write or delete (services/artifacts/
 * batch.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { BucketError } from '../../domain/errors.js';
import { mediaTypeOf } from '../../gate/stages/content.js';
import type { BatchOutcome } from '../../services/artifacts/index.js';
import { writeAnswer } from '../artifact-headers.js';
import { BATCH_MAX_BYTES, batchItems, readBatchBody } from '../batch-items.js';
import { answerFor, errorBody } from '../errors.js';
import { discardRest } from '../discard.js';
import { continueBody } from '../expect-continue.js';
import { requestInfo } from '../request.js';
import { errorResponses, WriteAnswer } from '../schemas.js';

const NDJSON = 'application/x-ndjson';

const ItemResult = Type.Object({
  index: Type.Integer(),
  status: Type.Integer(),
  artifact: Type.Optional(WriteAnswer),
  error: Type.Optional(Type.Any({ description: 'The error object of SPEC §3' })),
});

const BatchAnswer = Type.Object({
  items: Type.Array(ItemResult),
  summary: Type.Object({ succeeded: Type.Integer(), failed: Type.Integer() }),
});

export const batchRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    // The body is read by the handler, counted as it arrives (at most 64 MiB).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));

    app.post(
      '/v1/batch',
      {
        config: { action: 'artifact.batch', shed: true, batchItems },
        schema: {
          tags: ['artifacts'],
          summary: 'Write and delete many artifacts in one request (NDJSON, one item per line)',
          description:
            'Content-Type: application/x-ndjson. Each line is {"op":"put","product","class",' +
            '"name","contentType"?,"json"?|"base64"?,"meta"?,"sha256"?,"ifNoneMatch"?:"*",' +
            '"ifVersion"?} or {"op":"delete","product","class","name"}. At most limits.maxBatch ' +
            `items (500) and ${BATCH_MAX_BYTES / 1024 / 1024} MiB, else 400 batch_too_large and ` +
            'nothing is written. Each item is its own decision, version, audit entry and event, ' +
            'and counts as one write; the batch takes one write slot. Answer 200 with a result ' +
            'per item (status, the PUT answer or the error object). ?atomic=true: all items or ' +
            'none — each name at most once; after any failure nothing is written, the other ' +
            'items fail with batch_aborted and the answer is 409 with the same body.',
          querystring: Type.Object({ atomic: Type.Optional(Type.Boolean()) }),
          response: {
            200: BatchAnswer,
            409: Type.Union([BatchAnswer, Type.Ref('ErrorEnvelope')]),
            ...errorResponses(400, 401, 403, 415, 429, 503),
          },
        },
      },
      async (request, reply) => {
        const media = mediaTypeOf(request.headers['content-type'] ?? null);
        if (media !== NDJSON) {
          throw new BucketError('unsupported_media_type', `a batch is ${NDJSON}, one item a line`);
        }
        const info = requestInfo(request);
        // The slot first, as a single write takes it before its body: no slot, nothing is read.
        const slot = await bucket.artifacts.batchSlot(info.principal.product ?? 'core');
        if (slot === null) {
          discardRest(request);
          throw new BucketError(
            'rate_limited',
            "no write slot is free for a batch (limits.concurrentWrites, or this product's " +
              'share of them); nothing was read or written: retry after Retry-After',
            { headers: { 'retry-after': '1' } },
          );
        }
        let outcomes: BatchOutcome[];
        const atomic = request.query.atomic === true;
        try {
          continueBody(request, reply);
          let body: Buffer;
          try {
            body = await readBatchBody(request.raw, declaredLength(request));
          } catch (error) {
            discardRest(request);
            throw error;
          }
          const { maxBatch } = bucket.policies.current().document.limits;
          // The reader of this route's config: the one certification L4 checks.
          const read = request.routeOptions.config.batchItems ?? batchItems;
          outcomes = await bucket.artifacts.batch(info, read(body, maxBatch), atomic);
        } finally {
          slot.release();
        }
        const results = outcomes.map((outcome) => itemResult(request.id, outcome));
        const failed = results.filter((result) => result.error !== undefined).length;
        // SPEC §15: an atomic batch with a failure wrote nothing and answers 409, same body.
        return reply.code(atomic && failed > 0 ? 409 : 200).send({
          items: results,
          summary: { succeeded: results.length - failed, failed },
        });
      },
    );
  };

function declaredLength(request: FastifyRequest): number | null {
  const header = request.headers['content-length'];
  const length = header === undefined ? NaN : Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : null;
}

function itemResult(batchId: string, outcome: BatchOutcome) {
  if (outcome.ok) {
    const { result } = outcome;
    const status = result.version.tombstone ? 204 : result.created ? 201 : 200;
    return {
      index: outcome.index,
      status,
      artifact: writeAnswer(result.version, result.receipt),
    };
  }
  const error = answerFor(outcome.error);
  return {
    index: outcome.index,
    status: error.status,
    error: errorBody(`${batchId}.${outcome.index}`, error.code, error.message, {
      decision: error.decision,
      details: error.details,
    }).error,
  };
}
