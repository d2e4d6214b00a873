/**
 * The error catalogue: every error the Bucket answers with has a stable snake_case code, an HTTP
 * status and a message. Errors are created here and mapped to HTTP in one place (src/http/errors.ts).
 */
import type { Decision, Threat } from './decision.js';

export interface ErrorSpec {
  readonly status: number;
  readonly message: string;
}

export const ERRORS = {
  invalid_request: { status: 400, message: 'The request is malformed.' },
  batch_too_large: {
    status: 400,
    message: 'The batch has more items than limits.maxBatch, or more than 64 MiB.',
  },
  invalid_batch_item: { status: 400, message: 'The batch item is not a valid put or delete.' },
  batch_aborted: {
    status: 409,
    message: 'An atomic batch item was not written because another item of the batch failed.',
  },
  invalid_name: { status: 400, message: 'The artifact name is not valid.' },
  invalid_json: { status: 400, message: 'The body is not valid JSON.' },
  json_not_object: { status: 400, message: 'The body must be a JSON object.' },
  invalid_metadata: { status: 400, message: 'The x-bucket-meta-* headers are not valid.' },
  sha256_mismatch: { status: 400, message: 'The content does not match x-bucket-sha256.' },
  invalid_cursor: { status: 400, message: 'The cursor is not valid.' },
  invalid_policy: { status: 400, message: 'The policy document is not valid.' },
  invalid_webhook: { status: 400, message: 'The webhook is not valid.' },
  invalid_exception: {
    status: 400,
    message: "The exception's patch does not apply, or makes an invalid policy or breaks a floor.",
  },
  invalid_run: {
    status: 400,
    message: "The run's input does not match its agents' input schemas, or the run is malformed.",
  },
  invalid_range: { status: 416, message: 'The requested range cannot be satisfied.' },
  unauthenticated: { status: 401, message: 'A valid API key is required.' },
  forbidden: { status: 403, message: 'Denied by governance.' },
  policy_floor: {
    status: 403,
    message: 'The policy would relax a floor no policy version may relax (SPEC §9).',
  },
  principal_suspended: { status: 403, message: 'This key is suspended.' },
  legal_hold: { status: 403, message: 'A legal hold covers the artifact.' },
  compliance_retention: {
    status: 403,
    message: 'Compliance-mode retention is never shortened or removed.',
  },
  not_found: { status: 404, message: 'Not found.' },
  artifact_not_found: { status: 404, message: 'No such artifact.' },
  version_not_found: { status: 404, message: 'No such version.' },
  artifact_deleted: { status: 404, message: 'The artifact is deleted (tombstoned).' },
  product_not_found: { status: 404, message: 'No such product.' },
  class_not_found: { status: 404, message: 'No such artifact class.' },
  key_not_found: { status: 404, message: 'No such key.' },
  policy_version_not_found: { status: 404, message: 'No such policy version.' },
  integration_not_found: { status: 404, message: 'No such integration.' },
  hold_not_found: { status: 404, message: 'No such legal hold.' },
  incident_not_found: { status: 404, message: 'No such incident.' },
  exception_not_found: { status: 404, message: 'No such exception.' },
  exception_decided: { status: 409, message: 'The exception is no longer pending.' },
  webhook_not_found: { status: 404, message: 'No such webhook.' },
  agent_not_found: { status: 404, message: 'No such agent.' },
  basket_not_found: { status: 404, message: 'No such basket.' },
  run_not_found: { status: 404, message: 'No such run.' },
  erasure_not_found: { status: 404, message: 'No such erasure.' },
  conflict: { status: 409, message: 'The request conflicts with the current state.' },
  version_conflict: { status: 409, message: 'The current version is not the expected one.' },
  incident_resolved: { status: 409, message: 'The incident is already resolved.' },
  not_restorable: { status: 409, message: 'The artifact has no restorable tombstone.' },
  restore_window_closed: {
    status: 409,
    message: 'The artifact was tombstoned more than 90 days ago; it can no longer be restored.',
  },
  sweep_running: { status: 409, message: 'A retention sweep is already running.' },
  scrub_not_found: { status: 404, message: 'No such scrub.' },
  scrub_running: { status: 409, message: 'A scrub is already running.' },
  content_purged: {
    status: 410,
    message: 'The content of this version was purged when its retention ended.',
  },
  policy_in_use: {
    status: 409,
    message: 'The policy removes a product or class that still has stored artifacts.',
  },
  request_timeout: { status: 408, message: 'The request was not received in time.' },
  already_exists: { status: 412, message: 'The artifact already exists.' },
  payload_too_large: { status: 413, message: 'The body exceeds the size limit.' },
  uri_too_long: {
    status: 414,
    message: 'The request target (path or a path parameter) is too long.',
  },
  unsupported_media_type: { status: 415, message: 'The content type is not accepted.' },
  schema_violation: { status: 422, message: 'The content fails the class schema.' },
  rate_limited: { status: 429, message: 'Too many requests.' },
  run_queue_full: {
    status: 429,
    message: 'limits.queuedRuns runs are queued already; try again when some have started.',
  },
  headers_too_large: { status: 431, message: 'The request headers are too large.' },
  client_closed: { status: 499, message: 'The client closed the connection.' },
  internal_error: { status: 500, message: 'Internal error.' },
  gate_unavailable: { status: 503, message: 'The governance gate is unavailable.' },
  overloaded: {
    status: 503,
    message:
      'The server is overloaded (its event-loop delay is over the latency limit); retry later.',
  },
  server_stopping: {
    status: 503,
    message:
      'This server is stopping: the request was not started. Retry in a moment (another node, or this one once it has restarted).',
  },
  integrity_failure: {
    status: 503,
    message:
      'The content no longer matches its recorded SHA-256, or is missing: it is not served, and the Bucket is read_only until the owner has checked it.',
  },
  bucket_read_only: {
    status: 503,
    message:
      'The Bucket is in read_only mode: reads work, writes are refused until the owner returns it to normal.',
  },
  bucket_halted: {
    status: 503,
    message:
      'The Bucket is halted: only health, metrics, the mode and incident routes and audit reads answer.',
  },
  storage_unavailable: {
    status: 503,
    message:
      'The Bucket cannot make writes durable (its disk failed a sync); nothing more is accepted ' +
      'until the operator checks the disk and restarts the server.',
  },
  insufficient_storage: { status: 507, message: 'A storage limit would be exceeded.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** Error.stackTraceLimit as it was before an answer's construction (see withoutStack). */
let stackTraceLimit = Error.stackTraceLimit;

/** The codes that report a fault of the Bucket (a 500 of any code too): they keep their stacks. */
const FAULTS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'internal_error',
  'gate_unavailable',
  'storage_unavailable',
  'integrity_failure',
]);

