/**
 * Requests Node's HTTP parser refuses before Fastify sees them — bad chunk sizes, Content-Length
 * with Transfer-Encoding, a NUL in the path, headers over the size limit, a header timeout — are
 * answered in the SPEC §3 envelope like every other client error, written straight to the
 * socket since there is no request to answer (Node's `clientError` event).
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyBaseLogger } from 'fastify';
import { ERRORS, type ErrorCode } from '../domain/errors.js';
import { errorBody } from './errors.js';
import { nextRequestId } from './request.js';

/** Parser errors with a status of their own; every other one is a malformed request (400). */
const CODE_OF: Readonly<Record<string, ErrorCode>> = {
  HPE_HEADER_OVERFLOW: 'headers_too_large',
  ERR_HTTP_REQUEST_TIMEOUT: 'request_timeout',
};

/** A socket's response in progress, as Node's http server attaches it. */
interface ServerSocket extends Socket {
  readonly _httpMessage?: { readonly headersSent?: boolean } | null;
}

/** The `clientErrorHandler` of the Fastify app. */
export function answerClientError(log: FastifyBaseLogger) {
  return (error: ConnectionError, socket: Socket): void => {
    // A reset connection has nobody left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const code = CODE_OF[error.code] ?? 'invalid_request';
    const requestId = nextRequestId();
    // A client error, not the Bucket's: below the level of failures.
    log.debug({ reqId: requestId, code: error.code }, 'malformed request refused');
    const inProgress = (socket as ServerSocket)._httpMessage?.headersSent === true;
    if (socket.writable && !inProgress) {
      const { status } = ERRORS[code];
      const message =
        code === 'invalid_request'
          ? `The request is not valid HTTP/1.1 (${error.code}).`
          : ERRORS[code].message;
      const body = JSON.stringify(errorBody(requestId, code, message));
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
          'content-type: application/json; charset=utf-8\r\n' +
          `content-length: ${Buffer.byteLength(body)}\r\n` +
          `x-request-id: ${requestId}\r\n` +
          'connection: close\r\n\r\n' +
          body,
      );
    }
    socket.destroy(error);
  };
}
