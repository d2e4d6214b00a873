/**
 * The S3 front door (SPEC §13): a second Fastify listener on HOST:BUCKET_S3_PORT, path-style.
 * Every request is authenticated by its SigV4 signature (sigv4.ts) with an S3 credential of a key
 * (services/s3-credentials.ts), then routed (router.ts) to an operation on the same services as
 * the native routes — one gate decision and one audit entry each, the same limits, rates and
 * latency shedding. Errors are S3's XML (errors.ts). Its one route is `gatedByService`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Bucket } from '../bucket.js';
import { BucketError, isBucketError, type ErrorCode } from '../domain/errors.js';
import { threat } from '../domain/decision.js';
import { maxEventLoopDelayOf } from '../domain/policy.js';
import { BRUTE_FORCE } from '../domain/threats.js';
import { assertGateBinding, bindingOf, type GateBinding } from '../http/auth.js';
import { answerClientError, type ClientErrorAnswer } from '../http/client-error.js';
import { discardRest } from '../http/discard.js';
import { dropRepresentation } from '../http/errors.js';
import { answerExpectContinue } from '../http/expect-continue.js';
import { InFlightRequests } from '../http/in-flight.js';
import { nextRequestId } from '../http/request.js';
import '../http/types.js';
import type { S3Context } from './context.js';
import { S3Error, s3ErrorFor } from './errors.js';
import { route } from './router.js';
import { signatureClaims, verifySignature, type SignedRequest } from './sigv4.js';
import { xmlDocument } from './xml.js';

/** Query parameters, decoded (`+` stays a plus: S3 clients encode spaces as %20). */
export function parseQuery(search: string): Record<string, string> {
  const query: Record<string, string> = {};
  for (const pair of search.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const name = at < 0 ? pair : pair.slice(0, at);
    const value = at < 0 ? '' : pair.slice(at + 1);
    try {
      query[name.includes('%') ? decodeURIComponent(name) : name] = value.includes('%')
        ? decodeURIComponent(value)
        : value;
    } catch {
      throw new S3Error('InvalidArgument', 'The query string is not URL-encoded correctly.');
    }
  }
  return query;
}

function splitPath(rawPath: string): { bucketName: string | null; key: string | null } {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    throw new S3Error('InvalidURI', "Couldn't parse the specified URI.");
  }
  const rest = decoded.replace(/^\//, '');
  if (rest === '') return { bucketName: null, key: null };
  const at = rest.indexOf('/');
  if (at < 0) return { bucketName: rest, key: null };
  const key = rest.slice(at + 1);
  return { bucketName: rest.slice(0, at), key: key === '' ? null : key };
}

/** A failing credential or signature counts toward the address's brute-force limit (SPEC §5). */
async function refuseFailure(
  bucket: Bucket,
  ip: string,
  requestId: string,
  error: S3Error,
): Promise<never> {
  const verdict = await bucket.limiter.recordAuthFailure(ip, BRUTE_FORCE);
  if (verdict.tripped) {
    await bucket.threats.recordAnonymous(
      requestId,
      threat(
        'T1',
        `${BRUTE_FORCE.failures} failed S3 authentications from ${ip} within ${BRUTE_FORCE.windowMs / 1000} s`,
      ),
    );
  } else if (verdict.blockedForMs > 0) {
    const seconds = String(Math.ceil(verdict.blockedForMs / 1000));
    throw new S3Error('SlowDown', 'Too many failed authentications from this address.', 503, {
      'retry-after': seconds,
    });
  }
  throw error;
}

async function authenticate(bucket: Bucket, signed: SignedRequest, ip: string, requestId: string) {
  const claims = signatureClaims(signed, Date.now());
  if (!claims)
    throw new S3Error(
      'AccessDenied',
      'Anonymous requests are not allowed; sign them with SigV4.',
      403,
    );
  const credential = await bucket.s3Credentials.resolve(claims.accessKeyId);
  if (!credential) {
    return refuseFailure(
      bucket,
      ip,
      requestId,
      new S3Error(
        'InvalidAccessKeyId',
        'The AWS access key ID you provided does not exist in our records (or was revoked).',
        403,
      ),
    );
  }
  try {
    const signer = verifySignature(signed, claims, credential.secretAccessKey);
    return { claims, signer, principal: credential.principal };
  } catch (error) {
    if (error instanceof S3Error && error.code === 'SignatureDoesNotMatch') {
      return refuseFailure(bucket, ip, requestId, error);
    }
    throw error;
  }
}

