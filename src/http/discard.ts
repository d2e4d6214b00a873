/** The unread rest of a request answered early: drained for a while, then the socket closed. */
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';

/** How long the unread remainder of a refused upload is drained before the socket is closed. */
const DRAIN_MS = 5_000;

/**
 * After an early answer (413 mid-stream, a denial before the body), the client may still be
 * sending. Closing at once would reset the connection before it reads the answer (RFC 9112
 * §9.6), so the rest is read and discarded, and the socket closed if that takes too long.
 */
export function discardRest(request: FastifyRequest): void {
  discardUnread(request.raw);
}

/** `discardRest` for a request answered before Fastify saw it (http/shed.ts). */
export function discardUnread(raw: IncomingMessage): void {
  if (raw.complete || raw.destroyed) return;
  const timer = setTimeout(() => {
    // An injected request (tests, `app.inject`) has a socket without destroy(): nothing to close.
    const socket = raw.socket as { destroy?: unknown } | null;
    if (typeof socket?.destroy === 'function') raw.socket.destroy();
  }, DRAIN_MS);
  timer.unref();
  raw.once('end', () => clearTimeout(timer));
  raw.once('close', () => clearTimeout(timer));
  raw.resume();
}
