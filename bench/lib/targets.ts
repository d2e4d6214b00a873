/** The targets of issue 2 ("Speed and memory"), issue 3 (the gate) and issue 4 (the audit log) for this 2-core machine. */
import type { Target } from './report.js';

/** Governed 1 KiB writes: at least 40 % of the bare server's rate. */
export const PUT_RATE: Target = { kind: 'ratio-at-least', ratio: 0.4 };
/** 1 KiB reads: at least 30 % of the bare server's rate. */
export const GET_RATE: Target = { kind: 'ratio-at-least', ratio: 0.3 };
/** Large streamed upload and download: at least 150 MB/s each way. */
export const TRANSFER_SPEED: Target = { kind: 'at-least', value: 150 };
/** The server's peak RSS across the large upload and download: under 250 MB. */
export const TRANSFER_PEAK_RSS: Target = { kind: 'below', value: 250 };
/** The in-process decision of an allowed 1 KiB write (both phases): p99 at most 20 µs. */
export const GATE_DECISION_P99: Target = { kind: 'at-most', value: 20 };
/** 1 KiB writes with the full gate: at least 90 % of the rate with the bench's no-op gate. */
export const GATE_OVERHEAD: Target = { kind: 'at-least', value: 90 };
/** Issue 17: 1 KiB writes with the event outbox: at least 90 % of the rate without it. */
export const OUTBOX_OVERHEAD: Target = { kind: 'at-least', value: 90 };
/** Audit entries appended in-process through the group commit: at least 20,000 per second. */
export const AUDIT_APPEND_RATE: Target = { kind: 'at-least', value: 20_000 };
/** An inclusion proof built from storage at 1M entries: at most 1 ms (p99). */
export const AUDIT_PROOF_MS: Target = { kind: 'at-most', value: 1 };
/** Full verification of 1M entries: at most 30 s. */
export const AUDIT_VERIFY_SECONDS: Target = { kind: 'at-most', value: 30 };
/** Issue 17: 1,000 SSE subscribers on one node get a burst of 1,000 events with p99 lag under 1 s. */
export const EVENT_LAG_P99_MS: Target = { kind: 'below', value: 1000 };
/** Issue 18: a retention sweep over 1,000,000 versions, none of them due, in under 60 s. */
export const RETENTION_SWEEP_SECONDS: Target = { kind: 'below', value: 60 };

/** Issue 19: the foreground 1 KiB rates while a scrub runs, against the same Bucket idle. */
export const SCRUB_FOREGROUND: Target = { kind: 'ratio-at-least', ratio: 0.8 };

/** Issue 21: governed batch items (50 × 1 KiB a batch) per second, against bare PUT requests. */
export const BATCH_ITEMS_RATE: Target = { kind: 'ratio-at-least', ratio: 1.5 };
/** Issue 18: subject-bound (sealed) 200 MB transfers at 70 % or more of the plain rates, same run. */
export const SEALED_TRANSFER_RATIO: Target = { kind: 'at-least', value: 70 };
/** Issue 18: the erasure of a subject with 10,000 versions in under 10 s. */
export const ERASURE_SECONDS: Target = { kind: 'below', value: 10 };
/** Issue 19: `GET /v1/governance/certification` computed afresh, p99 with 1,000,000 versions. */
export const CERTIFICATION_P99_MS: Target = { kind: 'below', value: 200 };
/** Issue 19: a re-hashed whole read at 95 % or more of the same read unchecked, same run. */
export const INTEGRITY_READ_RATIO: Target = { kind: 'at-least', value: 95 };
/** Issue 21 / SPEC §15: served answers' p99 under 2 × maxEventLoopDelayMs (200 ms) at 3× load. */
export const OVERLOAD_SERVED_P99_MS: Target = { kind: 'below', value: 400 };
/** …and no request left waiting unanswered. */
export const OVERLOAD_UNANSWERED: Target = { kind: 'at-most', value: 0 };
/** Issue 22: the S3 door's 1 KiB PutObject/GetObject rates beside the native API's, same run. */
export const S3_RATE: Target = { kind: 'ratio-at-least', ratio: 0.8 };
/** Issue 22: `aws s3 cp` up and down beside the native streamed transfer, same run. */
export const S3_TRANSFER: Target = { kind: 'ratio-at-least', ratio: 0.8 };
