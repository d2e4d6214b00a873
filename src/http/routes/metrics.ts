/**
 * `GET /metrics` (no key, SPEC §1, §7): Prometheus text. The plugin also installs the root
 * `onResponse` hook that counts every answered request by route template and status, so it is
 * registered before the other routes.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Bucket } from '../../bucket.js';
import { METRICS_CONTENT_TYPE } from '../../services/metrics.js';

const plugin =
  (bucket: Bucket): FastifyPluginAsyncTypebox =>
  async (app) => {
    app.addHook('onResponse', (request, reply, done) => {
      bucket.metrics.observeRequest(
        request.routeOptions.url ?? null,
        request.method,
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
      done();
    });
    app.get(
      '/metrics',
      {
        config: { public: true },
        schema: {
          tags: ['health'],
          summary: 'Prometheus metrics (no key needed)',
          security: [],
        },
      },
      async (_request, reply) =>
        reply.header('content-type', METRICS_CONTENT_TYPE).send(await bucket.metrics.text()),
    );
  };

export const metricsRoutes = (bucket: Bucket): FastifyPluginAsyncTypebox => {
  const routes = plugin(bucket);
  // Like fastify-plugin: the hook applies to every route, not only to this plugin's.
  Object.assign(routes, { [Symbol.for('skip-override')]: true });
  return routes;
};