/** The methods S3 operations use; any other is NotImplemented (501) before any work. */
const METHODS: readonly string[] = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'];

/** An S3 error document for answers given outside the error handler. */
function errorXml(code: string, message: string, requestId: string, resource = ''): string {
  return xmlDocument(
    'Error',
    { Code: code, Message: message, Resource: resource, RequestId: requestId },
    false,
  );
}

/** A request Node's HTTP parser refused (http/client-error.ts writes it): S3's XML too. */
function clientErrorXml(requestId: string, code: ErrorCode, message: string): ClientErrorAnswer {
  const answer = s3ErrorFor(new BucketError(code, message));
  return {
    status: answer.status,
    contentType: 'application/xml',
    body: errorXml(answer.code, answer.message, requestId),
    headers: { 'x-amz-request-id': requestId },
  };
}

/**
 * A URL that is not a path (Fastify could not decode it): InvalidURI, with the request id headers
 * the onRequest hook has not set yet when Fastify refuses the URL before routing.
 */
function invalidUri(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply
    .code(400)
    .header('x-amz-request-id', request.id)
    .header('x-request-id', request.id)
    .type('application/xml')
    .send(
      errorXml(
        'InvalidURI',
        "Couldn't parse the specified URI.",
        request.id,
        request.url.split('?', 1)[0],
      ),
    );
}

function methodNotImplemented(method: string): string {
  return `${method} is not implemented by the Bucket's S3 door.`;
}

/**
 * CONNECT never reaches Fastify (Node emits it apart, and without a listener drops the socket):
 * it is answered NotImplemented too, on the socket, which is then closed.
 */
function refuseConnect(app: FastifyInstance): void {
  app.server.on('connect', (_request: IncomingMessage, socket: Socket) => {
    const requestId = nextRequestId();
    const body = errorXml('NotImplemented', methodNotImplemented('CONNECT'), requestId);
    socket.end(
      'HTTP/1.1 501 Not Implemented\r\n' +
        'content-type: application/xml\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        `x-amz-request-id: ${requestId}\r\n` +
        'connection: close\r\n\r\n' +
        body,
    );
  });
}

/**
 * An `Expect` other than 100-continue: Node answers 417 itself, bare, unless the server listens
 * for `checkExpectation`; here it is answered as an S3 error too, before any work.
 */
function refuseExpectation(app: FastifyInstance): void {
  app.server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const requestId = nextRequestId();
    const resource = (request.url ?? '').split('?', 1)[0];
    const body = errorXml(
      'ExpectationFailed',
      'Only Expect: 100-continue is supported.',
      requestId,
      resource,
    );
    response.writeHead(417, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      'x-amz-request-id': requestId,
      'x-request-id': requestId,
      connection: 'close',
    });
    response.end(body);
  });
}

export interface S3App {
  readonly app: FastifyInstance;
  readonly gateBindings: readonly GateBinding[];
}

