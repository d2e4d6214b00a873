/**
 * The decisions the S3 door (src/s3/) makes beside the artifact use cases: a listing decided once
 * before the door pages through the store itself (delimiters, continuation), and the steps of a
 * multipart upload before its completion (`s3.multipart`: decided on the target like the write it
 * leads to, so a write-once name refuses the upload before its parts are sent).
 */
import type { GateOutcome } from '../../gate/decide.js';
import type { RequestInfo } from '../authorize.js';
import { chargeRate, keyOf, loadTarget, type ArtifactDeps, type ArtifactRequest } from './deps.js';

export interface UploadStepRequest extends ArtifactRequest {
  readonly contentType: string | null;
  readonly meta: Readonly<Record<string, string>>;
  /** The part's declared size (UploadPart), or null. */
  readonly declaredSize: number | null;
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
export function authorizeUploadStep(
  deps: ArtifactDeps,
  request: UploadStepRequest,
): Promise<GateOutcome> {
  const key = keyOf(request);
  return deps.authorizer.authorize(
    deps.authorizer.context(request, 's3.multipart', {
      product: request.product,
      class: request.class,
      name: request.name,
      contentType: request.contentType,
      declaredSize: request.declaredSize,
      meta: request.meta,
    }),
    () => loadTarget(deps, key),
  );
}
