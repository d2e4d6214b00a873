/**
 * DeleteObjects and CopyObject (SPEC §13). DeleteObjects tombstones up to 1,000 keys, each its own
 * decision and audit entry (like a batch's items, SPEC §15). CopyObject copies within one product,
 * one decision and one audit entry: the read of the source decided as part of the write of the
 * copy, a new version like any write (a write-once name refuses it) whose entry names its source.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { isBucketError } from '../domain/errors.js';
import {
  header,
  readSmallBody,
  requestInfoOf,
  sendXml,
  targetOf,
  userMetaOf,
  versionNumberOf,
  type ObjectTarget,
  type S3Context,
} from './context.js';
import { S3Error, s3ErrorFor } from './errors.js';
import { childrenNamed, childText, parseXml, type XmlNode } from './xml.js';

const MAX_DELETE_KEYS = 1000;

export async function deleteObjects(ctx: S3Context, product: string) {
  const document = parseXml(await readSmallBody(ctx));
  if (document.name !== 'Delete')
    throw new S3Error('MalformedXML', 'The root element must be Delete.');
  const quiet = childText(document, 'Quiet') === 'true';
  const objects = childrenNamed(document, 'Object');
  if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) {
    throw new S3Error('MalformedXML', `Delete names 1 to ${MAX_DELETE_KEYS} objects.`);
  }
  const deleted: XmlNode[] = [];
  const errors: XmlNode[] = [];
  for (const object of objects) {
    const key = childText(object, 'Key') ?? '';
    try {
      if (childText(object, 'VersionId') !== undefined) {
        throw new S3Error(
          'NotImplemented',
          'Versions are immutable; only objects are deleted.',
          501,
        );
      }
      const target = targetOf(product, key);
      const result = await ctx.bucket.artifacts.delete({ ...requestInfoOf(ctx), ...target });
      if (!quiet) {
        deleted.push({
          Key: key,
          DeleteMarker: true,
          DeleteMarkerVersionId: String(result.version.version),
        });
      }
    } catch (error) {
      const gone =
        isBucketError(error) &&
        (error.code === 'artifact_not_found' || error.code === 'artifact_deleted');
      if (gone) {
        if (!quiet) deleted.push({ Key: key });
        continue;
      }
      if (!(error instanceof S3Error) && !isBucketError(error)) throw error;
      const answer = s3ErrorFor(error);
      errors.push({ Key: key, Code: answer.code, Message: answer.message });
    }
  }
  return sendXml(ctx, 'DeleteResult', { Deleted: deleted, Error: errors });
}

/** The source of a copy: `/<bucket>/<key>[?versionId=n]`, URL-encoded. */
function copySource(text: string): { bucket: string; key: string; version: number | undefined } {
  const [path = '', query = ''] = text.split('?');
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.replace(/^\//, ''));
  } catch {
    throw new S3Error('InvalidArgument', 'x-amz-copy-source is not URL-encoded correctly.');
  }
  const at = decoded.indexOf('/');
  if (at <= 0) throw new S3Error('InvalidArgument', 'x-amz-copy-source must be /<bucket>/<key>.');
  const versionText = new URLSearchParams(query).get('versionId');
  let version: number | undefined;
  if (versionText !== null && versionText !== 'null') {
    // `1.5` or `1abc` names no version (parseInt would read them as 1 and copy version 1).
    version = versionNumberOf(versionText) ?? undefined;
    if (version === undefined) {
      throw new S3Error('NoSuchVersion', 'The version ID specified does not exist.', 404);
    }
  }
  return { bucket: decoded.slice(0, at), key: decoded.slice(at + 1), version };
}

export async function copyObject(ctx: S3Context, target: ObjectTarget) {
  const source = copySource(header(ctx, 'x-amz-copy-source') ?? '');
  if (source.bucket !== target.product) {
    throw new S3Error(
      'AccessDenied',
      'CopyObject copies within one product (bucket): the source is in another.',
      403,
    );
  }
  const from = targetOf(source.bucket, source.key);
  // One decision (SPEC §13): the source's read is decided as part of the copy's write, whose
  // entry names it; only a refused or failed read is recorded on its own (decision record 0053).
  const read = await ctx.bucket.artifacts.copySource({
    ...requestInfoOf(ctx),
    ...from,
    version: source.version,
    content: true,
  });
  const replace = (header(ctx, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase() === 'REPLACE';
  const md5 = createHash('md5');
  const content: Iterable<Buffer> | AsyncIterable<Buffer> = Buffer.isBuffer(read.content)
    ? [read.content]
    : read.content;
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const piece of content) {
      md5.update(piece);
      yield piece;
    }
  }
  const body = Readable.from(hashed(), { objectMode: false });
  // The MD5 of the copied bytes, once they were all read: committed with the version.
  let etag: string | undefined;
  const result = await ctx.bucket.artifacts
    .put({
      ...requestInfoOf(ctx),
      ...target,
      contentType: replace
        ? (header(ctx, 'content-type') ?? read.version.contentType)
        : read.version.contentType,
      declaredSize: read.version.size,
      meta: replace ? userMetaOf(ctx) : read.version.meta,
      preconditions: { ifNoneMatch: false, ifVersion: null },
      sha256Claim: read.version.sha256,
      body,
      copiedFrom: {
        product: read.version.product,
        class: read.version.class,
        name: read.version.name,
        version: read.version.version,
        sha256: read.version.sha256,
      },
      s3: { etag: () => (etag ??= `"${md5.digest('hex')}"`) },
    })
    .catch((error: unknown) => {
      // A write refused before its body: the source's content is not read to its end.
      if (!Buffer.isBuffer(read.content)) read.content.destroy();
      throw error;
    });
  ctx.request.decision = result.decision;
  ctx.reply.header('x-amz-version-id', String(result.version.version));
  ctx.reply.header('x-amz-copy-source-version-id', String(read.version.version));
  ctx.reply.header('x-bucket-sha256', result.version.sha256);
  return sendXml(ctx, 'CopyObjectResult', {
    ETag: etag ?? `"${md5.digest('hex')}"`,
    LastModified: result.version.createdAt,
  });
}
