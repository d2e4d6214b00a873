/**
 * Multipart uploads (SPEC §13, decision record 0044). Each step is decided by the gate on its
 * target (`s3.multipart`, so a write-once name refuses the upload at its start); parts are
 * blob-store temporaries (content-addressed, referenced by their part rows so that the orphan
 * sweep keeps them), at most 10,000 of them, each at most the artifact size limit. The completion
 * is one governed write — the parts streamed in order into the artifact service: one version, one
 * audit entry — with the ETag `"<md5 of the part md5s>-<parts>"`. Aborted, completed and
 * abandoned (24 h) uploads have their rows deleted and their part blobs removed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BucketError } from '../domain/errors.js';
import { minUploadRateOf } from '../domain/policy.js';
import { continueBody } from '../http/expect-continue.js';
import type { WriteResult } from '../services/artifacts/index.js';
import { ingest, openWriter, type Ingested } from '../services/ingest.js';
import type { UploadDigests } from './checksums.js';
import type { BlobStore, MetadataStore, S3PartRecord, S3UploadRecord } from '../storage/ports.js';
import {
  declaredSizeOf,
  header,
  readSmallBody,
  requestInfoOf,
  sendXml,
  signedSha256,
  uploadBody,
  userMetaOf,
  type ObjectTarget,
  type S3Context,
} from './context.js';
import { S3Error } from './errors.js';
import { childrenNamed, childText, parseXml } from './xml.js';

export const MAX_PARTS = 10_000;
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const UPLOAD_LIFETIME_MS = 24 * 3600 * 1000;
/** Open uploads per product at most: what an abandoned-upload flood can hold. */
export const MAX_OPEN_UPLOADS = 1000;

const noSuchUpload = () =>
  new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    404,
  );

/** The upload of the request, checked against its target and its creator. */
export async function uploadOf(ctx: S3Context, target: ObjectTarget): Promise<S3UploadRecord> {
  const id = ctx.query['uploadId'] ?? '';
  const upload = /^[0-9a-f]{32}$/.test(id) ? await ctx.bucket.metadata.getS3Upload(id) : null;
  if (
    !upload ||
    upload.product !== target.product ||
    upload.class !== target.class ||
    upload.name !== target.name ||
    upload.principalId !== ctx.principal.id
  ) {
    throw noSuchUpload();
  }
  return upload;
}

/** Decides a step; a part (`part`, of `size` bytes declared) is charged and sized like a write. */
function decideStep(
  ctx: S3Context,
  target: ObjectTarget,
  upload: S3UploadRecord | null,
  part?: { readonly size: number | null; readonly uploadBytes: number },
) {
  return ctx.bucket.artifacts.authorizeUploadStep({
    ...requestInfoOf(ctx),
    ...target,
    contentType: upload ? upload.contentType : (header(ctx, 'content-type') ?? null),
    meta: upload ? upload.meta : userMetaOf(ctx),
    declaredSize: part?.size ?? null,
    part: part !== undefined,
    ...(part ? { uploadBytes: part.uploadBytes } : {}),
  });
}

export async function createUpload(ctx: S3Context, target: ObjectTarget) {
  const outcome = await decideStep(ctx, target, null);
  ctx.request.decision = outcome.decision;
  if (userMetaOf(ctx)['subject'] !== undefined) {
    // Parts are blob temporaries until completion: a subject's would lie on disk in plaintext,
    // which SPEC §8 never allows (its contents are sealed as they are written).
    throw new S3Error(
      'InvalidRequest',
      'Contents of a data subject (x-amz-meta-subject) are sealed as they are written, which ' +
        'multipart parts are not: send the object in one PutObject (up to 5 GB; with the AWS ' +
        'CLI, raise multipart_threshold: aws configure set default.s3.multipart_threshold 5GB).',
    );
  }
  const open = await ctx.bucket.metadata.listS3Uploads(target.product, MAX_OPEN_UPLOADS);
  if (open.length >= MAX_OPEN_UPLOADS) {
    throw new S3Error(
      'SlowDown',
      `${MAX_OPEN_UPLOADS} multipart uploads are open in this bucket; complete or abort some.`,
      503,
      { 'retry-after': '60' },
    );
  }
  const upload: S3UploadRecord = {
    uploadId: randomBytes(16).toString('hex'),
    ...target,
    principalId: ctx.principal.id,
    contentType: header(ctx, 'content-type') ?? null,
    meta: userMetaOf(ctx),
    createdAt: new Date().toISOString(),
    claimedAt: null,
  };
  await ctx.bucket.metadata.insertS3Upload(upload);
  return sendXml(ctx, 'InitiateMultipartUploadResult', {
    Bucket: target.product,
    Key: `${target.class}/${target.name}`,
    UploadId: upload.uploadId,
  });
}

