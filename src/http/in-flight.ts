/**
 * The requests a door (the native API, the S3 door) is answering. While the server stops, a new
 * request is refused before any work with the door's own 503 (`server_stopping`: the SPEC §3
 * envelope, or S3 XML) and `Connection: close`, instead of Fastify's bare JSON; a stop that has to
 * cut requests off names them (`describe`); and each request learns its gate decision as the
 * Authorizer concludes it, so that its log line says allow or deny whatever route decided it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BucketError } from '../domain/errors.js';
import type { Authorizer } from '../services/authorize.js';

export class InFlightRequests {
  private readonly requests = new Map<string, FastifyRequest>();
  private stopping = false;

  /**
   * Tracks `app`'s requests from their first hook to their response's end (answered, failed or
   * cut by the client), and refuses new ones once the app is closing. Registered before every
   * other `onRequest` hook but the request id's.
   */
  install(app: FastifyInstance, authorizer: Authorizer): void {
    app.addHook('preClose', (done) => {
      this.stopping = true;
      done();
    });
    app.addHook('onRequest', (request, reply, done) => {
      if (this.stopping) {
        done(
          new BucketError('server_stopping', undefined, {
            headers: { 'retry-after': '1', connection: 'close' },
          }),
        );
        return;
      }
      const id = request.id;
      this.requests.set(id, request);
      reply.raw.once('close', () => this.requests.delete(id));
      done();
    });
    const forget = authorizer.onDecision((requestId, decision) => {
      const request = this.requests.get(requestId);
      if (request) request.decision = decision;
    });
    app.addHook('onClose', (_instance, done) => {
      forget();
      done();
    });
  }

  /** True once the app is closing: new requests get `server_stopping`. */
  get closing(): boolean {
    return this.stopping;
  }

  /** Each request in flight as `METHOD /path (request id)`: no query string (a presigned URL's). */
  describe(): string[] {
    return [...this.requests.values()].map(
      (request) => `${request.method} ${request.url.split('?', 1)[0]} (${request.id})`,
    );
  }
}
