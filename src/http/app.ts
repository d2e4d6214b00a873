/** The Fastify application: plugins, authentication, error mapping, request logs and routes. */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Bucket } from '../bucket.js';
import { VERSION } from '../config.js';
import { isBucketError } from '../domain/errors.js';
import { assertGateBinding, authenticate, bindingOf, type GateBinding } from './auth.js';
import { answerClientError } from './client-error.js';
import { answerFor, errorBody, sendError } from './errors.js';
import { answerExpectContinue } from './expect-continue.js';
import { artifactRoutes } from './routes/artifacts.js';
import { auditRoutes } from './routes/audit.js';
import { certificationRoutes } from './routes/certification.js';
import { consoleRoutes } from './routes/console.js';
import { batchRoutes } from './routes/batch.js';
import { holdRoutes } from './routes/holds.js';
import { integrityRoutes } from './routes/integrity.js';
import { subjectRoutes } from './routes/subjects.js';
import { erasureRoutes } from './routes/erasures.js';
import { eventRoutes } from './routes/events.js';
import { gateRoutes } from './routes/gate.js';
import { healthRoutes } from './routes/health.js';
import { integrationRoutes } from './routes/integrations.js';
import { metricsRoutes } from './routes/metrics.js';
import { exceptionRoutes } from './routes/exceptions.js';
import { modeRoutes } from './routes/modes.js';
import { threatRoutes } from './routes/threats.js';
import { keyRoutes } from './routes/keys.js';
import { s3CredentialRoutes } from './routes/s3-credentials.js';
import { webhookRoutes } from './routes/webhooks.js';
import { coreRoutes } from './routes/core.js';
import { seedCoreRoutes } from './routes/seed-core.js';
import { policyRoutes } from './routes/policy.js';
import { scaleStatusRoutes } from './routes/scale-status.js';
import { InFlightRequests } from './in-flight.js';
import { nextRequestId } from './request.js';
import { lazySchemas } from './lazy-schemas.js';
import { shedBeforeRouting, ShedRoutes, shedWhenLate } from './shed.js';
import { ErrorEnvelope } from './schemas.js';
import './types.js';

export type App = FastifyInstance;

