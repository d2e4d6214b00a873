/**
 * The listings of multipart uploads (SPEC §13), each one listing decision: ListParts
 * (part-number-marker, max-parts) and ListMultipartUploads, paged as S3 pages it — uploads by key,
 * then by initiation, at most max-uploads per answer, resumed after `key-marker` or after
 * `upload-id-marker` within it (NextKeyMarker, NextUploadIdMarker), keys under a `delimiter` after
 * the prefix as one common prefix each — reading the store a page at a time.
 */
import type { S3UploadPosition, S3UploadRecord } from '../storage/ports.js';
import { keyOf, requestInfoOf, sendXml, type ObjectTarget, type S3Context } from './context.js';
import { maxKeysOf, resumeAfter } from './listing.js';
import { uploadOf } from './multipart.js';
import { S3Error } from './errors.js';

/** Store pages are at most this long, whatever the answer's size. */
const PAGE_MAX = 1000;

export async function listParts(ctx: S3Context, target: ObjectTarget) {
  await ctx.bucket.artifacts.authorizeListing({ ...requestInfoOf(ctx), product: target.product });
  const upload = await uploadOf(ctx, target);
  const markerText = ctx.query['part-number-marker'] ?? '0';
  if (!/^\d{1,9}$/.test(markerText)) {
    throw new S3Error('InvalidArgument', 'part-number-marker must be an integer ≥ 0.');
  }
  const marker = Number(markerText);
  const max = maxKeysOf(ctx, 'max-parts');
  const all = (await ctx.bucket.metadata.listS3Parts(upload.uploadId)).filter(
    (part) => part.partNumber > marker,
  );
  const page = all.slice(0, max);
  return sendXml(ctx, 'ListPartsResult', {
    Bucket: target.product,
    Key: keyOf(target),
    UploadId: upload.uploadId,
    PartNumberMarker: marker,
    NextPartNumberMarker: page.length > 0 ? page[page.length - 1]?.partNumber : undefined,
    MaxParts: max,
    // max-parts=0 asks for no parts: a truncated answer with no marker would loop a pager.
    IsTruncated: max > 0 && all.length > page.length,
    Part: page.map((part) => ({
      PartNumber: part.partNumber,
      LastModified: part.createdAt,
      ETag: `"${part.md5}"`,
      Size: part.size,
    })),
  });
}

/** `<class>/<name>` as a store position: `upload` after one of its uploads, else before all. */
function positionOf(key: string, upload?: S3UploadRecord): S3UploadPosition {
  const at = key.indexOf('/');
  const [klass, name] = at < 0 ? [key, ''] : [key.slice(0, at), key.slice(at + 1)];
  return {
    class: klass,
    name,
    upload: upload ?? { createdAt: '', uploadId: '' },
  };
}

/** Where the listing starts: after the markers, or at the prefix's first key. */
async function startOf(
  ctx: S3Context,
  prefix: string,
  delimiter: string,
): Promise<S3UploadPosition | undefined> {
  const keyMarker = ctx.query['key-marker'] ?? '';
  if (keyMarker === '' || keyMarker < prefix) return prefix === '' ? undefined : positionOf(prefix);
  const uploadMarker = ctx.query['upload-id-marker'] ?? '';
  if (uploadMarker === '') {
    // After a common prefix: past every key under it.
    const after = resumeAfter(keyMarker, prefix, delimiter);
    const at = after.indexOf('/');
    return at < 0
      ? { class: after, name: '' }
      : { class: after.slice(0, at), name: after.slice(at + 1) };
  }
  const marked = /^[0-9a-f]{32}$/.test(uploadMarker)
    ? await ctx.bucket.metadata.getS3Upload(uploadMarker)
    : null;
  // An upload completed since is no position: the key's uploads are listed again from its first.
  const within = marked && keyOf(marked) === keyMarker ? marked : undefined;
  return positionOf(keyMarker, within);
}

export async function listUploads(ctx: S3Context, product: string) {
  await ctx.bucket.artifacts.authorizeListing({ ...requestInfoOf(ctx), product });
  const prefix = ctx.query['prefix'] ?? '';
  const delimiter = ctx.query['delimiter'] ?? '';
  const max = maxKeysOf(ctx, 'max-uploads');
  const uploads: S3UploadRecord[] = [];
  const common: string[] = [];
  /** The last entry listed: an upload, or a common prefix (keys sharing it are contiguous). */
  let last: S3UploadRecord | string | undefined;
  let truncated = false;
  let position = await startOf(ctx, prefix, delimiter);
  const pageSize = Math.min(max + 1, PAGE_MAX);
  pages: while (max > 0) {
    const rows = await ctx.bucket.metadata.listS3Uploads(product, pageSize, position);
    for (const upload of rows) {
      const key = keyOf(upload);
      if (!key.startsWith(prefix)) {
        if (key > prefix) break pages;
        continue;
      }
      const cut = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
      const entry = cut < 0 ? upload : key.slice(0, cut + delimiter.length);
      if (typeof entry === 'string' && entry === last) continue;
      if (uploads.length + common.length >= max) {
        truncated = true;
        break pages;
      }
      if (typeof entry === 'string') common.push(entry);
      else uploads.push(entry);
      last = entry;
    }
    const end = rows.at(-1);
    if (rows.length < pageSize || !end) break;
    position = positionOf(keyOf(end), end);
  }
  const next = truncated ? last : undefined;
  return sendXml(ctx, 'ListMultipartUploadsResult', {
    Bucket: product,
    KeyMarker: ctx.query['key-marker'] ?? '',
    UploadIdMarker: ctx.query['upload-id-marker'] ?? '',
    NextKeyMarker: next === undefined ? undefined : typeof next === 'string' ? next : keyOf(next),
    NextUploadIdMarker: typeof next === 'object' ? next.uploadId : undefined,
    Delimiter: delimiter === '' ? undefined : delimiter,
    Prefix: prefix,
    MaxUploads: max,
    IsTruncated: truncated,
    Upload: uploads.map((upload) => ({
      Key: keyOf(upload),
      UploadId: upload.uploadId,
      Initiated: upload.createdAt,
      StorageClass: 'STANDARD',
    })),
    CommonPrefixes: common.map((shared) => ({ Prefix: shared })),
  });
}
