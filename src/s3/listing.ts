/**
 * S3 listings (SPEC §13): ListObjectsV2 and ListObjects (v1) with prefix, delimiter, max-keys and
 * continuation, and ListObjectVersions — each one listing decision (`artifact.list`, a read
 * charged to the rates), then pages of the store in key order. Keys are `<class>/<name>`; since
 * `/` sorts before every character of a class name, key order is the store's (class, name)
 * order. A common prefix is skipped past in one step, so a delimiter costs one query per prefix.
 */
import type { ArtifactVersion } from '../domain/artifact.js';
import { escapeSegment } from './sigv4.js';
import { etagOf, keyOf, requestInfoOf, sendXml, type S3Context } from './context.js';
import { S3Error } from './errors.js';
import type { XmlNode } from './xml.js';

/** Sorts after every character artifact names and class names may hold. */
const HIGH = '\u{10FFFF}';
const DEFAULT_MAX_KEYS = 1000;
/** Store pages read per request at most (a delimiter over many prefixes): bounded work. */
const MAX_PAGES = 200;

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

function maxKeysOf(ctx: S3Context): number {
  const text = ctx.query['max-keys'];
  const pageMax = ctx.bucket.policies.current().document.limits.listPageMax;
  if (text === undefined) return Math.min(DEFAULT_MAX_KEYS, pageMax);
  if (!/^\d{1,9}$/.test(text))
    throw new S3Error('InvalidArgument', 'max-keys must be an integer ≥ 0.');
  return Math.min(Number(text), pageMax, DEFAULT_MAX_KEYS);
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
  const slash = prefix.indexOf('/');
  const klass = slash > 0 ? prefix.slice(0, slash) : undefined;
  const namePrefix = slash > 0 ? prefix.slice(slash + 1) : undefined;
  // Read strictly after the start key, or from the prefix's first key on.
  let after: string | null = startAfter > prefix ? startAfter : null;
  let last: string | null = null;
  const done = (truncated: boolean): Listed => ({
    objects,
    prefixes,
    truncated,
    next: truncated ? last : null,
  });
  for (let page = 0; page < MAX_PAGES; page++) {
    const position =
      after !== null
        ? positionAfter(after)
        : klass === undefined && prefix !== ''
          ? { class: prefix, name: '' }
          : undefined;
    const batch = Math.min(maxKeys + 1, 1000);
    const rows = await ctx.bucket.metadata.listArtifacts({
      product,
      class: klass,
      prefix: namePrefix,
      after: position,
      limit: batch,
    });
    let skipped = false;
    for (const row of rows) {
      const key = keyOf(row);
      if (!key.startsWith(prefix)) {
        if (key > prefix) return done(false);
        continue;
      }
      if (objects.length + prefixes.length >= maxKeys) return done(true);
      const cut = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
      if (cut >= 0) {
        const common = key.slice(0, cut + delimiter.length);
        prefixes.push(common);
        last = common + HIGH;
        after = last;
        skipped = true;
        break; // the next page starts past every key of this prefix
      }
      objects.push(row);
      last = key;
      after = key;
    }
    if (!skipped && rows.length < batch) return done(false);
  }
  return done(true);
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

function encoderOf(ctx: S3Context): (key: string) => string {
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

/** ListObjectVersions: every version of the live objects under the prefix. */
export async function listObjectVersions(ctx: S3Context, product: string) {
  await ctx.bucket.artifacts.authorizeListing({ ...requestInfoOf(ctx), product });
  const prefix = ctx.query['prefix'] ?? '';
  const delimiter = ctx.query['delimiter'] ?? '';
  const maxKeys = maxKeysOf(ctx);
  const marker = ctx.query['key-marker'] ?? '';
  const listed = await listKeys(ctx, product, prefix, delimiter, marker, maxKeys);
  const encode = encoderOf(ctx);
  const versions: XmlNode[] = [];
  const markers: XmlNode[] = [];
  for (const head of listed.objects) {
    const all = await ctx.bucket.metadata.listVersions(head);
    for (const version of all.slice().reverse()) {
      const common = {
        Key: encode(keyOf(version)),
        VersionId: String(version.version),
        IsLatest: version.version === head.version,
        LastModified: version.createdAt,
      };
      if (version.tombstone) {
        markers.push(common);
        continue;
      }
      versions.push({
        ...common,
        ETag: await etagOf(ctx, version),
        Size: version.size,
        StorageClass: 'STANDARD',
      });
    }
  }
  return sendXml(ctx, 'ListVersionsResult', {
    Name: product,
    Prefix: encode(prefix),
    KeyMarker: marker,
    VersionIdMarker: ctx.query['version-id-marker'] ?? '',
    NextKeyMarker: listed.truncated && listed.next ? listed.next : undefined,
    MaxKeys: maxKeys,
    Delimiter: delimiter === '' ? undefined : encode(delimiter),
    IsTruncated: listed.truncated,
    Version: versions,
    DeleteMarker: markers,
    CommonPrefixes: listed.prefixes.map((found) => ({ Prefix: encode(found) })),
  });
}
