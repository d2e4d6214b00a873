/**
 * Writing a new version (SPEC §3 PUT): decided on its headers, the body streamed through `ingest`,
 * decided again on the received body from stage 4 on, then committed with its audit entry.
 */
import type { Readable } from 'node:stream';
import type { CopiedFrom } from '../../audit/entry.js';
import { retentionFor, type ArtifactVersion } from '../../domain/artifact.js';
import { BucketError } from '../../domain/errors.js';
import { SUBJECT_META_KEY } from '../../domain/subjects.js';
import type { UsageFacts } from '../../domain/usage.js';
import { minUploadRateOf, ruleOf, type PolicyVersion } from '../../domain/policy.js';
import {
  withTargetAndContent,
  type GateContext,
  type Preconditions,
  type ReceivedContent,
  type TargetState,
} from '../../gate/context.js';
import type { GateOutcome } from '../../gate/decide.js';
import { JSON_MEDIA_TYPE, mediaTypeOf } from '../../gate/stages/content.js';
import { sealBytes, type ContentSeal } from '../../storage/sealed.js';
import { BodyTooLargeError, ingest, openWriter, type Ingested } from '../ingest.js';
import { commitWithinLimits, conflictError, versionCommit } from './commit.js';
import {
  acquireWriteSlot,
  chargeRate,
  keyOf,
  loadTarget,
  nowIso,
  type ArtifactDeps,
  type ArtifactRequest,
  type WriteResult,
} from './deps.js';

/** Commits retried after concurrent writes moved the head, before answering 409. */
const MAX_COMMIT_ATTEMPTS = 20;

export interface PutArtifactRequest extends ArtifactRequest {
  readonly contentType: string | null;
  readonly declaredSize: number | null;
  readonly meta: Record<string, string>;
  readonly preconditions: Preconditions;
  readonly sha256Claim: string | null;
  /** The content: streamed, or already in memory (a batch's item). */
  readonly body: Readable | Buffer;
  /** Called once the headers are accepted, just before the body is read (HTTP's 100 Continue). */
  readonly beforeBody?: () => void;
  /** A write through the S3 door (src/s3/): what it commits beside the version. */
  readonly s3?: S3Write;
  /**
   * The content joined by the blob store instead of `body` (an S3 completion, decision record
   * 0051): used when the content is neither inspected, sealed nor small enough to be inline.
   */
  readonly joined?: () => Promise<Ingested>;
  /** A copy's write: the version it copies, whose read was decided with it (`readCopySource`). */
  readonly copiedFrom?: CopiedFrom;
}

/** What a write through the S3 door brings to its commit. */
export interface S3Write {
  /** Its S3 ETag, asked once the body is received (an MD5 computed while it streamed). */
  readonly etag?: () => string;
  /**
   * The claimed multipart upload the write completes, and the bytes its parts hold in the
   * product's usage: the content replaces them, so the gate does not count them twice and the
   * commit releases them (decision record 0052).
   */
  readonly completes?: { readonly uploadId: string; readonly heldBytes: number };
}

export async function putArtifact(
  deps: ArtifactDeps,
  request: PutArtifactRequest,
): Promise<WriteResult> {
  const rate = await chargeRate(deps, 'write', request.product, request.batch?.paceUntil);
  const slot = await acquireWriteSlot(deps, rate, request.product, request.batch);
  try {
    const key = keyOf(request);
    const usage = withoutHeld(
      await deps.metadata.usageFacts(request.product),
      request.s3?.completes?.heldBytes ?? 0,
    );
    const ctx = deps.authorizer.context(request, 'artifact.write', {
      product: request.product,
      class: request.class,
      name: request.name,
      contentType: request.contentType,
      declaredSize: request.declaredSize,
      meta: request.meta,
      preconditions: request.preconditions,
      sha256Claim: request.sha256Claim,
      writeSlot: slot !== null,
      usage,
      rate,
    });
    const header = await deps.authorizer.authorizeChange(ctx, () => loadTarget(deps, key));
    return await deps.authorizer.settleChange(
      header.decision,
      request.requestId,
      receiveAndCommit(deps, request, ctx, header),
    );
  } finally {
    slot?.release();
  }
}

/**
 * Receives the body, cut off at the limit the header phase set, decides it against the target and
 * commits it. Another write may move the head after the decision: an unconditional write is then
 * decided again against the new head (a write-once class now refuses it as an UPDATE); a
 * conditional one answers with the conflict it asked to be told about.
 */
