/** The one place errors become HTTP answers: the SPEC §3 error envelope. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { BucketError, ERRORS, type ErrorCode } from '../domain/errors.js';
import { DurabilityError } from '../storage/errors.js';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'gate_unavailable',
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

/** Fastify's own errors (schema validation, parsers) mapped onto the catalogue. */
function fromFastify(error: FastifyError): BucketError {
  const status = error.statusCode ?? 500;
  if (error.validation) {
    return new BucketError('invalid_request', error.message, { status: 400 });
  }
  const code = CODE_BY_STATUS[status];
  if (code && status < 500) return new BucketError(code, error.message, { status });
  return new BucketError('internal_error', ERRORS.internal_error.message);
}

/** The catalogue error a request answers with when it fails with `error`. */
export function answerFor(error: unknown): BucketError {
  return error instanceof BucketError
    ? error
    : error instanceof DurabilityError
      ? new BucketError('storage_unavailable', ERRORS.storage_unavailable.message)
      : fromFastify(error as FastifyError);
}

export function sendError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const bucketError = answerFor(error);
  if (!(error instanceof BucketError) && bucketError.status >= 500) {
    request.log.error({ err: error }, 'unhandled error');
  }
  request.decision = bucketError.decision ?? request.decision;
  if (bucketError.headers) reply.headers(bucketError.headers);
  return reply.code(bucketError.status).send(
    errorBody(request.id, bucketError.code, bucketError.message, {
      decision: bucketError.decision,
      details: bucketError.details,
    }),
  );
}