/** The `partNumber` parameter, 1 to 10,000 (InvalidArgument otherwise). */
export function partNumberOf(ctx: S3Context): number {
  const text = ctx.query['partNumber'] ?? '';
  const number = /^\d{1,5}$/.test(text) ? Number(text) : 0;
  if (number < 1 || number > MAX_PARTS) {
    throw new S3Error(
      'InvalidArgument',
      `Part number must be an integer between 1 and ${MAX_PARTS}, inclusive.`,
    );
  }
  return number;
}

export async function uploadPart(ctx: S3Context, target: ObjectTarget) {
  const partNumber = partNumberOf(ctx);
  const upload = await uploadOf(ctx, target);
  // The other parts' bytes count toward the object's limit (the completion decides the whole):
  // one SUM in the store, not a listing per part.
  const outcome = await decideStep(ctx, target, upload, {
    size: declaredSizeOf(ctx),
    uploadBytes: await ctx.bucket.metadata.sumS3PartSizes(upload.uploadId, partNumber),
  });
  let digests: UploadDigests;
  const { bucket } = ctx;
  const limits = bucket.policies.current().document.limits;
  // A part takes a write slot while it streams, like a write: concurrency stays bounded.
  const slot = await bucket.artifacts.batchSlot(target.product);
  if (!slot) {
    throw new S3Error('SlowDown', 'Every write slot is taken; retry shortly.', 503, {
      'retry-after': '1',
    });
  }
  let received: Ingested;
  try {
    const { body, digests: partDigests } = uploadBody(ctx);
    digests = partDigests;
    continueBody(ctx.request, ctx.reply);
    received = await ingest(body, bucket.blobs, {
      limit: outcome.bodyLimit ?? limits.maxArtifactBytes,
      buffer: false,
      inlineMax: 0,
      minimumRate: { bytesPerSecond: minUploadRateOf(limits) },
    });
  } finally {
    slot.release();
  }
  const writer = received.writer ?? (await openWriter(bucket.blobs, undefined));
  try {
    // A signed payload hash binds the part's bytes, as it does a PutObject's.
    const signed = signedSha256(ctx);
    if (signed !== null && signed !== received.sha256) {
      throw new S3Error(
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
    }
    if (!received.writer) await writer.write(received.bytes ?? Buffer.alloc(0));
    await writer.commit(received.sha256);
  } catch (error) {
    await writer.abort();
    throw error;
  }
  const md5 = digests.md5Of;
  const part: S3PartRecord = {
    uploadId: upload.uploadId,
    partNumber,
    size: received.size,
    md5,
    sha256: received.sha256,
    createdAt: new Date().toISOString(),
  };
  let stored: Awaited<ReturnType<typeof bucket.artifacts.storeUploadPart>>;
  try {
    stored = await bucket.artifacts.storeUploadPart(requestInfoOf(ctx), part, target.product);
  } catch (error) {
    // Past the quota or the capacity: nothing keeps its blob.
    await removePartBlobs(bucket, [part]);
    throw error;
  }
  if (stored === 'no_upload') {
    // Completed, claimed, aborted or swept while this part arrived: nothing keeps its blob.
    await removePartBlobs(bucket, [part]);
    throw noSuchUpload();
  }
  const { replaced } = stored;
  if (replaced && replaced.sha256 !== part.sha256) await removePartBlobs(bucket, [replaced]);
  ctx.reply.header('etag', `"${md5}"`);
  ctx.reply.header('x-bucket-sha256', received.sha256);
  return ctx.reply.code(200).send();
}

/** The parts named by a CompleteMultipartUpload body, in their order, checked. */
function partsToComplete(text: string, stored: readonly S3PartRecord[]): S3PartRecord[] {
  const document = parseXml(text);
  if (document.name !== 'CompleteMultipartUpload') {
    throw new S3Error('MalformedXML', 'The root element must be CompleteMultipartUpload.');
  }
  const byNumber = new Map(stored.map((part) => [part.partNumber, part]));
  const chosen: S3PartRecord[] = [];
  let previous = 0;
  for (const element of childrenNamed(document, 'Part')) {
    const number = Number(childText(element, 'PartNumber'));
    if (!Number.isInteger(number) || number <= previous) {
      throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order.');
    }
    previous = number;
    const part = byNumber.get(number);
    const etag = (childText(element, 'ETag') ?? '').replace(/"/g, '');
    if (!part || (etag !== '' && etag !== part.md5)) {
      throw new S3Error(
        'InvalidPart',
        `Part ${number} was not uploaded, or its ETag does not match.`,
      );
    }
    chosen.push(part);
  }
  if (chosen.length === 0) throw new S3Error('MalformedXML', 'Name at least one part.');
  chosen.forEach((part, index) => {
    if (index < chosen.length - 1 && part.size < MIN_PART_BYTES) {
      throw new S3Error(
        'EntityTooSmall',
        `Part ${part.partNumber} is smaller than 5 MiB and not the last.`,
      );
    }
  });
  return chosen;
}

function sumOfSizes(parts: readonly S3PartRecord[]): number {
  return parts.reduce((sum, part) => sum + part.size, 0);
}

/**
 * A part that no longer matches its SHA-256 (changed since it was stored): never the content.
 * Raised while the parts stream, it refuses the body as itself (services/ingest.ts `refusesBody`).
 */
function partChanged(part: S3PartRecord | undefined): BucketError {
  const error = new BucketError(
    'integrity_failure',
    `part ${part?.partNumber ?? '?'} no longer matches its SHA-256; upload it again`,
  );
  return Object.assign(error, { refusesBody: true });
}

/**
 * The parts joined by the blob store (off the event loop where it can): no byte passes through
 * the completion's request, and the whole is hashed as it is written (decision record 0051).
 */
async function joinedParts(blobs: BlobStore, parts: readonly S3PartRecord[]): Promise<Ingested> {
  if (!blobs.join) throw new Error('this blob store joins no contents');
  const joined = await blobs.join(parts.map((part) => part.sha256));
  if ('mismatch' in joined) {
    throw partChanged(parts.find((part) => part.sha256 === joined.mismatch));
  }
  return { size: joined.size, sha256: joined.sha256, bytes: null, writer: joined.writer };
}

/** The parts' bytes, one after the other, as the completion's body. */
function concatenated(blobs: BlobStore, parts: readonly S3PartRecord[]): Readable {
  // Each part is checked against its SHA-256 as it is read (off the event loop where the store
  // can): a part changed since it was stored fails the completion instead of becoming the content.
  async function* read(): AsyncGenerator<Buffer> {
    for (const part of parts) {
      if (!blobs.readHashed) {
        const hash = createHash('sha256');
        for await (const piece of await blobs.read(part.sha256)) {
          hash.update(piece as Buffer);
          yield piece as Buffer;
        }
        if (hash.digest('hex') !== part.sha256) throw partChanged(part);
        continue;
      }
      const hashed = await blobs.readHashed(part.sha256);
      for await (const piece of hashed.stream) yield piece as Buffer;
      if ((await hashed.digest) !== part.sha256) throw partChanged(part);
    }
  }
  return Readable.from(read(), { objectMode: false });
}

/**
 * CompleteMultipartUpload: the upload is claimed first, atomically, so that of two completions
 * racing one commits and the other answers NoSuchUpload having stored nothing; a part arriving
 * meanwhile is refused. A completion that fails gives its claim up: the client may try again.
 */
export async function completeUpload(ctx: S3Context, target: ObjectTarget) {
  const upload = await uploadOf(ctx, target);
  const { bucket } = ctx;
  const text = await readSmallBody(ctx);
  const stored = await bucket.metadata.claimS3Upload(upload.uploadId, new Date().toISOString());
  if (!stored) throw noSuchUpload();
  let etag: string;
  let result: WriteResult;
  try {
    const parts = partsToComplete(text, stored);
    const size = sumOfSizes(parts);
    const md5s = Buffer.concat(parts.map((part) => Buffer.from(part.md5, 'hex')));
    etag = `"${createHash('md5').update(md5s).digest('hex')}-${parts.length}"`;
    result = await bucket.artifacts.put({
      ...requestInfoOf(ctx),
      ...target,
      contentType: upload.contentType,
      declaredSize: size,
      meta: upload.meta,
      preconditions: { ifNoneMatch: false, ifVersion: null },
      sha256Claim: null,
      body: concatenated(bucket.blobs, parts),
      joined: bucket.blobs.join ? () => joinedParts(bucket.blobs, parts) : undefined,
      // Every part of the upload holds bytes, named in the completion or not.
      s3: {
        etag: () => etag,
        completes: { uploadId: upload.uploadId, heldBytes: sumOfSizes(stored) },
      },
    });
  } catch (error) {
    await bucket.metadata.releaseS3Upload(upload.uploadId).catch((failure: Error) => {
      // The upload stays claimed until the 24 h sweep removes it.
      ctx.request.log.warn({ err: failure.message }, 'multipart claim not released');
    });
    throw error;
  }
  ctx.request.decision = result.decision;
  // The commit deleted the upload's rows: its parts' blobs go now (those no version keeps).
  await removePartBlobs(bucket, stored);
  ctx.reply.header('x-amz-version-id', String(result.version.version));
  ctx.reply.header('x-bucket-sha256', result.version.sha256);
  ctx.reply.header('x-bucket-audit-leaf-index', String(result.receipt.leafIndex));
  return sendXml(ctx, 'CompleteMultipartUploadResult', {
    Location: `/${target.product}/${target.class}/${target.name}`,
    Bucket: target.product,
    Key: `${target.class}/${target.name}`,
    ETag: etag,
  });
}

export async function abortUpload(ctx: S3Context, target: ObjectTarget) {
  const upload = await uploadOf(ctx, target);
  const outcome = await decideStep(ctx, target, upload);
  ctx.request.decision = outcome.decision;
  // A completion holding the upload wins: it is no longer there to abort.
  if (!(await discard(ctx.bucket, upload.uploadId, true))) throw noSuchUpload();
  return ctx.reply.code(204).send();
}

type Stores = { readonly metadata: MetadataStore; readonly blobs: BlobStore };

/**
 * Removes part blobs no version and no other part references. Only a blob not written again since
 * its part was (last-modified no later than the part's row): a write storing the same bytes
 * meanwhile renews it and keeps it, as in the orphan sweep (services/content-sweeper.ts).
 */
async function removePartBlobs(stores: Stores, parts: readonly S3PartRecord[]): Promise<void> {
  for (const part of parts) {
    if (await stores.metadata.isContentReferenced(part.sha256)) continue;
    await stores.blobs
      .removeIfOlder(part.sha256, Date.parse(part.createdAt) + 1)
      .catch(() => false);
  }
}

/** Deletes an upload and removes its parts' blobs; false when there was none to delete. */
async function discard(stores: Stores, uploadId: string, unlessClaimed = false): Promise<boolean> {
  const parts = await stores.metadata.deleteS3Upload(uploadId, unlessClaimed);
  if (parts) await removePartBlobs(stores, parts);
  return parts !== null;
}

/** Removes uploads older than 24 h with their parts; answers how many. */
export async function sweepStaleUploads(stores: Stores, now = Date.now()): Promise<number> {
  const before = new Date(now - UPLOAD_LIFETIME_MS).toISOString();
  let removed = 0;
  for (;;) {
    const stale = await stores.metadata.staleS3Uploads(before, 100);
    for (const upload of stale) await discard(stores, upload.uploadId);
    removed += stale.length;
    if (stale.length < 100) return removed;
  }
}
