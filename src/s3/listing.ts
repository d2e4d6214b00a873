/**
 * S3 listings (SPEC §13): ListObjectsV2 and ListObjects (v1) with prefix, delimiter, max-keys and
 * continuation — each one listing decision (`artifact.list`, a read charged to the rates), then
 * pages of the store in key order (`walkKeys`, which versions.ts walks too). Keys are
 * `<class>/<name>`; since `/` sorts before every character of a class name, key order is the
 * store's (class, name) order. A common prefix is skipped past in one step, so a delimiter costs
 * one query per prefix.
 */
import type { ArtifactVersion } from '../domain/artifact.js';
import { escapeSegment } from './sigv4.js';
import { etagOf, keyOf, requestInfoOf, sendXml, type S3Context } from './context.js';
import { S3Error } from './errors.js';
import type { XmlNode } from './xml.js';

/** Sorts after every character artifact names and class names may hold. */
export const HIGH = '\u{10FFFF}';
const DEFAULT_MAX_KEYS = 1000;
/** Store pages read per request at most (a delimiter over many prefixes): bounded work. */
const MAX_PAGES = 200;

/** What a walk through the keys meets, in key order. */
export type KeyItem =
  | { readonly kind: 'object'; readonly head: ArtifactVersion }
  | { readonly kind: 'prefix'; readonly prefix: string }
  /** The page budget is spent: the listing is truncated here. */
  | { readonly kind: 'budget' };

interface Listed {
  readonly objects: ArtifactVersion[];
  readonly prefixes: string[];
  readonly truncated: boolean;
  /** Where the next page starts after (a key, or a prefix followed by HIGH). */
  readonly next: string | null;
}

/** The store's position strictly after `key` (a key or a prefix marker). */
function positionAfter(key: string): { class: string; name: string } {
  const at = key.indexOf('/');
  return at < 0 ? { class: key, name: '' } : { class: key.slice(0, at), name: key.slice(at + 1) };
}

/** Where a listing resumes after `marker`: past every key of it when it is a common prefix. */
export function resumeAfter(marker: string, prefix: string, delimiter: string): string {
  const common =
    delimiter !== '' &&
    marker.startsWith(prefix) &&
    marker.endsWith(delimiter) &&
    marker.indexOf(delimiter, prefix.length) === marker.length - delimiter.length;
  return common ? marker + HIGH : marker;
}

export function maxKeysOf(ctx: S3Context, parameter = 'max-keys'): number {
  const text = ctx.query[parameter];
  const pageMax = ctx.bucket.policies.current().document.limits.listPageMax;
  if (text === undefined) return Math.min(DEFAULT_MAX_KEYS, pageMax);
  if (!/^\d{1,9}$/.test(text))
    throw new S3Error('InvalidArgument', `${parameter} must be an integer ≥ 0.`);
  return Math.min(Number(text), pageMax, DEFAULT_MAX_KEYS);
}

/**
 * The objects (heads; tombstoned ones too with `withTombstoned`) and common prefixes under
 * `prefix` strictly after `startAfter`, in key order, read from the store `pageSize` rows at a
 * time: the caller stops when it has enough, so only what it takes is read.
 */
export async function* walkKeys(
  ctx: S3Context,
  product: string,
  options: {
    readonly prefix: string;
    readonly delimiter: string;
    readonly startAfter: string;
    readonly pageSize: number;
    readonly withTombstoned?: boolean;
  },
): AsyncGenerator<KeyItem> {
  const { prefix, delimiter } = options;
  const slash = prefix.indexOf('/');
  const klass = slash > 0 ? prefix.slice(0, slash) : undefined;
  const namePrefix = slash > 0 ? prefix.slice(slash + 1) : undefined;
  // Read strictly after the start key, or from the prefix's first key on.
  let after: string | null = options.startAfter > prefix ? options.startAfter : null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const position =
      after !== null
        ? positionAfter(after)
        : klass === undefined && prefix !== ''
          ? { class: prefix, name: '' }
          : undefined;
    const rows = await ctx.bucket.metadata.listArtifacts({
      product,
      class: klass,
      prefix: namePrefix,
      after: position,
      limit: options.pageSize,
      withTombstoned: options.withTombstoned,
    });
    let skipped = false;
    for (const row of rows) {
      const key = keyOf(row);
      if (!key.startsWith(prefix)) {
        if (key > prefix) return;
        continue;
      }
      const cut = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
      if (cut >= 0) {
        const common = key.slice(0, cut + delimiter.length);
        yield { kind: 'prefix', prefix: common };
        after = common + HIGH;
        skipped = true;
        break; // the next page starts past every key of this prefix
      }
      yield { kind: 'object', head: row };
      after = key;
    }
    if (!skipped && rows.length < options.pageSize) return;
  }
  yield { kind: 'budget' };
}

