/**
 * Which S3 operation a request is (SPEC §13), by method, path level (service, bucket, object)
 * and sub-resource; anything not in the compatibility table (docs/S3.md) is NotImplemented (501).
 */
import { headBucket, getBucketLocation, getBucketVersioning, listBuckets } from './buckets.js';
import { copyObject, deleteObjects } from './batch.js';
import { targetOf, type S3Context } from './context.js';
import { S3Error } from './errors.js';
import { listObjects } from './listing.js';
import { abortUpload, completeUpload, createUpload, uploadPart } from './multipart.js';
import { listParts, listUploads } from './multipart-listing.js';
import {
  deleteObject,
  getObject,
  getObjectLegalHold,
  getObjectRetention,
  putObject,
} from './objects.js';
import { listObjectVersions } from './versions.js';

/** Sub-resources S3 has that the Bucket does not implement. */
const UNSUPPORTED = [
  'acl',
  'policy',
  'cors',
  'lifecycle',
  'tagging',
  'website',
  'encryption',
  'replication',
  'logging',
  'notification',
  'object-lock',
  'ownershipControls',
  'publicAccessBlock',
  'requestPayment',
  'accelerate',
  'analytics',
  'inventory',
  'metrics',
  'intelligent-tiering',
  'attributes',
  'torrent',
  'restore',
  'select',
  'policyStatus',
];

const UNSUPPORTED_NAMES: ReadonlySet<string> = new Set(UNSUPPORTED);

function notImplemented(what: string): never {
  throw new S3Error('NotImplemented', `${what} is not implemented by the Bucket's S3 door.`, 501);
}

export async function route(ctx: S3Context): Promise<unknown> {
  const method = ctx.request.method;
  const has = (name: string) => ctx.query[name] !== undefined;
  const unsupported = Object.keys(ctx.query).some((name) => UNSUPPORTED_NAMES.has(name))
    ? UNSUPPORTED.find(has)
    : undefined;
  if (unsupported) notImplemented(`The ?${unsupported} sub-resource`);
  if (ctx.bucketName === null) {
    if (method === 'GET') return listBuckets(ctx);
    return notImplemented(`${method} /`);
  }
  const product = ctx.bucketName;
  if (ctx.key === null) {
    if (method === 'GET') {
      if (has('location')) return getBucketLocation(ctx, product);
      if (has('versioning')) return getBucketVersioning(ctx, product);
      if (has('uploads')) return listUploads(ctx, product);
      if (has('versions')) return listObjectVersions(ctx, product);
      return listObjects(ctx, product, ctx.query['list-type'] === '2');
    }
    if (method === 'HEAD') return headBucket(ctx, product);
    if (method === 'PUT' && Object.keys(ctx.query).length === 0) return headBucket(ctx, product);
    if (method === 'POST' && has('delete')) return deleteObjects(ctx, product);
    return notImplemented(`${method} on a bucket`);
  }
  const target = targetOf(product, ctx.key);
  switch (method) {
    case 'GET':
      if (has('uploadId')) return listParts(ctx, target);
      if (has('retention')) return getObjectRetention(ctx, target);
      if (has('legal-hold')) return getObjectLegalHold(ctx, target);
      return getObject(ctx, target, true);
    case 'HEAD':
      return getObject(ctx, target, false);
    case 'PUT':
      if (has('uploadId') || has('partNumber')) {
        if (ctx.request.headers['x-amz-copy-source'] !== undefined)
          notImplemented('UploadPartCopy');
        return uploadPart(ctx, target);
      }
      if (has('retention') || has('legal-hold'))
        notImplemented('Changing retention or holds through S3');
      if (ctx.request.headers['x-amz-copy-source'] !== undefined) return copyObject(ctx, target);
      return putObject(ctx, target);
    case 'POST':
      if (has('uploads')) return createUpload(ctx, target);
      if (has('uploadId')) return completeUpload(ctx, target);
      return notImplemented('POST on an object');
    case 'DELETE':
      if (has('uploadId')) return abortUpload(ctx, target);
      return deleteObject(ctx, target);
    default:
      return notImplemented(method);
  }
}
