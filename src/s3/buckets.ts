/**
 * S3 bucket operations (SPEC §13): a bucket is a product of the policy. ListBuckets lists the
 * products the key may see (its own for a product, ai_agent or core key; all for the Bucket's
 * owner, executor and auditor); HeadBucket, GetBucketLocation (us-east-1), GetBucketVersioning
 * (always Enabled) and CreateBucket of an existing product (clients such as rclone create before
 * writing: answered like HeadBucket) are decided as a listing of that product.
 */
import { requestInfoOf, sendXml, type S3Context } from './context.js';
import { S3Error } from './errors.js';

export async function listBuckets(ctx: S3Context) {
  const { bucket, principal } = ctx;
  const authorizer = bucket.authorizer;
  // The buckets are the policy's products: a read of the policy, open to every key.
  await authorizer.authorize(authorizer.context(requestInfoOf(ctx), 'policy.read'));
  const products = Object.keys(bucket.policies.current().document.products).sort();
  const visible =
    principal.product === null ? products : products.filter((id) => id === principal.product);
  const created = (await bucket.metadata.getSetting('installed_at')) ?? new Date(0).toISOString();
  return sendXml(ctx, 'ListAllMyBucketsResult', {
    Owner: { ID: principal.id, DisplayName: principal.id },
    Buckets: { Bucket: visible.map((name) => ({ Name: name, CreationDate: created })) },
  });
}

/** HeadBucket and CreateBucket (of an existing product): a listing decision, no content. */
export async function headBucket(ctx: S3Context, product: string) {
  await authorizeBucket(ctx, product);
  ctx.reply.header('x-amz-bucket-region', 'us-east-1');
  return ctx.reply.code(200).send();
}

export async function getBucketLocation(ctx: S3Context, product: string) {
  await authorizeBucket(ctx, product);
  return sendXml(ctx, 'LocationConstraint', {});
}

export async function getBucketVersioning(ctx: S3Context, product: string) {
  await authorizeBucket(ctx, product);
  return sendXml(ctx, 'VersioningConfiguration', { Status: 'Enabled' });
}

async function authorizeBucket(ctx: S3Context, product: string): Promise<void> {
  await ctx.bucket.artifacts.authorizeListing({ ...requestInfoOf(ctx), product });
  if (!Object.hasOwn(ctx.bucket.policies.current().document.products, product)) {
    throw new S3Error('NoSuchBucket', 'The specified bucket does not exist.', 404);
  }
}
