/**
 * The audit log (SPEC §6, pinned endpoints): entries, checkpoints, the verifier key, inclusion and
 * consistency proofs, and the export for offline verification.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Readable } from 'node:stream';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { BucketError } from '../../domain/errors.js';
import { errorResponses } from '../schemas.js';
import { AUDIT_SCAN_WINDOW } from '../../services/audit.js';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
const Hex = Type.String({ pattern: '^[0-9a-f]*$' });
const Index = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

const EntryView = Type.Object({
  index: Type.Integer(),
  entry: Type.Any({ description: 'The decision record with index, time and requestId' }),
  canonical: Type.String({ description: 'The exact RFC 8785 bytes that are the Merkle leaf' }),
  leafHash: Hex,
});

function artifactFilter(value: string | undefined) {
  if (value === undefined) return undefined;
  const [product, cls, ...name] = value.split('/');
  if (!product || !cls || name.length === 0 || name.join('/') === '') {
    throw new BucketError('invalid_request', 'artifact must be <product>/<class>/<name>');
  }
  return { product, class: cls, name: name.join('/') };
}

function cursorIndex(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  if (!/^\d{1,16}$/.test(cursor)) {
    throw new BucketError('invalid_cursor', 'the cursor is not one this Bucket issued');
  }
  return Number(cursor);
}

function sinceFilter(since: string | undefined): string | undefined {
  if (since === undefined) return undefined;
  const time = Date.parse(since);
  if (Number.isNaN(time)) {
    throw new BucketError('invalid_request', 'since must be an ISO-8601 date-time');
  }
  return new Date(time).toISOString();
}

export const auditRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.get(
      '/v1/audit/entries',
      {
        config: { action: 'audit.read' },
        schema: {
          tags: ['audit'],
          summary: 'Audit entries in index order (a product key sees only its own namespace’s)',
          description:
            'An `artifact` filter is answered from its index. Any other query reads at most ' +
            `${AUDIT_SCAN_WINDOW} entries of the log per request, so its page may be short, even ` +
            'empty, with a `nextCursor` where the read stopped: follow `nextCursor` until it is ' +
            'null. `since` starts at the first entry appended at or after that time.',
          querystring: Type.Object({
            artifact: Type.Optional(
              Type.String({ maxLength: 700, description: '<product>/<class>/<name>' }),
            ),
            principal: Type.Optional(Type.String({ maxLength: 100 })),
            decision: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('deny')])),
            threat: Type.Optional(Type.String({ pattern: '^T[1-7]$' })),
            since: Type.Optional(Type.String({ maxLength: 40 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE })),
            cursor: Type.Optional(Type.String({ maxLength: 20 })),
          }),
          response: {
            200: Type.Object({
              entries: Type.Array(EntryView),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            }),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request) => {
        const { query } = request;
        const principal = request.principal;
        if (!principal) throw new BucketError('unauthenticated');
        return bucket.audit.entries(principal, {
          artifact: artifactFilter(query.artifact),
          principal: query.principal,
          allow: query.decision === undefined ? undefined : query.decision === 'allow',
          threat: query.threat,
          since: sinceFilter(query.since),
          afterIndex: cursorIndex(query.cursor),
          limit: query.limit ?? DEFAULT_PAGE,
        });
      },
    );

    app.get(
      '/v1/audit/entries/:index',
      {
        config: { action: 'audit.read' },
        schema: {
          tags: ['audit'],
          summary: 'One entry with its canonical bytes and leaf hash',
          params: Type.Object({ index: Index }),
          response: { 200: EntryView, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => {
        const principal = request.principal;
        if (!principal) throw new BucketError('unauthenticated');
        return bucket.audit.entry(principal, request.params.index);
      },
    );

    app.get(
      '/v1/audit/checkpoint',
      {
        config: { action: 'audit.read' },
        schema: {
          tags: ['audit'],
          summary: 'The signed checkpoint (C2SP tlog-checkpoint) of the current tree',
          response: {
            200: Type.Object({
              origin: Type.String(),
              size: Type.Integer(),
              rootHash: Hex,
              note: Type.String({ description: 'The C2SP signed note' }),
            }),
            ...errorResponses(401, 403),
          },
        },
      },
      async () => bucket.audit.checkpoint(),
    );

    app.get(
      '/v1/audit/public-key',
      {
        config: { action: 'audit.read' },
        schema: {
          tags: ['audit'],
          summary: 'The checkpoint verifier key (Ed25519)',
          response: {
            200: Type.Object({
              name: Type.String(),
              publicKey: Type.String({ description: 'base64, 32 bytes' }),
              keyId: Hex,
              vkey: Type.String({ description: '<name>+<key id>+<base64(0x01 ‖ key)>' }),
            }),
            ...errorResponses(401, 403),
          },
        },
      },
      async () => bucket.audit.publicKey(),
    );

    app.get(
      '/v1/audit/proof/inclusion',
      {
        config: { action: 'audit.read' },
        schema: {
          tags: ['audit'],
          summary: 'RFC 9162 inclusion proof of entry `index` in the tree of `size` entries',
          querystring: Type.Object({ index: Index, size: Type.Optional(Index) }),
          response: {
            200: Type.Object({
              index: Type.Integer(),
              size: Type.Integer(),
              leafHash: Hex,
              rootHash: Hex,
              proof: Type.Array(Hex),
            }),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request) => bucket.audit.inclusionProof(request.query.index, request.query.size),
    );

    app.get(
      '/v1/audit/proof/consistency',
      {
        config: { action: 'audit.read' },
        schema: {
          tags: ['audit'],
          summary: 'RFC 9162 consistency proof between the trees of `from` and `to` entries',
          querystring: Type.Object({ from: Index, to: Type.Optional(Index) }),
          response: {
            200: Type.Object({
              from: Type.Integer(),
              to: Type.Integer(),
              fromRoot: Hex,
              toRoot: Hex,
              proof: Type.Array(Hex),
            }),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request) => bucket.audit.consistencyProof(request.query.from, request.query.to),
    );

    app.get(
      '/v1/audit/export',
      {
        config: { action: 'audit.export' },
        schema: {
          tags: ['audit'],
          summary: 'JSON lines for offline verification: header, entries [from, to), checkpoint',
          description:
            'A namespace key (other than the Workflow Engine’s) exports the entries it may see, ' +
            'each with its inclusion proof against the checkpoint; the header names its ' +
            '`filter`.',
          querystring: Type.Object({ from: Type.Optional(Index), to: Type.Optional(Index) }),
          response: { ...errorResponses(400, 401, 403) },
        },
      },
      async (request, reply) => {
        const principal = request.principal;
        if (!principal) throw new BucketError('unauthenticated');
        const { from, to } = request.query;
        const lines = bucket.audit.exportLines(principal, from ?? 0, to);
        const iterator = lines[Symbol.asyncIterator]();
        // The first line is produced before answering, so bad parameters get a 400, not a cut stream.
        const first = await iterator.next();
        async function* rest() {
          if (!first.done) yield first.value;
          for (;;) {
            const next = await iterator.next();
            if (next.done) return;
            yield next.value;
          }
        }
        reply.header('content-type', 'application/x-ndjson');
        return reply.send(Readable.from(rest()));
      },
    );

    // Any write to the audit log is a T3 detection (SPEC §5), not a 404: the gate refuses it
    // (action `audit.write`, stage 1) before the body is read, so the handler never runs.
    app.route({
      method: ['POST', 'PUT', 'PATCH', 'DELETE'],
      url: '/v1/audit/*',
      config: { action: 'audit.write' },
      schema: { hide: true },
      handler: async () => {
        throw new BucketError('forbidden', 'the audit log is written by the Bucket only');
      },
    });
  };
