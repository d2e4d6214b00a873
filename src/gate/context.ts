/** What the gate decides on: the request context every route builds (SPEC §4.1). */
import type { ArtifactVersion } from '../domain/artifact.js';
import type { LegalHold } from '../domain/holds.js';
import type { Reason, Threat } from '../domain/decision.js';
import { ERRORS, type ErrorCode } from '../domain/errors.js';
import type { IntegrationRecord } from '../domain/integration.js';
import type { Mode } from '../domain/modes.js';
import type { Operation, PolicyVersion } from '../domain/policy.js';
import type { Principal } from '../domain/principal.js';
import type { UsageFacts } from '../domain/usage.js';
import type { RateVerdict } from '../domain/rates.js';
import type { Action } from './actions.js';

/** What stage 4 knows of the target after stages 1–3 allowed looking it up. */
export interface TargetState {
  readonly head: ArtifactVersion | null;
  /** The active legal holds covering the target's current version (SPEC §8), when looked up. */
  readonly holds?: readonly LegalHold[];
  /**
   * The version a retention change addresses: absent for the head, null when the version it names
   * does not exist.
   */
  readonly version?: ArtifactVersion | null;
}

/** What a retention change asks for (SPEC §8): the new end, null for permanent. */
export interface RetentionChange {
  readonly until: string | null;
}

export interface Preconditions {
  /** `If-None-Match: *`: the name must not exist. */
  readonly ifNoneMatch: boolean;
  /** `x-bucket-if-version: n`: the current version must be n. */
  readonly ifVersion: number | null;
}

export interface ReceivedContent {
  readonly size: number;
  /** SHA-256 (hex) of the received bytes. */
  readonly sha256: string;
  /** The bytes, present for classes whose content the gate inspects (JSON). */
  readonly bytes: Buffer | null;
}

export interface GateContext {
  readonly requestId: string;
  readonly principal: Principal;
  readonly action: Action;
  readonly policy: PolicyVersion;
  /** The Bucket's mode as this node knows it when the request is decided (SPEC §9). */
  readonly mode: Mode;
  readonly product: string | null;
  readonly class: string | null;
  readonly name: string | null;
  readonly contentType: string | null;
  /** The size the request declares (`Content-Length`), when it does. */
  readonly declaredSize: number | null;
  readonly meta: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Names of the request's headers, lower-case (bypass attempts, SPEC §5 T4). */
  readonly headerNames?: readonly string[];
  readonly preconditions: Preconditions;
  /** The client's `x-bucket-sha256`, a claim checked against the received bytes. */
  readonly sha256Claim: string | null;
  /**
   * The target's state: set on the context the gate decides stages 4–6 on once it looked the
   * target up, and on the body-phase context of a write (`withTargetAndContent`).
   */
  readonly target?: TargetState;
  /** Present on the body-phase decision of a write, once the body has been received. */
  readonly content?: ReceivedContent;
  /** Whether the limiter granted a write slot for this request (writes only). */
  readonly writeSlot?: boolean;
  /** Stored usage of the product and the Bucket, read by the service for writes (quota, capacity). */
  readonly usage?: UsageFacts;
  /** The limiter's rate verdict on this artifact request (writes and reads; SPEC §2.3). */
  readonly rate?: RateVerdict;
  /**
   * The integration the principal acts through, as it stands at decision time (null when the key
   * names none or it does not exist); stage 2 decides on it.
   */
  readonly integration?: IntegrationRecord | null;
  /** The retention a change of it asks for (`artifact.retention`). */
  readonly retentionChange?: RetentionChange;
  /**
   * An S3 part (`s3.multipart` with a size): the bytes its upload's other parts hold. The part may
   * be at most what is left of the object's limit — a 600 MB upload to a 500 MB class is refused
   * at the part that crosses it, not after its last byte at the completion.
   */
  readonly uploadBytes?: number;
}

/**
 * A copy of `c` with the target's state and the received content: the context stages 4–6 decide
 * on once the target is known (and, for the body phase of a write, the body received). Contexts
 * are built on every request and read by every stage: built field by field, in the order of
 * `Authorizer.context`, they all share one hidden class, where spreads of differently shaped
 * objects made V8 fall back to its slow property paths.
 */
export function withTargetAndContent(
  c: GateContext,
  target: TargetState | undefined,
  content: ReceivedContent | undefined,
): GateContext {
  return {
    requestId: c.requestId,
    principal: c.principal,
    action: c.action,
    policy: c.policy,
    mode: c.mode,
    product: c.product,
    class: c.class,
    name: c.name,
    contentType: c.contentType,
    declaredSize: c.declaredSize,
    meta: c.meta,
    query: c.query,
    headerNames: c.headerNames,
    preconditions: c.preconditions,
    sha256Claim: c.sha256Claim,
    target,
    content,
    writeSlot: c.writeSlot,
    usage: c.usage,
    rate: c.rate,
    integration: c.integration,
    retentionChange: c.retentionChange,
    uploadBytes: c.uploadBytes,
  };
}

/** What one stage found: a denial (the first one wins) and any threats. */
export interface StageVerdict {
  readonly deny?: { status: number; code: ErrorCode; reasons: Reason[] };
  readonly threats?: Threat[];
  /** Stage 4 resolves the class operation of a write (CREATE or UPDATE). */
  readonly operation?: Operation;
}

export const ALLOW: StageVerdict = Object.freeze({});

/** A denial answered with `code`, at the catalogue's status for it (domain/errors.ts). */
export function deny(code: ErrorCode, reasons: Reason[], threats: Threat[] = []): StageVerdict {
  return { deny: { status: ERRORS[code].status, code, reasons }, threats };
}