export async function buildApp(bucket: Bucket, logger: Logger): Promise<App> {
  const schemas = lazySchemas();
  const app = Fastify({
    // Each route's validators and serializers built when it first runs (decision record 0070).
    schemaController: { compilersFactory: schemas.compilersFactory },
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request is written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: nextRequestId,
    // Socket inactivity, not total duration: a 500 MB upload on a slow link must not time out.
    connectionTimeout: bucket.config.idleTimeoutSeconds * 1000,
    requestTimeout: 0,
    bodyLimit: 1024 * 1024,
    // A stopping server answers in the envelope (http/in-flight.ts), not Fastify's bare JSON.
    return503OnClosing: false,
    // Errors Fastify raises before routing (e.g. a malformed URL) get the envelope too.
    frameworkErrors: (error, request, reply) => sendError(error, request, reply),
    // …and so do requests the HTTP parser refuses before Fastify sees them.
    clientErrorHandler: answerClientError(logger as FastifyBaseLogger),
    routerOptions: { maxParamLength: 2048 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const logRequests = logger.isLevelEnabled('info');
  app.decorateRequest('principal', null);
  app.decorateRequest('decision', null);
  app.decorateRequest('allowedAction', null);
  app.addSchema(ErrorEnvelope);

  // Every route's binding to the gate, as registered (tests enumerate it: no side door).
  const gateBindings: GateBinding[] = [];
  app.decorate('gateBindings', gateBindings);
  app.decorate('schemas', schemas);
  const shedRoutes = new ShedRoutes();
  app.addHook('onRoute', (route) => {
    // The documentation UI's own routes are public, like /openapi.json.
    if (route.url.startsWith('/docs')) route.config = { ...route.config, public: true };
    assertGateBinding(route);
    gateBindings.push(bindingOf(route));
    shedRoutes.add(route);
  });
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  const inFlight = new InFlightRequests();
  inFlight.install(app, bucket.authorizer);
  app.decorate('inFlight', inFlight);
  // Before anything else is done for it, a request may be shed (SPEC §15 latency limit): read
  // from the socket, before Fastify routes it; injected, by the first hook after the request id's.
  shedBeforeRouting(app, {
    routes: shedRoutes,
    bucket,
    closing: () => inFlight.closing,
    requestLog: logRequests ? (logger as FastifyBaseLogger) : null,
  });
  app.addHook('onRequest', shedWhenLate(bucket));
  answerExpectContinue(app);
  app.addHook(
    'onRequest',
    authenticate(bucket.keys, bucket.authorizer, bucket.limiter, bucket.threats, () =>
      bucket.freshen(),
    ),
  );
  // A governance change whose store did not append its allow entry changed nothing (a rejected
  // or repeated proposal, a key that was not suspended): the decision is recorded before the
  // answer all the same.
  app.addHook('onSend', (request, _reply, payload, done) => {
    const allowed = request.allowedAction;
    // Callback style: every other answer goes on without a promise.
    if (!allowed?.unappended) return done(null, payload);
    // At most once: a failure below answers an error, which passes here again.
    allowed.finish().then(
      () => done(null, payload),
      (error: Error) => done(error),
    );
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (!logRequests) return done();
    request.log.info(
      {
        method: request.method,
        path: request.url.split('?', 1)[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        principal: request.principal?.id ?? null,
        decision: request.decision ? (request.decision.allow ? 'allow' : 'deny') : null,
      },
      'request',
    );
    done();
  });

  await app.register(swagger, {
    exposeHeadRoutes: true,
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'BHIV Bucket',
        version: VERSION,
        description:
          'A governed artifact depository: every request passes one governance gate; every ' +
          'write is a new immutable, content-addressed version.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });

  app.setErrorHandler(async (error, request, reply) => {
    // A route allowed for its action that then failed (a key that does not exist, a policy that
    // does not validate) has its failure recorded as it is answered, instead of its pending entry.
    const answer = answerFor(error);
    await request.allowedAction?.fail(answer);
    // Threats found after the allow (a policy breaking a floor) are detections like any other.
    if (isBucketError(answer) && answer.threats && request.principal) {
      await bucket.threats
        .recordUncounted(request.id, request.principal, answer.threats)
        .catch(() => undefined);
    }
    return sendError(error, request, reply);
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(errorBody(request.id, 'not_found', `no route ${request.method} ${request.url}`)),
  );

  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
  // First: its request-counting hook must see every route.
  await app.register(metricsRoutes(bucket));
  await app.register(healthRoutes(bucket));
  await app.register(keyRoutes(bucket));
  await app.register(s3CredentialRoutes(bucket));
  await app.register(policyRoutes(bucket));
  await app.register(artifactRoutes(bucket));
  await app.register(batchRoutes(bucket));
  await app.register(integrationRoutes(bucket));
  await app.register(gateRoutes(bucket));
  await app.register(threatRoutes(bucket));
  await app.register(scaleStatusRoutes(bucket));
  await app.register(auditRoutes(bucket));
  await app.register(eventRoutes(bucket));
  await app.register(holdRoutes(bucket));
  await app.register(subjectRoutes(bucket));
  await app.register(erasureRoutes(bucket));
  await app.register(modeRoutes(bucket));
  await app.register(exceptionRoutes(bucket));
  await app.register(integrityRoutes(bucket));
  await app.register(certificationRoutes(bucket));
  await app.register(webhookRoutes(bucket));
  await app.register(coreRoutes(bucket));
  await app.register(seedCoreRoutes(bucket));
  // The web console's static files (SPEC §14): a client of the routes above, with no key.
  await app.register(consoleRoutes());
  return app;
}
