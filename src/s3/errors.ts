/**
 * S3's errors (SPEC §13): `<Error><Code/><Message/><Resource/><RequestId/></Error>`. The Bucket's
 * own errors map onto S3's codes; a gate denial is AccessDenied whose message names the rule and
 * the threats; rates are SlowDown (503 with Retry-After) as S3 answers them.
 */
import type { Decision } from '../domain/decision.js';
import { BucketError, type ErrorCode } from '../domain/errors.js';
import { answerFor } from '../http/errors.js';
import { BodyTooLargeError } from '../services/ingest.js';

export class S3Error extends Error {
  /** Raised while a body streams, it refuses the content (services/ingest.ts `refusesBody`). */
  readonly refusesBody = true;

  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

export interface S3ErrorAnswer {
  readonly code: string;
  readonly status: number;
  readonly message: string;
  readonly headers: Record<string, string>;
  readonly decision: Decision | undefined;
}

const BY_CODE: Partial<Record<ErrorCode, readonly [string, number]>> = {
  unauthenticated: ['InvalidAccessKeyId', 403],
  forbidden: ['AccessDenied', 403],
  policy_floor: ['AccessDenied', 403],
  principal_suspended: ['AccessDenied', 403],
  legal_hold: ['AccessDenied', 403],
  compliance_retention: ['AccessDenied', 403],
  not_found: ['NoSuchKey', 404],
  artifact_not_found: ['NoSuchKey', 404],
  artifact_deleted: ['NoSuchKey', 404],
  class_not_found: ['NoSuchKey', 404],
  version_not_found: ['NoSuchVersion', 404],
  product_not_found: ['NoSuchBucket', 404],
  invalid_range: ['InvalidRange', 416],
  already_exists: ['PreconditionFailed', 412],
  version_conflict: ['OperationAborted', 409],
  conflict: ['OperationAborted', 409],
  payload_too_large: ['EntityTooLarge', 413],
  request_timeout: ['RequestTimeout', 400],
  headers_too_large: ['RequestHeaderSectionTooLarge', 400],
  sha256_mismatch: ['XAmzContentSHA256Mismatch', 400],
  invalid_name: ['InvalidArgument', 400],
  invalid_metadata: ['InvalidArgument', 400],
  invalid_json: ['InvalidArgument', 400],
  json_not_object: ['InvalidArgument', 400],
  invalid_cursor: ['InvalidArgument', 400],
  unsupported_media_type: ['XBucketUnsupportedMediaType', 415],
  schema_violation: ['XBucketSchemaViolation', 422],
  content_purged: ['XBucketContentPurged', 410],
  rate_limited: ['SlowDown', 503],
  overloaded: ['SlowDown', 503],
  server_stopping: ['ServiceUnavailable', 503],
  insufficient_storage: ['XBucketStorageFull', 507],
  bucket_read_only: ['ServiceUnavailable', 503],
  bucket_halted: ['ServiceUnavailable', 503],
  gate_unavailable: ['ServiceUnavailable', 503],
  integrity_failure: ['ServiceUnavailable', 503],
  storage_unavailable: ['ServiceUnavailable', 503],
  internal_error: ['InternalError', 500],
  client_closed: ['RequestTimeout', 499],
};

/** A denial's message: the rules that denied and the threats found (SPEC §13). */
function denialMessage(error: BucketError, decision: Decision): string {
  const rules = decision.reasons.map((reason) => `${reason.rule}: ${reason.message}`);
  const threats = decision.threats.map((found) => `${found.id} ${found.name} (${found.evidence})`);
  return (
    `Denied by the governance gate (${error.code}). Rule ${rules.join('; ') || 'none'}.` +
    (threats.length > 0 ? ` Threats: ${threats.join('; ')}.` : '') +
    ` Decision ${decision.id}.`
  );
}

export function s3ErrorFor(error: unknown): S3ErrorAnswer {
  if (error instanceof S3Error) {
    return {
      code: error.code,
      status: error.status,
      message: error.message,
      headers: error.headers,
      decision: undefined,
    };
  }
  if (error instanceof BodyTooLargeError) {
    return {
      code: 'EntityTooLarge',
      status: 413,
      message: 'Your proposed upload exceeds the maximum allowed size.',
      headers: {},
      decision: undefined,
    };
  }
  const bucketError = answerFor(error);
  const [code, status] = BY_CODE[bucketError.code] ?? [
    bucketError.status >= 500 ? 'InternalError' : 'InvalidRequest',
    bucketError.status,
  ];
  const headers: Record<string, string> = { ...bucketError.headers };
  if (code === 'SlowDown' && headers['retry-after'] === undefined) headers['retry-after'] = '1';
  const decision = bucketError.decision;
  const message =
    decision && !decision.allow ? denialMessage(bucketError, decision) : bucketError.message;
  return { code, status, message, headers, decision };
}
