/**
 * The event bus (SPEC §10, pinned): pages of CloudEvents after a cursor, and a Server-Sent Events
 * stream resumable with `Last-Event-ID`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { BucketError } from '../../domain/errors.js';
import { errorResponses } from '../schemas.js';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
const Cursor = Type.String({ pattern: '^[0-9]{1,15}$', description: 'An event id (the cursor)' });
const TypePrefix = Type.String({
  maxLength: 100,
  description: 'Only events whose type starts with it, e.g. `bucket.artifact.`',
});

const CloudEventView = Type.Object({
  specversion: Type.Literal('1.0'),
  id: Type.String(),
  source: Type.String(),
  type: Type.String(),
  subject: Type.String(),
  time: Type.String(),
  datacontenttype: Type.Literal('application/json'),
  data: Type.Record(Type.String(), Type.Unknown()),
  bucketproduct: Type.Union([Type.String(), Type.Null()]),
  auditindex: Type.Union([Type.Integer(), Type.Null()]),
});

/** The cursor to resume after: `Last-Event-ID` (a reconnecting client's) before `?since`. */
function resumeCursor(lastEventId: string | string[] | undefined, since: string | undefined) {
  const value = Array.isArray(lastEventId) ? lastEventId[0] : lastEventId;
  const cursor = value ?? since ?? '0';
  if (!/^[0-9]{1,15}$/.test(cursor)) {
    throw new BucketError('invalid_cursor', 'Last-Event-ID must be an event id this Bucket issued');
  }
  return Number(cursor);
}

export const eventRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    // Open streams would keep the server from closing: they end first (clients resume).
    app.addHook('preClose', (done) => {
      bucket.events.close();
      done();
    });

    app.get(
      '/v1/events',
      {
        config: { action: 'events.read' },
        schema: {
          tags: ['events'],
          summary: 'CloudEvents after a cursor, oldest first (a product key sees its own)',
          description:
            '`nextCursor` is where the next page starts (`since`): every event up to it was ' +
            'looked at, so a client polling with it misses none and sees none twice.',
          querystring: Type.Object({
            since: Type.Optional(Cursor),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE })),
            type: Type.Optional(TypePrefix),
            product: Type.Optional(Type.String({ maxLength: 100 })),
          }),
          response: {
            200: Type.Object({ events: Type.Array(CloudEventView), nextCursor: Cursor }),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request) => {
        const principal = request.principal;
        if (!principal) throw new BucketError('unauthenticated');
        const { query } = request;
        return bucket.events.page(principal, {
          since: Number(query.since ?? '0'),
          limit: query.limit ?? DEFAULT_PAGE,
          type: query.type,
          product: query.product,
        });
      },
    );

    app.get(
      '/v1/events/stream',
      {
        config: { action: 'events.read' },
        schema: {
          tags: ['events'],
          summary: 'Server-Sent Events: every event after the cursor, then each as it commits',
          description:
            'Frames are `id: <cursor>`, `event: <type>`, `data: <the CloudEvent>`. A reconnecting ' +
            'client sends `Last-Event-ID` and resumes after it; a comment line keeps an idle ' +
            'stream open every 15 s; a client that does not keep up is disconnected (it resumes ' +
            'from its cursor).',
          querystring: Type.Object({
            since: Type.Optional(Cursor),
            type: Type.Optional(TypePrefix),
          }),
          headers: Type.Object({ 'last-event-id': Type.Optional(Type.String()) }),
          // 200 is text/event-stream, which no JSON schema describes.
          response: { ...errorResponses(400, 401, 403) },
        },
      },
      async (request, reply) => {
        const principal = request.principal;
        if (!principal) throw new BucketError('unauthenticated');
        const since = resumeCursor(request.headers['last-event-id'], request.query.since);
        const secret = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
        const stream = bucket.events.stream(principal, {
          since,
          type: request.query.type,
          // The key as it stands now: revoked, expired or suspended since (a throw), it ends.
          stillAllowed: async () => {
            // A stream opened as the Bucket was being halted ends at its first heartbeat.
            if (bucket.modes.mode() === 'halted') return false;
            const now = secret === undefined ? null : await bucket.keys.authenticate(secret);
            if (now === null) return false;
            bucket.authorizer.assertNotSuspended(now);
            return true;
          },
        });
        reply.header('content-type', 'text/event-stream; charset=utf-8');
        reply.header('cache-control', 'no-cache');
        // Proxies must pass frames on as they come (nginx buffers otherwise).
        reply.header('x-accel-buffering', 'no');
        return reply.send(stream);
      },
    );
  };
