/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1): the client waits for `100 Continue` before it sends
 * the body, so a request its headers already refuse — no key, a declared size over the limit, a
 * denial by the gate — must get its final status without the 100, or the client starts sending a
 * body nobody will read. Node answers 100 before any handler runs unless the server listens for
 * `checkContinue`; here the 100 goes out only once the body is about to be read:
 *
 * - routes whose body Fastify parses: after authentication, unless the declared length is over
 *   the route's body limit (Fastify then answers 413 unread);
 * - the artifact PUT, whose body its service streams: when the service has decided on the
 *   headers and starts reading (`continueBody`).
 *
 * A refused request that was never told to continue closes its connection with the answer: its
 * body was never sent, and the connection cannot carry another request after it.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Requests told to continue (100 sent). */
const continued = new WeakSet<IncomingMessage>();

function expectsContinue(raw: IncomingMessage): boolean {
  return (raw.headers.expect ?? '').toLowerCase() === '100-continue';
}

/** Sends `100 Continue` if the request asked for it and has not had it yet. */
export function continueBody(request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw;
  if (!expectsContinue(raw) || continued.has(raw) || reply.raw.headersSent) return;
  continued.add(raw);
  reply.raw.writeContinue();
}

export function answerExpectContinue(app: FastifyInstance): void {
  // With a listener, Node no longer answers 100 by itself: the request goes on as any other.
  app.server.on('checkContinue', (req: IncomingMessage, res) => {
    app.server.emit('request', req, res);
  });
  app.addHook('preParsing', (request, reply, payload, done) => {
    // Streamed bodies are continued by their route once the service decided on the headers.
    if (request.routeOptions.config.gatedByService !== true) {
      const declared = Number(request.headers['content-length'] ?? 0);
      if (!(declared > request.routeOptions.bodyLimit)) continueBody(request, reply);
    }
    done(null, payload);
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (expectsContinue(request.raw) && !continued.has(request.raw) && !request.raw.complete) {
      reply.header('connection', 'close');
    }
    done(null, payload);
  });
}