export async function buildS3App(bucket: Bucket, logger: Logger): Promise<S3App> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: nextRequestId,
    connectionTimeout: bucket.config.idleTimeoutSeconds * 1000,
    requestTimeout: 0,
    // A stopping server answers in S3 XML (http/in-flight.ts), not Fastify's bare JSON.
    return503OnClosing: false,
    // Errors Fastify raises before routing (a malformed URL) are S3 errors too.
    frameworkErrors: (error, request, reply) => {
      invalidUri(request, reply as FastifyReply);
      void error;
    },
    clientErrorHandler: answerClientError(logger as FastifyBaseLogger, clientErrorXml),
    routerOptions: { maxParamLength: 4096, ignoreDuplicateSlashes: false },
  });
  const gateBindings: GateBinding[] = [];
  app.addHook('onRoute', (options) => {
    assertGateBinding(options);
    gateBindings.push(bindingOf(options));
  });
  app.decorateRequest('principal', null);
  app.decorateRequest('decision', null);
  app.decorateRequest('allowedAction', null);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-amz-request-id', request.id);
    reply.header('x-request-id', request.id);
    // Before any body is parsed: a method no operation uses (OPTIONS, PATCH, QUERY…) is 501.
    if (!METHODS.includes(request.method)) {
      const resource = request.url.split('?', 1)[0];
      reply
        .code(501)
        .type('application/xml')
        .send(
          errorXml('NotImplemented', methodNotImplemented(request.method), request.id, resource),
        );
      return;
    }
    done();
  });
  const inFlight = new InFlightRequests();
  inFlight.install(app, bucket.authorizer);
  app.decorate('inFlight', inFlight);
  refuseConnect(app);
  refuseExpectation(app);
  answerExpectContinue(app);
  const logRequests = logger.isLevelEnabled('info');
  app.addHook('onResponse', (request, reply, done) => {
    if (logRequests) {
      request.log.info(
        {
          door: 's3',
          method: request.method,
          path: request.url.split('?', 1)[0],
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 100) / 100,
          principal: request.principal?.id ?? null,
          decision: request.decision ? (request.decision.allow ? 'allow' : 'deny') : null,
        },
        'request',
      );
    }
    done();
  });
  app.setErrorHandler(async (error, request, reply) => {
    const answer = s3ErrorFor(error);
    // Threats found after the allow (a tombstone under a hold placed since) are detections like
    // any other, as on the native door (http/app.ts).
    if (isBucketError(error) && error.threats && request.principal) {
      await bucket.threats
        .recordUncounted(request.id, request.principal, error.threats)
        .catch(() => undefined);
    }
    if (answer.status >= 500 && answer.code === 'InternalError') {
      request.log.error({ err: error }, 'unhandled error');
    }
    request.decision = answer.decision ?? request.decision;
    if (!request.raw.complete) {
      reply.header('connection', 'close');
      discardRest(request);
    }
    dropRepresentation(reply, [
      'x-amz-meta-',
      'x-amz-version-id',
      'x-amz-checksum-',
      'x-amz-object-lock-',
    ]);
    reply.headers(answer.headers);
    reply.code(answer.status).type('application/xml');
    if (request.method === 'HEAD') return reply.send();
    return reply.send(
      errorXml(answer.code, answer.message, request.id, request.url.split('?', 1)[0]),
    );
  });
  // Every path of the supported methods is routed: only a URL that is not a path gets here.
  app.setNotFoundHandler(invalidUri);
  const handler = async (
    request: import('fastify').FastifyRequest,
    reply: import('fastify').FastifyReply,
  ) => {
    // SPEC §15: S3 data requests are shed like the native artifact routes, before any work.
    const delay = bucket.eventLoop.current();
    const limit = maxEventLoopDelayOf(bucket.policies.current().document.limits);
    if (delay > limit) {
      throw new S3Error(
        'SlowDown',
        `The server's event-loop delay is ${Math.round(delay)} ms, over its limit of ${limit} ms; retry later.`,
        503,
        { 'retry-after': '1' },
      );
    }
    // Another process's revocation (BUCKET_WORKERS) is seen before this request, as natively.
    const fresh = bucket.freshen();
    if (fresh) await fresh;
    const [rawPath = '/', search = ''] = request.url.split(/\?(.*)/s, 2);
    const query = parseQuery(search);
    const signed: SignedRequest = {
      method: request.method,
      rawPath,
      query,
      headers: request.headers,
    };
    const { claims, signer, principal } = await authenticate(
      bucket,
      signed,
      request.ip,
      request.id,
    );
    request.principal = principal;
    bucket.authorizer.assertNotSuspended(principal);
    const { bucketName, key } = splitPath(rawPath);
    const ctx: S3Context = {
      bucket,
      request,
      reply,
      principal,
      claims,
      signer,
      query,
      bucketName,
      key,
    };
    return route(ctx);
  };
  for (const url of ['/', '/*']) {
    app.route({
      method: [...METHODS],
      url,
      exposeHeadRoute: false,
      config: { gatedByService: true, shed: true },
      handler,
    });
  }
  await app.ready();
  return { app, gateBindings };
}
