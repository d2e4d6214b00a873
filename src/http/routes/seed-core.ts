/**
 * The seed's run routes (SPEC §11, pinned paths; its GET /agents and /baskets are in core.ts)
 * for clients written against it: a run started and waited for (up to its timeout) — 200 with
 * the run when it succeeded, 422 with the run when it failed, timed out or was cancelled, 202
 * with the run when the wait ended first; never a 200 around an error, as the seed answered.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import { runView, type RunRecord } from '../../domain/runs.js';
import { requestInfo } from '../request.js';
import { errorResponses } from '../schemas.js';
import { RunView } from './core.js';

const Name = Type.String({ minLength: 1, maxLength: 100 });

export const seedCoreRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { core } = bucket;

    const answer = (run: RunRecord | null, started: RunRecord) => {
      const shown = run ?? started;
      if (shown.status === 'succeeded') return { status: 200 as const, body: runView(shown) };
      if (shown.status === 'queued' || shown.status === 'running')
        return { status: 202 as const, body: runView(shown) };
      return { status: 422 as const, body: runView(shown) };
    };

    for (const kind of ['agent', 'basket'] as const) {
      app.post(
        `/run-${kind}`,
        {
          config: { action: 'runs.start' },
          schema: {
            tags: ['core'],
            summary: `Run ${kind === 'agent' ? 'one agent' : 'a basket'} and wait for it (the seed’s path)`,
            body: Type.Object(
              {
                [`${kind}_name`]: Name,
                input_data: Type.Optional(Type.Unknown()),
                stateful: Type.Optional(Type.Boolean()),
              },
              { additionalProperties: false },
            ),
            response: {
              200: RunView,
              202: RunView,
              422: RunView,
              ...errorResponses(400, 401, 403, 404, 429, 503),
            },
          },
        },
        async (request, reply) => {
          const body = request.body as Record<string, unknown>;
          const started = await core.runs.start(
            { kind, name: String(body[`${kind}_name`]) },
            body['input_data'] ?? {},
            requestInfo(request).principal,
            request.allowedAction?.entry ?? undefined,
          );
          const finished = await core.runs.wait(started.id, started.plan.timeoutMs);
          const { status, body: shown } = answer(finished, started);
          return reply.code(status).send(shown);
        },
      );
    }
  };
