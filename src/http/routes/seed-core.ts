/**
 * The seed's run routes (SPEC §11, pinned paths; its GET /agents and /baskets are in core.ts)
 * for clients written against it: a run started and waited for (up to its timeout) — 200 with
 * the run when it succeeded, 422 with the run when it failed, timed out or was cancelled, 202
 * with the run (and `Location: /v1/runs/<id>`) when the wait ended first; never a 200 around an
 * error, as the seed answered. Nothing is sent while waiting, so a wait stops safely before the
 * connection's idle timeout would cut it (`seedWaitMs`); it stops too when the client goes away
 * or the server stops.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Bucket } from '../../bucket.js';
import type { RunRecord } from '../../domain/runs.js';
import { requestInfo } from '../request.js';
import { errorResponses } from '../schemas.js';
import { RunView } from './core.js';

const Name = Type.String({ minLength: 1, maxLength: 100 });

/**
 * The longest a seed route waits for its run: a quarter of the idle timeout
 * (`BUCKET_IDLE_TIMEOUT_S`, the socket's inactivity limit), at most 10 s, before it — the client
 * gets its 202 instead of a connection the server itself closed.
 */
export function seedWaitMs(idleTimeoutSeconds: number): number {
  const idleMs = idleTimeoutSeconds * 1000;
  return idleMs - Math.min(10_000, idleMs / 4);
}

export const seedCoreRoutes =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    const { core } = bucket;
    const waitCapMs = seedWaitMs(bucket.config.idleTimeoutSeconds);
    // Waiting requests would hold the server's close: their waits end first (202), and their
    // connections with them (a keep-alive connection active at the close is not closed for us).
    let closing = false;
    app.addHook('preClose', (done) => {
      closing = true;
      core.runs.closeWaits();
      done();
    });

    const statusOf = (run: RunRecord) => {
      if (run.status === 'succeeded') return 200 as const;
      return run.status === 'queued' || run.status === 'running' ? (202 as const) : (422 as const);
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
          // The client going away ends the wait (the response's close, before it is sent).
          const gone = new AbortController();
          const onClose = () => gone.abort();
          reply.raw.once('close', onClose);
          const waitMs = Math.min(started.plan.timeoutMs, waitCapMs);
          const finished = await core.runs.wait(started.id, waitMs, gone.signal);
          reply.raw.off('close', onClose);
          const shown = finished ?? started;
          const status = statusOf(shown);
          if (status === 202) reply.header('location', `/v1/runs/${started.id}`);
          if (closing) reply.header('connection', 'close');
          return reply.code(status).send(await core.runs.view(shown));
        },
      );
    }
  };
