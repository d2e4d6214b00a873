/**
 * The latency limit (SPEC §15): while this process's event-loop delay is above
 * `limits.maxEventLoopDelayMs`, new requests of the shed routes (artifact data, batch, S3 data:
 * `shed` in their route config) are answered 503 `overloaded` with `Retry-After` before any work is
 * done — no authentication, no gate, no body read. No other route is shed: health, metrics, the
 * mode and incident routes answer whatever the load.
 */
import type { onRequestHookHandler } from 'fastify';
import type { Bucket } from '../bucket.js';
import { BucketError } from '../domain/errors.js';
import { maxEventLoopDelayOf } from '../domain/policy.js';
import { sendError } from './errors.js';

export function shedWhenLate(bucket: Pick<Bucket, 'policies' | 'eventLoop'>): onRequestHookHandler {
  return (request, reply, done) => {
    if (request.routeOptions.config.shed !== true) return done();
    const delay = bucket.eventLoop.current();
    let limit: number;
    try {
      limit = maxEventLoopDelayOf(bucket.policies.current().document.limits);
    } catch {
      return done(); // An unusable policy: the gate fails closed on it (services/policies.ts).
    }
    if (delay <= limit) return done();
    sendError(
      new BucketError(
        'overloaded',
        `the server's event-loop delay is ${Math.round(delay)} ms, over its limit of ${limit} ms ` +
          '(limits.maxEventLoopDelayMs); nothing was done: retry after the Retry-After seconds',
        { headers: { 'retry-after': '1' } },
      ),
      request,
      reply,
    );
  };
}