/**
 * `message`, with V8's stack capture switched off for the construction that follows unless the
 * error reports a fault: a refusal, a shed request or a mode's 503 is an answer, not a fault to
 * debug, and capturing its stack cost ~20–30 µs — a fifth of a refused or shed request under a
 * flood. Restored right after `super`.
 */
function withoutStack(code: ErrorCode, status: number, message: string): string {
  stackTraceLimit = Error.stackTraceLimit;
  if (status !== 500 && !FAULTS.has(code)) Error.stackTraceLimit = 0;
  return message;
}

export class BucketError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly decision: Decision | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;
  /** Threats found after the request was allowed (a policy breaking a floor: T4). */
  readonly threats: Threat[] | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options: {
      decision?: Decision;
      details?: Record<string, unknown>;
      headers?: Record<string, string>;
      status?: number;
      threats?: Threat[];
    } = {},
  ) {
    const status = options.status ?? ERRORS[code].status;
    super(withoutStack(code, status, message ?? ERRORS[code].message));
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'BucketError';
    this.code = code;
    this.status = status;
    this.decision = options.decision;
    this.details = options.details;
    this.headers = options.headers;
    this.threats = options.threats;
  }
}

export function isBucketError(error: unknown): error is BucketError {
  return error instanceof BucketError;
}
