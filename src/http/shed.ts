/**
 * The latency limit (SPEC §15): while this process's event-loop delay is above
 * `limits.maxEventLoopDelayMs`, new requests of the shed routes (artifact data, batch, S3 data:
 * `shed` in their route config) are answered 503 `overloaded` with `Retry-After` before any work is
 * done — no authentication, no gate, no body read. No other route is shed: health, metrics, the
 * mode and incident routes answer whatever the load.
 *
 * One decision (`overloadedNow`), two doors: a request read from the server's socket is answered
 * before Fastify routes it (`shedBeforeRouting`), the cheapest answer the server can give, so that
 * shedding a flood does not itself keep the loop late (decision record 0069); a request that
 * reaches Fastify otherwise (an injected one) by the `onRequest` hook (`shedWhenLate`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  onRequestHookHandler,
  RouteOptions,
} from 'fastify';
import type { Bucket } from '../bucket.js';
import { BucketError } from '../domain/errors.js';
import { maxEventLoopDelayOf } from '../domain/policy.js';
import { discardUnread } from './discard.js';
import { errorBody, sendError } from './errors.js';
import { nextRequestId } from './request.js';

type LateDeps = Pick<Bucket, 'policies' | 'eventLoop'>;

const RETRY_AFTER = { 'retry-after': '1' };

/** Why a request of a shed route is refused now, or null while the delay is within the limit. */
export function overloadedNow(bucket: LateDeps): string | null {
  const delay = bucket.eventLoop.current();
  let limit: number;
  try {
    limit = maxEventLoopDelayOf(bucket.policies.current().document.limits);
  } catch {
    return null; // An unusable policy: the gate fails closed on it (services/policies.ts).
  }
  if (delay <= limit) return null;
  return (
    `the server's event-loop delay is ${Math.round(delay)} ms, over its limit of ${limit} ms ` +
    '(limits.maxEventLoopDelayMs); nothing was done: retry after the Retry-After seconds'
  );
}

export function shedWhenLate(bucket: LateDeps): onRequestHookHandler {
  return (request, reply, done) => {
    if (request.routeOptions.config.shed !== true) return done();
    const message = overloadedNow(bucket);
    if (message === null) return done();
    sendError(new BucketError('overloaded', message, { headers: RETRY_AFTER }), request, reply);
  };
}

interface RoutePattern {
  readonly method: string;
  readonly url: string;
  readonly pattern: RegExp;
}

/** A Fastify route URL as a RegExp over a request's path: `:name` one segment, `*` the rest. */
function patternOf(url: string): RegExp {
  const source = url
    .split(/(:[A-Za-z0-9_]+|\*)/)
    .map((part) =>
      part.startsWith(':')
        ? '[^/]+'
        : part === '*'
          ? '.*'
          : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`);
}

/** The route's URL with every parameter filled: a path the router sends to that route. */
function samplePathOf(url: string): string {
  return url.replace(/:[A-Za-z0-9_]+/g, 'x').replace('*', 'x/y');
}

function methodsOf(route: RouteOptions): string[] {
  return Array.isArray(route.method) ? route.method : [route.method];
}

/**
 * The shed routes as registered, to match a request before Fastify routes it. Registering a route
 * that is not shed but whose paths a shed route's pattern would take throws at start-up: the door
 * before routing must never shed another route (SPEC §15).
 */
export class ShedRoutes {
  private readonly shed: RoutePattern[] = [];
  private readonly others: { method: string; url: string }[] = [];

  add(route: RouteOptions): void {
    for (const method of methodsOf(route)) {
      if (route.config?.shed === true) {
        const added = { method, url: route.url, pattern: patternOf(route.url) };
        for (const other of this.others) this.assertApart(added, other);
        this.shed.push(added);
      } else {
        const other = { method, url: route.url };
        for (const shed of this.shed) this.assertApart(shed, other);
        this.others.push(other);
      }
    }
  }

  /** The URL template of the shed route `method path` goes to, or null. */
  match(method: string, path: string): string | null {
    for (const route of this.shed) {
      if (route.method === method && route.pattern.test(path)) return route.url;
    }
    return null;
  }

  private assertApart(shed: RoutePattern, other: { method: string; url: string }): void {
    if (shed.method !== other.method || !shed.pattern.test(samplePathOf(other.url))) return;
    throw new Error(
      `route ${other.method} ${other.url} is not shed, but the latency limit's door before ` +
        `routing would shed it as ${shed.url}: give it config.shed, or another path`,
    );
  }
}

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

export interface RawShedOptions {
  readonly routes: ShedRoutes;
  readonly bucket: LateDeps & Pick<Bucket, 'metrics'>;
  /** True once the app is closing: its own 503 (`server_stopping`) answers then. */
  readonly closing: () => boolean;
  /** Where a line per request goes (as app.ts logs every request), or null at levels above info. */
  readonly requestLog: FastifyBaseLogger | null;
}

/**
 * Puts the latency limit before Fastify's request listener: a request of a shed route read while
 * the delay is over the limit is answered here with the envelope Fastify's door would send (the
 * same 503, `Retry-After`, `x-request-id`), counted in the metrics by its route and logged like
 * any request — without Fastify's request and reply, routing, hooks or serializer.
 */
export function shedBeforeRouting(app: FastifyInstance, options: RawShedOptions): void {
  const [fastify] = app.server.listeners('request') as RequestListener[];
  if (!fastify) throw new Error('the server has no request listener to shed before');
  app.server.removeListener('request', fastify);
  app.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const message = options.closing() ? null : overloadedNow(options.bucket);
    const method = request.method ?? '';
    const path = message === null ? '' : ((request.url ?? '').split('?', 1)[0] ?? '');
    const route = message === null ? null : options.routes.match(method, path);
    if (message === null || route === null) return fastify.call(app.server, request, response);
    const started = performance.now();
    const requestId = nextRequestId();
    const body = JSON.stringify(errorBody(requestId, 'overloaded', message));
    response.writeHead(503, {
      'x-request-id': requestId,
      ...RETRY_AFTER,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      // Told nothing, a client that waits for 100 Continue never sends its body: the connection
      // cannot carry another request (http/expect-continue.ts).
      ...((request.headers.expect ?? '').toLowerCase() === '100-continue'
        ? { connection: 'close' }
        : {}),
    });
    response.end(body);
    // Its body, unread, is drained for a while and then the socket closed, as for any early answer.
    discardUnread(request);
    const ms = Math.round((performance.now() - started) * 100) / 100;
    options.bucket.metrics.observeRequest(route, method, 503, ms / 1000);
    if (options.requestLog) {
      options.requestLog.info(
        { reqId: requestId, method, path, status: 503, ms, principal: null, decision: null },
        'request',
      );
    }
  });
}
