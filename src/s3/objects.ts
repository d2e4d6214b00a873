/**
 * S3 object operations (SPEC §13) on the artifact service, one gate decision and one audit entry
 * each, like the native routes: PutObject, GetObject and HeadObject (Range, If-Match,
 * If-None-Match, If-Modified-Since, If-Unmodified-Since, versionId, partNumber 1), DeleteObject
 * (a tombstone), GetObjectRetention and GetObjectLegalHold. DeleteObjects and CopyObject are in
 * batch.ts.
 */
import { BucketError } from '../domain/errors.js';
import { continueBody } from '../http/expect-continue.js';
import { ifRangeHolds } from '../http/if-range.js';
import { parseRange } from '../http/range.js';
import {
  declaredSizeOf,
  etagOf,
  header,
  objectHeaders,
  requestInfoOf,
  sendXml,
  signedSha256,
  targetOf,
  uploadBody,
  userMetaOf,
  versionIdOf,
  type ObjectTarget,
  type S3Context,
} from './context.js';
import { S3Error } from './errors.js';
import { partNumberOf } from './multipart.js';

/** PutObject: the body streamed into the artifact service, its MD5 the ETag. */
export async function putObject(ctx: S3Context, target: ObjectTarget) {
  const ifNoneMatch = header(ctx, 'if-none-match');
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new S3Error('NotImplemented', 'PutObject supports only If-None-Match: *.', 501);
  }
  const { body, digests } = uploadBody(ctx);
  const result = await ctx.bucket.artifacts.put({
    ...requestInfoOf(ctx),
    ...target,
    contentType: header(ctx, 'content-type') ?? null,
    declaredSize: declaredSizeOf(ctx),
    meta: userMetaOf(ctx),
    preconditions: { ifNoneMatch: ifNoneMatch !== undefined, ifVersion: null },
    sha256Claim: signedSha256(ctx),
    body,
    beforeBody: () => continueBody(ctx.request, ctx.reply),
    // Committed with the version (decision record 0052): no crash leaves it without its ETag.
    s3: { etag: () => `"${digests.md5Of}"` },
  });
  ctx.request.decision = result.decision;
  const etag = `"${digests.md5Of}"`;
  const { reply } = ctx;
  reply.header('etag', etag);
  reply.header('x-amz-version-id', String(result.version.version));
  reply.header('x-bucket-sha256', result.version.sha256);
  reply.header('x-bucket-audit-leaf-index', String(result.receipt.leafIndex));
  for (const [name, value] of Object.entries(ctx.request.headers)) {
    if (name.startsWith('x-amz-checksum-') && typeof value === 'string') reply.header(name, value);
  }
  return reply.code(200).send();
}

