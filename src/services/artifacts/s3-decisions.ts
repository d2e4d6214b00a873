/**
 * The decisions the S3 door (src/s3/) makes beside the artifact use cases: a listing decided once
 * before the door pages through the store itself (delimiters, continuation), and the steps of a
 * multipart upload before its completion (`s3.multipart`: decided on the target like the write it
 * leads to, so a write-once name refuses the upload before its parts are sent). A part is a write:
 * charged to the write rate, and its bytes held in the product's usage — within the quota and the
 * capacity — until its upload completes, is aborted or expires (decision record 0052).
 */
import { threat } from '../../domain/decision.js';
import { BucketError } from '../../domain/errors.js';
import { storageLimitsOf } from '../../domain/usage.js';
import type { GateOutcome } from '../../gate/decide.js';
import type { S3PartOutcome, S3PartRecord } from '../../storage/ports.js';
import type { RequestInfo } from '../authorize.js';
import { chargeRate, keyOf, loadTarget, type ArtifactDeps, type ArtifactRequest } from './deps.js';

export interface UploadStepRequest extends ArtifactRequest {
  readonly contentType: string | null;
  readonly meta: Readonly<Record<string, string>>;
  /** The part's declared size (UploadPart), or null. */
  readonly declaredSize: number | null;
  /** UploadPart: charged to the write rate, its declared size checked against the usage. */
  readonly part?: boolean;
  /** UploadPart: the bytes the upload's other parts hold (the object's limit counts them). */
  readonly uploadBytes?: number;
}

/** Charges a read and decides `artifact.list` on `product` (and `class`); throws a denial. */
export async function authorizeListing(
  deps: ArtifactDeps,
  request: RequestInfo & { readonly product: string; readonly class?: string | undefined },
): Promise<void> {
  const rate = await chargeRate(deps, 'read', request.product);
  await deps.authorizer.authorize(
    deps.authorizer.context(request, 'artifact.list', {
      product: request.product,
      class: request.class ?? null,
      rate,
    }),
  );
}

/** Decides a multipart step on its target (recorded as decided); throws a denial. */
export async function authorizeUploadStep(
  deps: ArtifactDeps,
  request: UploadStepRequest,
): Promise<GateOutcome> {
  const key = keyOf(request);
  // A part is charged like a write (SPEC §2.3), and its size meets the usage (stage 6, limits).
  const limits = request.part
    ? {
        rate: await chargeRate(deps, 'write', request.product),
        usage: await deps.metadata.usageFacts(request.product),
        uploadBytes: request.uploadBytes ?? 0,
      }
    : {};
  return deps.authorizer.authorize(
    deps.authorizer.context(request, 's3.multipart', {
      product: request.product,
      class: request.class,
      name: request.name,
      contentType: request.contentType,
      declaredSize: request.declaredSize,
      meta: request.meta,
      ...limits,
    }),
    () => loadTarget(deps, key),
  );
}

/**
 * Stores a part's row, its bytes held in the product's usage, re-checked against the storage
 * limits in the store's transaction (507 when racing writes used the room the gate saw, with a T5
 * alert, as a commit refused there has); `no_upload` when the upload is gone or claimed.
 */
export async function storeUploadPart(
  deps: ArtifactDeps,
  request: RequestInfo,
  part: S3PartRecord,
  product: string,
): Promise<Extract<S3PartOutcome, { stored: true }> | 'no_upload'> {
  const limits = storageLimitsOf(deps.policies.current().document, product);
  const outcome = await deps.metadata.putS3Part(part, product, limits);
  if (outcome.stored) return outcome;
  if (outcome.reason === 'no_upload') return 'no_upload';
  await deps.options.alert?.(request, [threat('T5', outcome.message)]);
  throw new BucketError('insufficient_storage', outcome.message);
}