async function listKeys(
  ctx: S3Context,
  product: string,
  prefix: string,
  delimiter: string,
  startAfter: string,
  maxKeys: number,
): Promise<Listed> {
  const objects: ArtifactVersion[] = [];
  const prefixes: string[] = [];
  let last: string | null = null;
  const pageSize = Math.min(maxKeys + 1, 1000);
  const walk = walkKeys(ctx, product, { prefix, delimiter, startAfter, pageSize });
  for await (const item of walk) {
    if (item.kind === 'budget' || objects.length + prefixes.length >= maxKeys) {
      return { objects, prefixes, truncated: true, next: last };
    }
    if (item.kind === 'prefix') {
      prefixes.push(item.prefix);
      last = item.prefix + HIGH;
    } else {
      objects.push(item.head);
      last = keyOf(item.head);
    }
  }
  return { objects, prefixes, truncated: false, next: null };
}

function encodeToken(position: string): string {
  return Buffer.from(position, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (encodeToken(text) !== token) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect.');
  }
  return text;
}

async function contents(
  ctx: S3Context,
  objects: ArtifactVersion[],
  encode: (key: string) => string,
) {
  const items: XmlNode[] = [];
  for (const version of objects) {
    items.push({
      Key: encode(keyOf(version)),
      LastModified: version.createdAt,
      ETag: await etagOf(ctx, version),
      Size: version.size,
      StorageClass: 'STANDARD',
    });
  }
  return items;
}

export function encoderOf(ctx: S3Context): (key: string) => string {
  return ctx.query['encoding-type'] === 'url'
    ? (key) => key.split('/').map(escapeSegment).join('/')
    : (key) => key;
}

/** ListObjectsV2 (`list-type=2`) and ListObjects (v1). */
export async function listObjects(ctx: S3Context, product: string, v2: boolean) {
  await ctx.bucket.artifacts.authorizeListing({ ...requestInfoOf(ctx), product });
  const prefix = ctx.query['prefix'] ?? '';
  const delimiter = ctx.query['delimiter'] ?? '';
  const maxKeys = maxKeysOf(ctx);
  const token = ctx.query['continuation-token'];
  const start = v2
    ? token !== undefined
      ? decodeToken(token)
      : (ctx.query['start-after'] ?? '')
    : (ctx.query['marker'] ?? '');
  const listed =
    maxKeys === 0
      ? { objects: [], prefixes: [], truncated: false, next: null }
      : await listKeys(ctx, product, prefix, delimiter, start, maxKeys);
  const encode = encoderOf(ctx);
  const common = listed.prefixes.map((found) => ({ Prefix: encode(found) }));
  const items = await contents(ctx, listed.objects, encode);
  const shared = {
    Name: product,
    Prefix: encode(prefix),
    Delimiter: delimiter === '' ? undefined : encode(delimiter),
    MaxKeys: maxKeys,
    EncodingType: ctx.query['encoding-type'] === 'url' ? 'url' : undefined,
    IsTruncated: listed.truncated,
  };
  if (v2) {
    return sendXml(ctx, 'ListBucketResult', {
      ...shared,
      KeyCount: items.length + common.length,
      ContinuationToken: token,
      NextContinuationToken:
        listed.truncated && listed.next !== null ? encodeToken(listed.next) : undefined,
      StartAfter: ctx.query['start-after'],
      Contents: items,
      CommonPrefixes: common,
    });
  }
  return sendXml(ctx, 'ListBucketResult', {
    ...shared,
    Marker: ctx.query['marker'] ?? '',
    NextMarker: listed.truncated && delimiter !== '' && listed.next ? listed.next : undefined,
    Contents: items,
    CommonPrefixes: common,
  });
}
