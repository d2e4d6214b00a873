/**
 * Core's routes (SPEC §11): the agents and baskets, and runs — started (202), read, listed,
 * cancelled (202). Who may run and who sees which runs is the run service's (src/core/runs.ts);
 * the action table says which kinds reach each route at all.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { agentInfo, type BasketConfig } from '../../core/catalog.js';
import { BucketError } from '../../domain/errors.js';
import { RUN_STATUSES, runView, type RunStatus } from '../../domain/runs.js';
import { requestInfo } from '../request.js';
import { errorResponses } from '../schemas.js';

const Open = (properties: Parameters<typeof Type.Object>[0]) =>
  Type.Object(properties, { additionalProperties: true });

export const AgentView = Open({
  name: Type.String(),
  version: Type.String(),
  kind: Type.String(),
  description: Type.String(),
  inputSchema: Type.Unknown(),
  outputSchema: Type.Unknown(),
  timeoutMs: Type.Integer(),
});

export const BasketView = Type.Object({
  name: Type.String(),
  description: Type.String(),
  strategy: Type.String(),
  agents: Type.Array(Type.String()),
  products: Type.Array(Type.String()),
  stepTimeoutMs: Type.Integer(),
  timeoutMs: Type.Integer(),
  source: Type.String(),
});

/** A basket as the API shows it. */
export function basketView(basket: BasketConfig) {
  return { ...basket, agents: [...basket.agents], products: [...basket.products] };
}

export const RunView = Open({ id: Type.String(), status: Type.String() });

const Name = Type.String({ minLength: 1, maxLength: 100 });
const StartBody = Type.Object(
  { input: Type.Optional(Type.Unknown()) },
  { additionalProperties: false },
);
const Listing = Type.Object({
  basket: Type.Optional(Name),
  agent: Type.Optional(Name),
  status: Type.Optional(Type.Union(RUN_STATUSES.map((status) => Type.Literal(status)))),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
});

export const coreRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { core } = bucket;

    // The seed's paths (SPEC §11) answer the same lists.
    for (const prefix of ['/v1', ''] as const) {
      const seed = prefix === '' ? ' (the seed’s path)' : '';
      app.get(
        `${prefix}/agents`,
        {
          config: { action: 'agents.list' },
          schema: {
            tags: ['core'],
            summary: `The agents: built-in and registered http agents (any key)${seed}`,
            response: {
              200: Type.Object({ agents: Type.Array(AgentView) }),
              ...errorResponses(401, 403),
            },
          },
        },
        async () => ({ agents: (await core.catalog.agents()).map(agentInfo) }),
      );
      app.get(
        `${prefix}/baskets`,
        {
          config: { action: 'baskets.list' },
          schema: {
            tags: ['core'],
            summary: `The baskets: shipped and basket_config artifacts (any key)${seed}`,
            response: {
              200: Type.Object({ baskets: Type.Array(BasketView) }),
              ...errorResponses(401, 403),
            },
          },
        },
        async () => ({ baskets: (await core.catalog.baskets()).map(basketView) }),
      );
    }

    app.get(
      '/v1/baskets/:name',
      {
        config: { action: 'baskets.list' },
        schema: {
          tags: ['core'],
          summary: 'One basket (any key)',
          params: Type.Object({ name: Name }),
          response: { 200: BasketView, ...errorResponses(401, 403, 404) },
        },
      },
      async (request) => {
        const basket = await core.catalog.basket(request.params.name);
        if (!basket)
          throw new BucketError('basket_not_found', `no basket "${request.params.name}"`);
        return basketView(basket);
      },
    );

    for (const kind of ['basket', 'agent'] as const) {
      app.post(
        `/v1/${kind}s/:name/runs`,
        {
          config: { action: 'runs.start' },
          schema: {
            tags: ['core'],
            summary: `Run ${kind === 'basket' ? 'a basket' : 'one agent'}: 202 and the queued run`,
            description:
              'Owner, executor and core keys; a product key runs baskets whose `products` list ' +
              'its product. More than limits.queuedRuns queued runs: 429 run_queue_full.',
            params: Type.Object({ name: Name }),
            body: StartBody,
            response: { 202: RunView, ...errorResponses(400, 401, 403, 404, 429, 503) },
          },
        },
        async (request, reply) => {
          const run = await core.runs.start(
            { kind, name: request.params.name },
            request.body.input ?? {},
            requestInfo(request).principal,
            request.allowedAction?.entry ?? undefined,
          );
          return reply.code(202).send(runView(run));
        },
      );
    }

    app.get(
      '/v1/runs',
      {
        config: { action: 'runs.read' },
        schema: {
          tags: ['core'],
          summary: 'Runs, the newest first (a product key: its own), without outputs',
          description:
            'Each run as its summary: statuses, times, errors, artifact references. Its steps’ ' +
            'outputs are in GET /v1/runs/{id} (read through their agent_output artifacts).',
          querystring: Listing,
          response: {
            200: Type.Object({
              runs: Type.Array(RunView),
              nextCursor: Type.Union([Type.String(), Type.Null()]),
            }),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request) => {
        const { basket, agent, status, cursor, limit } = request.query;
        const page = await core.runs.list(
          { basket, agent, status: status as RunStatus | undefined, cursor, limit: limit ?? 100 },
          requestInfo(request).principal,
        );
        return { runs: page.runs.map((run) => runView(run)), nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/v1/runs/:id',
      {
        config: { action: 'runs.read' },
        schema: {
          tags: ['core'],
          summary: 'A run: status, steps, outputs (a product key: its own)',
          params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
          response: { 200: RunView, ...errorResponses(401, 403, 404) },
        },
      },
      async (request) =>
        core.runs.view(await core.runs.get(request.params.id, requestInfo(request).principal)),
    );

    app.post(
      '/v1/runs/:id/cancel',
      {
        config: { action: 'runs.cancel' },
        schema: {
          tags: ['core'],
          summary: 'Cancel a run: 202 (a queued run at once, a running one at its next step)',
          params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
          response: { 202: RunView, ...errorResponses(401, 403, 404, 503) },
        },
      },
      async (request, reply) => {
        const run = await core.runs.cancel(
          request.params.id,
          requestInfo(request).principal,
          request.allowedAction?.entry ?? undefined,
        );
        return reply.code(202).send(await core.runs.view(run));
      },
    );
  };