function etagListMatches(list: string, etag: string): boolean {
  return list.split(',').some((tag) => {
    const trimmed = tag.trim().replace(/^W\//, '');
    return trimmed === '*' || trimmed === etag || `"${trimmed}"` === etag;
  });
}

/**
 * `partNumber` of a GetObject or HeadObject: the Bucket serves every object whole, so only part 1
 * (all of it, as S3 answers it for an object not uploaded in parts) is one it can serve; another
 * part would be served as the whole object and a client reassembling parts would corrupt it.
 */
function checkPartNumber(ctx: S3Context): void {
  if (ctx.query['partNumber'] === undefined) return;
  const partNumber = partNumberOf(ctx);
  if (header(ctx, 'range') !== undefined) {
    throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber.');
  }
  if (partNumber !== 1) {
    throw new S3Error(
      'InvalidPartNumber',
      'The object is served whole, as its part 1: ask for part 1 or for a Range.',
      416,
    );
  }
}

/** GetObject and HeadObject. */
export async function getObject(ctx: S3Context, target: ObjectTarget, withBody: boolean) {
  checkPartNumber(ctx);
  const read = await ctx.bucket.artifacts.read({
    ...requestInfoOf(ctx),
    ...target,
    version: versionIdOf(ctx),
    content: withBody,
  });
  const { version } = read;
  const etag = await etagOf(ctx, version);
  const { reply } = ctx;
  objectHeaders(ctx, version, etag);
  if (read.legalHold) reply.header('x-amz-object-lock-legal-hold', 'ON');
  const modified = Math.floor(Date.parse(version.createdAt) / 1000) * 1000;
  const ifMatch = header(ctx, 'if-match');
  const ifNoneMatch = header(ctx, 'if-none-match');
  const ifUnmodified = Date.parse(header(ctx, 'if-unmodified-since') ?? '');
  const ifModified = Date.parse(header(ctx, 'if-modified-since') ?? '');
  if (ifMatch !== undefined ? !etagListMatches(ifMatch, etag) : modified > ifUnmodified) {
    throw new S3Error(
      'PreconditionFailed',
      'At least one of the preconditions you specified did not hold.',
      412,
    );
  }
  if (ifNoneMatch !== undefined ? etagListMatches(ifNoneMatch, etag) : modified <= ifModified) {
    return reply.code(304).send();
  }
  const range = ifRangeHolds(header(ctx, 'if-range'), {
    etag,
    lastModified: new Date(version.createdAt).toUTCString(),
  })
    ? parseRange(header(ctx, 'range'), version.size)
    : ({ kind: 'full' } as const);
  if (range.kind === 'unsatisfiable') {
    throw new S3Error('InvalidRange', 'The requested range is not satisfiable.', 416, {
      'content-range': `bytes */${version.size}`,
    });
  }
  if (range.kind === 'partial') {
    const { start, end } = range.range;
    reply.code(206);
    reply.header('content-range', `bytes ${start}-${end}/${version.size}`);
    reply.header('content-length', String(end - start + 1));
    return reply.send(withBody ? await read.open(range.range) : undefined);
  }
  reply.header('content-length', String(version.size));
  return reply.send(withBody ? await read.open() : undefined);
}

/** DeleteObject: a tombstone (`x-amz-delete-marker: true`); a missing key answers 204 as in S3. */
export async function deleteObject(ctx: S3Context, target: ObjectTarget) {
  if (ctx.query['versionId'] !== undefined) {
    throw new S3Error(
      'NotImplemented',
      'Versions are immutable: a version cannot be deleted, only the object tombstoned.',
      501,
    );
  }
  const { reply } = ctx;
  try {
    const result = await ctx.bucket.artifacts.delete({ ...requestInfoOf(ctx), ...target });
    ctx.request.decision = result.decision;
    reply.header('x-amz-delete-marker', 'true');
    reply.header('x-amz-version-id', String(result.version.version));
    reply.header('x-bucket-sha256', result.version.sha256);
    reply.header('x-bucket-audit-leaf-index', String(result.receipt.leafIndex));
  } catch (error) {
    const gone =
      error instanceof BucketError &&
      (error.code === 'artifact_not_found' || error.code === 'artifact_deleted');
    if (!gone) throw error;
  }
  return reply.code(204).send();
}

/** Far in the future: S3 has no "permanent"; a permanent retention never ends. */
const PERMANENT = '9999-12-31T23:59:59.000Z';

/** GetObjectRetention: the version's retention (SPEC §8) as S3 Object Lock's. */
export async function getObjectRetention(ctx: S3Context, target: ObjectTarget) {
  const read = await ctx.bucket.artifacts.read({
    ...requestInfoOf(ctx),
    ...target,
    version: versionIdOf(ctx),
    content: false,
  });
  const { retention } = read.version;
  if (retention.mode === 'none') {
    throw new S3Error(
      'NoSuchObjectLockConfiguration',
      'The specified object does not have a retention configuration.',
      404,
    );
  }
  ctx.reply.header('x-bucket-sha256', read.version.sha256);
  return sendXml(ctx, 'Retention', {
    Mode: retention.mode === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE',
    RetainUntilDate: retention.until ?? PERMANENT,
  });
}

/** GetObjectLegalHold: ON while a legal hold covers the version (SPEC §8). */
export async function getObjectLegalHold(ctx: S3Context, target: ObjectTarget) {
  const read = await ctx.bucket.artifacts.read({
    ...requestInfoOf(ctx),
    ...target,
    version: versionIdOf(ctx),
    content: false,
  });
  ctx.reply.header('x-bucket-sha256', read.version.sha256);
  return sendXml(ctx, 'LegalHold', { Status: read.legalHold ? 'ON' : 'OFF' });
}

export { targetOf };
