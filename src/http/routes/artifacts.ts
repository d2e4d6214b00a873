/**
 * Artifacts API (SPEC §3). Bodies are never parsed here: the raw request stream goes to the
 * service, which streams it into storage while hashing it.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { MAX_VERSION } from '../../domain/artifact.js';
import { BucketError } from '../../domain/errors.js';
import { SHA256_HEX } from '../../domain/sha256.js';
import type { WriteResult } from '../../services/artifacts/index.js';
import {
  contentHeaders,
  etagMatches,
  etagOf,
  lastModifiedOf,
  nonNegativeInteger,
  receiptHeaders,
  singleHeader,
  userMeta,
  writeAnswer,
} from '../artifact-headers.js';
import { discardRest } from '../discard.js';
import { continueBody } from '../expect-continue.js';
import { ifRangeHolds } from '../if-range.js';
import { parseRange } from '../range.js';
import { errorResponses, ListItem, WriteAnswer } from '../schemas.js';
import { requestInfo } from '../request.js';
import { putRetention, RETENTION_SUFFIX } from './retention.js';

const ArtifactParams = Type.Object({
  product: Type.String({ maxLength: 64 }),
  class: Type.String({ maxLength: 64 }),
  '*': Type.String({ description: 'The artifact name (may contain /)' }),
});

export const artifactRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    // Bodies stay unread streams: the service consumes request.raw itself.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));

    type Params = { product: string; class: string; '*': string };
    const target = (request: FastifyRequest, params: Params) => ({
      ...requestInfo(request),
      product: params.product,
      class: params.class,
      name: params['*'],
    });

    const sendWrite = (request: FastifyRequest, reply: FastifyReply, result: WriteResult) => {
      request.decision = result.decision;
      receiptHeaders(reply, result.receipt);
      return reply
        .code(result.created ? 201 : 200)
        .send(writeAnswer(result.version, result.receipt));
    };

    app.put(
      '/v1/artifacts/:product/:class/*',
      {
        config: { gatedByService: true, shed: true },
        schema: {
          tags: ['artifacts'],
          summary: 'Write a new version (the body is the content, streamed)',
          description:
            'Headers: Content-Type (JSON classes require application/json), x-bucket-meta-* ' +
            '(≤ 8 KiB), x-bucket-sha256 (verified), If-None-Match: * (412 if the name exists), ' +
            'x-bucket-if-version (409 unless the current version is n). ' +
            "PUT …/{name}/retention (owner, SPEC §8) changes a version's retention instead: body " +
            '{"until": ISO-8601 | null, "reason", "version"?}, answer 200 {product, class, name, ' +
            'version, retention, previous}; shortening compliance retention is 403 ' +
            'compliance_retention (T3).',
          params: ArtifactParams,
          response: {
            200: WriteAnswer,
            201: WriteAnswer,
            ...errorResponses(400, 401, 403, 404, 409, 410, 412, 413, 415, 422, 429, 503, 507),
          },
        },
      },
      async (request, reply) => {
        if (request.params['*'].endsWith(RETENTION_SUFFIX)) {
          return putRetention(bucket, request, reply, request.params);
        }
        const ifNoneMatch = singleHeader(request, 'if-none-match');
        if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
          throw new BucketError('invalid_request', 'PUT supports only If-None-Match: *');
        }
        const sha256Claim = singleHeader(request, 'x-bucket-sha256')?.trim().toLowerCase();
        if (sha256Claim !== undefined && !SHA256_HEX.test(sha256Claim)) {
          throw new BucketError('invalid_request', 'x-bucket-sha256 must be 64 hex digits');
        }
        const declared = singleHeader(request, 'content-length');
        try {
          const info = requestInfo(request);
          const result = await bucket.artifacts.put({
            requestId: info.requestId,
            principal: info.principal,
            query: info.query,
            headerNames: info.headerNames,
            product: request.params.product,
            class: request.params.class,
            name: request.params['*'],
            contentType: singleHeader(request, 'content-type') ?? null,
            declaredSize: nonNegativeInteger(declared, 'content-length'),
            meta: userMeta(request),
            preconditions: {
              ifNoneMatch: ifNoneMatch !== undefined,
              ifVersion: nonNegativeInteger(
                singleHeader(request, 'x-bucket-if-version'),
                'x-bucket-if-version',
              ),
            },
            sha256Claim: sha256Claim ?? null,
            body: request.raw,
            beforeBody: () => continueBody(request, reply),
          });
          return sendWrite(request, reply, result);
        } catch (error) {
          // A client cut for its slowness does not get to send another request on the connection.
          if (error instanceof BucketError && error.code === 'request_timeout') {
            reply.header('connection', 'close');
          }
          discardRest(request);
          throw error;
        }
      },
    );

    const readContent = async (
      request: FastifyRequest,
      reply: FastifyReply,
      params: Params,
      query: { version?: number | undefined },
      withBody: boolean,
    ) => {
      // Field by field, like every request the services decide on (see gate/context.ts).
      const info = requestInfo(request);
      const read = await bucket.artifacts.read({
        requestId: info.requestId,
        principal: info.principal,
        query: info.query,
        headerNames: info.headerNames,
        product: params.product,
        class: params.class,
        name: params['*'],
        version: query.version,
        content: withBody,
      });
      const { version } = read;
      contentHeaders(reply, version);
      if (read.legalHold) reply.header('x-bucket-legal-hold', 'on');
      if (etagMatches(singleHeader(request, 'if-none-match'), version.sha256)) {
        return reply.code(304).send();
      }
      const validators = { etag: etagOf(version), lastModified: lastModifiedOf(version) };
      // A range asked for other content than this one is ignored: the whole is sent.
      const range = ifRangeHolds(singleHeader(request, 'if-range'), validators)
        ? parseRange(singleHeader(request, 'range'), version.size)
        : ({ kind: 'full' } as const);
      if (range.kind === 'unsatisfiable') {
        throw new BucketError('invalid_range', `the content has ${version.size} bytes`, {
          headers: { 'content-range': `bytes */${version.size}` },
        });
      }
      if (range.kind === 'partial') {
        const { start, end } = range.range;
        reply.code(206);
        reply.header('content-range', `bytes ${start}-${end}/${version.size}`);
        reply.header('content-length', String(end - start + 1));
        return reply.send(withBody ? await read.open(range.range) : undefined);
      }
      reply.header('content-length', String(version.size));
      return reply.send(withBody ? await read.open() : undefined);
    };

    const VersionQuery = Type.Object({
      version: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_VERSION })),
    });

    app.get(
      '/v1/artifacts/:product/:class/*',
      {
        exposeHeadRoute: false,
        config: { gatedByService: true, shed: true },
        schema: {
          tags: ['artifacts'],
          summary: 'Read the content (Range supported); a name ending in /versions lists versions',
          description:
            'Headers: Range (one byte range → 206, past the end → 416), If-Range (an ETag or the ' +
            'Last-Modified date: the Range is honoured only while it still matches, strongly — a ' +
            'weak W/ tag never does; otherwise 200 with the whole content), If-None-Match (304 ' +
            'when the ETag matches).',
          params: ArtifactParams,
          querystring: VersionQuery,
          response: {
            200: Type.Any({ description: 'The content, or the versions list for …/versions' }),
            ...errorResponses(400, 401, 403, 404, 410, 416, 429),
          },
        },
      },
      async (request, reply) => {
        const name = request.params['*'];
        if (name.endsWith('/versions')) {
          const versions = await bucket.artifacts.versions({
            ...target(request, request.params),
            name: name.slice(0, -'/versions'.length),
          });
          return reply.send({
            versions: versions.map((v) => ({
              version: v.version,
              sha256: v.sha256,
              size: v.size,
              createdAt: v.createdAt,
              createdBy: v.createdBy,
              tombstone: v.tombstone,
              ...(v.purged ? { purged: v.purged } : {}),
            })),
          });
        }
        return readContent(request, reply, request.params, request.query, true);
      },
    );

    app.head(
      '/v1/artifacts/:product/:class/*',
      {
        config: { gatedByService: true, shed: true },
        schema: {
          tags: ['artifacts'],
          summary: 'The headers of a read, without the content',
          params: ArtifactParams,
          querystring: VersionQuery,
        },
      },
      async (request, reply) => readContent(request, reply, request.params, request.query, false),
    );

    app.delete(
      '/v1/artifacts/:product/:class/*',
      {
        config: { gatedByService: true, shed: true },
        schema: {
          tags: ['artifacts'],
          summary: 'Tombstone the artifact (only classes that allow DELETE)',
          params: ArtifactParams,
          response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 429) },
        },
      },
      async (request, reply) => {
        const result = await bucket.artifacts.delete(target(request, request.params));
        request.decision = result.decision;
        reply.header('x-bucket-version', String(result.version.version));
        receiptHeaders(reply, result.receipt);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/v1/artifacts/:product/:class/*',
      {
        config: { gatedByService: true, shed: true },
        schema: {
          tags: ['artifacts'],
          summary: 'POST …/{name}/restore: undo a tombstone within 90 days',
          params: ArtifactParams,
          response: { 200: WriteAnswer, ...errorResponses(401, 403, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        const name = request.params['*'];
        if (!name.endsWith('/restore')) {
          throw new BucketError('not_found', 'POST is only for …/{name}/restore');
        }
        const result = await bucket.artifacts.restore({
          ...target(request, request.params),
          name: name.slice(0, -'/restore'.length),
        });
        return sendWrite(request, reply, result);
      },
    );

    app.get(
      '/v1/artifacts/:product',
      {
        config: { gatedByService: true, shed: true },
        schema: {
          tags: ['artifacts'],
          summary: 'List the live artifacts of a product, in (class, name) order',
          params: Type.Object({ product: Type.String({ maxLength: 64 }) }),
          querystring: Type.Object({
            class: Type.Optional(Type.String({ maxLength: 64 })),
            prefix: Type.Optional(Type.String({ maxLength: 512 })),
            limit: Type.Optional(Type.Integer({ minimum: 1 })),
            cursor: Type.Optional(Type.String({ maxLength: 2048 })),
          }),
          response: {
            200: Type.Object({
              items: Type.Array(ListItem),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            }),
            ...errorResponses(400, 401, 403, 404, 429),
          },
        },
      },
      async (request) => {
        const page = await bucket.artifacts.list({
          ...requestInfo(request),
          product: request.params.product,
          class: request.query.class,
          prefix: request.query.prefix,
          limit: request.query.limit,
          cursor: request.query.cursor,
        });
        return {
          items: page.items.map((v) => ({
            class: v.class,
            name: v.name,
            version: v.version,
            sha256: v.sha256,
            size: v.size,
            updatedAt: v.createdAt,
            // The head's content is gone (a read answers 410): said here as in …/versions.
            ...(v.purged ? { purged: v.purged } : {}),
          })),
          nextCursor: page.nextCursor,
        };
      },
    );
  };