async function receiveAndCommit(
  deps: ArtifactDeps,
  request: PutArtifactRequest,
  ctx: GateContext,
  header: GateOutcome,
): Promise<WriteResult> {
  // The gate inspects JSON bodies, so they are received whole (at most the class maximum).
  const inspect = mediaTypeOf(request.contentType) === JSON_MEDIA_TYPE;
  const limits = ctx.policy.document.limits;
  let received: Ingested;
  const subject = request.meta[SUBJECT_META_KEY];
  // SPEC §8: a subject-bound content is sealed under its subject's key before it is stored.
  const sealing =
    subject === undefined ? null : await deps.options.subjectKeys.forWrite(subject, nowIso(deps));
  request.beforeBody?.();
  const limit = header.bodyLimit ?? limits.maxArtifactBytes;
  // Joined by the store (an S3 completion): a content kept whole in a blob, neither inspected,
  // sealed nor inline; any other is received as a stream.
  const joinable =
    request.joined !== undefined &&
    !inspect &&
    sealing === null &&
    (request.declaredSize ?? 0) > deps.options.inlineMaxBytes;
  try {
    received =
      joinable && request.joined
        ? await withinLimit(await request.joined(), limit)
        : await ingest(request.body, deps.blobs, {
            limit,
            buffer: inspect,
            inlineMax: deps.options.inlineMaxBytes,
            minimumRate: { bytesPerSecond: minUploadRateOf(limits) },
            seal: sealing?.seal,
          });
  } catch (error) {
    return refuseCutOff(deps, ctx, header, error);
  }
  try {
    const content: ReceivedContent = {
      size: received.size,
      sha256: received.sha256,
      bytes: inspect ? received.bytes : null,
    };
    const inline = received.bytes !== null && received.size <= deps.options.inlineMaxBytes;
    const conditional =
      request.preconditions.ifNoneMatch || request.preconditions.ifVersion !== null;
    let target: TargetState = header.target ?? { head: null };
    let blobStored = false;
    const s3 = request.s3 && {
      etag: request.s3.etag?.(),
      completesUpload: request.s3.completes?.uploadId,
    };
    for (let attempt = 1; ; attempt++) {
      const body = await deps.authorizer.authorizeBody(
        withTargetAndContent(ctx, target, content),
        header,
      );
      const head = target.head;
      const version = newVersion(request, ctx.policy, head, received, inline, nowIso(deps));
      if (!inline && !blobStored) {
        await storeBlob(deps, received, sealing?.seal);
        blobStored = true;
      }
      const bytes = inline ? received.bytes : null;
      const commit = versionCommit(
        request,
        body.decision,
        sealing ? { ...version, sealed: sealing.ref } : version,
        head === null ? 201 : 200,
        head?.version ?? 0,
        bytes && sealing ? sealBytes(sealing.seal, bytes) : bytes,
      );
      const { copiedFrom } = request;
      const result = await commitWithinLimits(deps, request, {
        ...commit,
        audit: copiedFrom ? { ...commit.audit, copiedFrom } : commit.audit,
        newSubjectKey: sealing?.newKey,
        s3,
      });
      if (result.ok) {
        return {
          created: head === null,
          version,
          decision: body.decision,
          receipt: result.receipt,
        };
      }
      if (conditional || attempt >= MAX_COMMIT_ATTEMPTS) {
        throw conflictError(version, result.current);
      }
      target = await loadTarget(deps, keyOf(request));
    }
  } finally {
    await received.writer?.abort();
  }
}

/** A joined content over the limit is refused as a body cut off there (it is never kept). */
async function withinLimit(joined: Ingested, limit: number): Promise<Ingested> {
  if (joined.size <= limit) return joined;
  await joined.writer?.abort();
  throw new BodyTooLargeError(joined.size);
}

/** A body cut off at the header phase's limit: the 413 decided on what arrived. */
async function refuseCutOff(
  deps: ArtifactDeps,
  ctx: GateContext,
  header: GateOutcome,
  error: unknown,
): Promise<never> {
  if (!(error instanceof BodyTooLargeError)) throw error;
  const cutOff = { size: error.size, sha256: '', bytes: null };
  await deps.authorizer.authorizeBody(withTargetAndContent(ctx, header.target, cutOff), header);
  // Unreachable unless the gate's limit and the ingest limit disagree: fail closed.
  throw new BucketError('payload_too_large');
}

function newVersion(
  request: PutArtifactRequest,
  policy: PolicyVersion,
  head: ArtifactVersion | null,
  received: Ingested,
  inline: boolean,
  createdAt: string,
): ArtifactVersion {
  const classRule = ruleOf(policy.document.classes, request.class);
  const subject = request.meta[SUBJECT_META_KEY];
  return {
    product: request.product,
    class: request.class,
    name: request.name,
    version: (head?.version ?? 0) + 1,
    sha256: received.sha256,
    size: received.size,
    contentType: request.contentType ?? defaultContentType(classRule?.content),
    meta: request.meta,
    createdAt,
    createdBy: request.principal.id,
    retention: retentionFor(classRule?.retention ?? { mode: 'none', period: null }, createdAt),
    tombstone: false,
    storage: inline ? 'inline' : 'blob',
    ...(subject === undefined ? {} : { subject }),
  };
}

/**
 * Makes the received bytes durable in the blob store: under their SHA-256, or sealed under their
 * content id when subject-bound.
 */
async function storeBlob(
  deps: ArtifactDeps,
  received: Ingested,
  seal: ContentSeal | undefined,
): Promise<void> {
  if (received.writer) {
    await received.writer.commit(received.sha256);
    return;
  }
  // Buffered for inspection but too large to keep inline.
  const writer = await openWriter(deps.blobs, seal);
  try {
    await writer.write(received.bytes ?? Buffer.alloc(0));
    await writer.commit(received.sha256);
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** Usage without the bytes a completed upload's parts hold (the content takes their place). */
function withoutHeld(usage: UsageFacts, held: number): UsageFacts {
  if (held === 0) return usage;
  return {
    product: { ...usage.product, bytes: usage.product.bytes - held },
    total: { ...usage.total, bytes: usage.total.bytes - held },
  };
}

function defaultContentType(content: unknown): string {
  if (content === 'json' || content === 'system') return JSON_MEDIA_TYPE;
  return 'application/octet-stream';
}
