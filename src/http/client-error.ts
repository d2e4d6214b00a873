/**
 * Requests Node's HTTP parser refuses before Fastify sees them — bad chunk sizes, Content-Length
 * with Transfer-Encoding, a NUL in the path, headers over the size limit, a header timeout — are
 * answered like every other client error of their door (the SPEC §3 envelope, the S3 door's XML),
 * written straight to the socket since there is no request to answer (Node's `clientError` event).
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

/** A client error's answer as a door writes it: the native door's SPEC §3 envelope by default. */
export interface ClientErrorAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** Headers of the door's own (the S3 door's x-amz-request-id). */
  readonly headers: Readonly<Record<string, string>>;
}

export type ClientErrorFormat = (
  requestId: string,
  code: ErrorCode,
  message: string,
) => ClientErrorAnswer;

function envelopeAnswer(requestId: string, code: ErrorCode, message: string): ClientErrorAnswer {
  return {
    status: ERRORS[code].status,
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify(errorBody(requestId, code, message)),
    headers: {},
  };
}

/**
 * Whether the refused request is a HEAD, whose answer has no body (RFC 9110 §9.3.2): a body
 * would be read as the start of another answer. Known when the refused packet starts with the
 * request line, as a request sent in one piece does; a body is sent otherwise.
 */
function isHead(error: ConnectionError): boolean {
  const packet = (error as { rawPacket?: unknown }).rawPacket;
  return Buffer.isBuffer(packet) && packet.subarray(0, 5).toString('latin1') === 'HEAD ';
}

/** The `clientErrorHandler` of a Fastify app; `format` writes the answer in the door's shape. */
export function answerClientError(
  log: FastifyBaseLogger,
  format: ClientErrorFormat = envelopeAnswer,
) {
  return (error: ConnectionError, socket: Socket): void => {
    // A reset connection has nobody left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const code = CODE_OF[error.code] ?? 'invalid_request';
    const requestId = nextRequestId();
    // A client error, not the Bucket's: below the level of failures.
    log.debug({ reqId: requestId, code: error.code }, 'malformed request refused');
    const inProgress = (socket as ServerSocket)._httpMessage?.headersSent === true;
    if (socket.writable && !inProgress) {
      const message =
        code === 'invalid_request'
          ? `The request is not valid HTTP/1.1 (${error.code}).`
          : ERRORS[code].message;
      const { status, contentType, body, headers } = format(requestId, code, message);
      const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
          `content-type: ${contentType}\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\n` +
          `x-request-id: ${requestId}\r\n` +
          extra.join('') +
          'connection: close\r\n\r\n' +
          (isHead(error) ? '' : body),
      );
    }
    socket.destroy(error);
  };
}
