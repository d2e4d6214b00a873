/** The one place errors become HTTP answers: the SPEC §3 error envelope. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BucketError, ERRORS, type ErrorCode } from '../domain/errors.js';
import { DurabilityError } from '../storage/errors.js';

/** The Bucket's own headers about a content (its version, digest, metadata, legal hold). */
const CONTENT_HEADER_PREFIXES = [
  'x-bucket-version',
  'x-bucket-sha256',
  'x-bucket-meta-',
  'x-bucket-legal-hold',
];

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  408: 'request_timeout',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  431: 'headers_too_large',
  503: 'gate_unavailable',
};

/** Fastify errors whose message carries the whole URL: answered with the catalogue's message. */
const URL_ECHOING = new Set(['FST_ERR_MAX_PARAM_LENGTH', 'FST_ERR_BAD_URL']);

/** Fastify's terse messages a user cannot act on, said with what to send instead. */
const RESTATED: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE:
    'the Content-Type header is empty or not a media type (type/subtype): send one, e.g. ' +
    '"Content-Type: application/json" for JSON or "Content-Type: application/octet-stream" ' +
    "for bytes (curl: -H 'Content-Type: application/json')",
};

export function errorBody(
  requestId: string,
  code: string,
  message: string,
  extra: { decision?: unknown; details?: unknown } = {},
) {
  return {
    error: {
      code,
      message,
      requestId,
      ...(extra.decision !== undefined ? { decision: extra.decision } : {}),
      ...(extra.details !== undefined ? { details: extra.details } : {}),
    },
  };
}

/**
 * Fastify's own errors (schema validation, parsers, routing) mapped onto the catalogue: whatever
 * Fastify blames on the client stays a 4xx (SPEC §3), under its own code or `invalid_request`.
 */
function fromFastify(error: FastifyError): BucketError {
  const status = error.statusCode ?? 500;
  if (error.validation) {
    return new BucketError('invalid_request', error.message, { status: 400 });
  }
  if (status < 400 || status >= 500) {
    return new BucketError('internal_error', ERRORS.internal_error.message);
  }
  const code = CODE_BY_STATUS[status] ?? 'invalid_request';
  const message = URL_ECHOING.has(error.code)
    ? ERRORS[code].message
    : (RESTATED[error.code] ?? error.message);
  return new BucketError(code, message, { status });
}

/** The catalogue error a request answers with when it fails with `error`. */
export function answerFor(error: unknown): BucketError {
  return error instanceof BucketError
    ? error
    : error instanceof DurabilityError
      ? new BucketError('storage_unavailable', ERRORS.storage_unavailable.message)
      : fromFastify(error as FastifyError);
}

/** Headers that describe a content: an error answer sent in its place must not carry them. */
const REPRESENTATION = [
  'content-type',
  'content-length',
  'content-range',
  'content-disposition',
  'content-encoding',
  'etag',
  'last-modified',
  'accept-ranges',
];

/**
 * Forgets the headers a read set for the content it was about to send (its type, length, digest,
 * metadata): a read that fails before its first byte (a content that no longer hashes to its
 * digest, a store that stops answering) is answered with an error body, not with a content's
 * headers around it.
 */
export function dropRepresentation(
  reply: FastifyReply,
  doorPrefixes: readonly string[] = [],
): void {
  for (const name of Object.keys(reply.getHeaders())) {
    const lower = name.toLowerCase();
    const content =
      REPRESENTATION.includes(lower) ||
      CONTENT_HEADER_PREFIXES.some((prefix) => lower.startsWith(prefix)) ||
      doorPrefixes.some((prefix) => lower.startsWith(prefix));
    if (content) reply.removeHeader(name);
  }
}

export function sendError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const bucketError = answerFor(error);
  if (bucketError.code === 'client_closed') {
    // The client's doing, and nobody is left to read the answer: no failure of the Bucket.
    request.log.debug({ reason: bucketError.message }, 'client closed the connection');
  } else if (!(error instanceof BucketError) && bucketError.status >= 500) {
    request.log.error({ err: error }, 'unhandled error');
  }
  request.decision = bucketError.decision ?? request.decision;
  if (!reply.sent) dropRepresentation(reply);
  if (bucketError.headers) reply.headers(bucketError.headers);
  return reply.code(bucketError.status).send(
    errorBody(request.id, bucketError.code, bucketError.message, {
      decision: bucketError.decision,
      details: bucketError.details,
    }),
  );
}
