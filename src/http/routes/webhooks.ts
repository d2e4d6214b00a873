/**
 * Webhooks (SPEC §10, owner): create (the secret shown once), list, delete, and each webhook's
 * delivery log — one row per attempt.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { BucketError } from '../../domain/errors.js';
import type { DeliveryAttempt, WebhookRecord } from '../../domain/webhooks.js';
import { errorResponses } from '../schemas.js';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

const WEBHOOK_FIELDS = {
  id: Type.String(),
  url: Type.String(),
  types: Type.Array(Type.String()),
  product: Type.Union([Type.String(), Type.Null()]),
};

const WebhookView = Type.Object({
  ...WEBHOOK_FIELDS,
  createdAt: Type.String(),
  createdBy: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
  disabledAt: Type.Union([Type.String(), Type.Null()]),
  cursor: Type.Integer({ description: 'The newest event id delivered or passed over' }),
  failures: Type.Integer({ description: 'Failed attempts of the event being delivered' }),
  nextAttemptAt: Type.String(),
});

const DeliveryView = Type.Object({
  id: Type.Integer(),
  eventId: Type.Integer(),
  attempt: Type.Integer(),
  at: Type.String(),
  status: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Integer(),
});

/** A webhook as the owner sees it: never its secret. */
function view(webhook: WebhookRecord) {
  return {
    id: webhook.id,
    url: webhook.url,
    types: [...webhook.types],
    product: webhook.product,
    createdAt: webhook.createdAt,
    createdBy: webhook.createdBy,
    status: webhook.disabledAt === null ? ('active' as const) : ('disabled' as const),
    disabledAt: webhook.disabledAt,
    cursor: webhook.cursor,
    failures: webhook.failures,
    nextAttemptAt: new Date(webhook.nextAttemptAt).toISOString(),
  };
}

function deliveryView(attempt: DeliveryAttempt) {
  return {
    id: attempt.id,
    eventId: attempt.eventId,
    attempt: attempt.attempt,
    at: attempt.at,
    status: attempt.status,
    error: attempt.error,
    durationMs: attempt.durationMs,
  };
}

const CreateWebhook = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) only (SPEC §11)' }),
    types: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
      minItems: 1,
      maxItems: 50,
      description: 'Event type prefixes, e.g. `bucket.artifact.`',
    }),
    product: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  },
  { additionalProperties: false },
);

const WebhookId = Type.Object({ id: Type.String({ maxLength: 100 }) });

export const webhookRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.post(
      '/v1/webhooks',
      {
        config: { action: 'webhooks.create', answers: 201 },
        schema: {
          tags: ['webhooks'],
          summary: 'Subscribe a URL to events (owner); the signing secret is shown once',
          description:
            'Deliveries follow Standard Webhooks: a POST of the CloudEvent with `webhook-id`, ' +
            '`webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256>` keyed by the ' +
            'base64 part of the secret after `whsec_`.',
          body: CreateWebhook,
          response: {
            201: Type.Object({ ...WEBHOOK_FIELDS, secret: Type.String() }),
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (request, reply) => {
        const principal = request.principal;
        if (!principal) throw new BucketError('unauthenticated');
        const { record, secret } = await bucket.webhooks.create(
          request.body,
          principal.id,
          request.allowedAction?.entry ?? undefined,
        );
        return reply.code(201).send({
          id: record.id,
          url: record.url,
          types: [...record.types],
          product: record.product,
          secret,
        });
      },
    );

    app.get(
      '/v1/webhooks',
      {
        config: { action: 'webhooks.list' },
        schema: {
          tags: ['webhooks'],
          summary: 'List webhooks with their delivery state (owner); never their secrets',
          response: {
            200: Type.Object({ webhooks: Type.Array(WebhookView) }),
            ...errorResponses(401, 403),
          },
        },
      },
      async () => ({ webhooks: (await bucket.webhooks.list()).map(view) }),
    );

    app.delete(
      '/v1/webhooks/:id',
      {
        config: { action: 'webhooks.delete' },
        schema: {
          tags: ['webhooks'],
          summary: 'Delete a webhook and its delivery log (owner)',
          params: WebhookId,
          response: { 200: WebhookView, ...errorResponses(401, 403, 404) },
        },
      },
      async (request) =>
        view(
          await bucket.webhooks.delete(
            request.params.id,
            request.allowedAction?.entry ?? undefined,
          ),
        ),
    );

    app.get(
      '/v1/webhooks/:id/deliveries',
      {
        config: { action: 'webhooks.deliveries' },
        schema: {
          tags: ['webhooks'],
          summary: "A webhook's delivery log, oldest first: one row per attempt (owner)",
          description:
            'Each row has the HTTP status the target answered, or the error when there was no ' +
            'answer (refused by the egress rules, a timeout, a connection error). Page with ' +
            '`after=<nextCursor>`.',
          params: WebhookId,
          querystring: Type.Object({
            after: Type.Optional(Type.Integer({ minimum: 0 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE })),
          }),
          response: {
            200: Type.Object({
              deliveries: Type.Array(DeliveryView),
              nextCursor: Type.Union([Type.Integer(), Type.Null()]),
            }),
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (request) => {
        const limit = request.query.limit ?? DEFAULT_PAGE;
        const deliveries = await bucket.webhooks.deliveries(
          request.params.id,
          request.query.after ?? 0,
          limit,
        );
        return {
          deliveries: deliveries.map(deliveryView),
          nextCursor: deliveries.length === limit ? (deliveries.at(-1)?.id ?? null) : null,
        };
      },
    );
  };
