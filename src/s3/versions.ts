/**
 * ListObjectVersions (SPEC §13): every version of every object under the prefix — tombstoned
 * objects too, each tombstone a delete marker (IsLatest when it is the head) — newest first per
 * key, keys in order, paged as S3 pages them: at most max-keys versions, delete markers and common
 * prefixes per answer, resumed after `key-marker`, or within it below `version-id-marker`
 * (NextKeyMarker, NextVersionIdMarker). One listing decision; the store is read a page at a time,
 * never more than the answer holds and one more.
 */
import type { ArtifactVersion } from '../domain/artifact.js';
import {
  etagOf,
  keyOf,
  requestInfoOf,
  sendXml,
  targetOf,
  versionNumberOf,
  type S3Context,
} from './context.js';
import { S3Error } from './errors.js';
import { encoderOf, maxKeysOf, resumeAfter, walkKeys } from './listing.js';
import type { XmlNode } from './xml.js';

/** Store pages are at most this long, whatever the answer's size. */
const PAGE_MAX = 1000;

class VersionPage {
  readonly versions: { readonly version: ArtifactVersion; readonly latest: boolean }[] = [];
  readonly prefixes: string[] = [];
  truncated = false;
  /** The last item taken: where the next answer resumes. */
  last: { readonly key: string; readonly version?: number } | null = null;

  constructor(readonly max: number) {}

  get room(): number {
    return this.max - this.versions.length - this.prefixes.length;
  }

  /** Takes an item, or marks the page truncated (there is one more) when it is full. */
  private hasRoom(): boolean {
    if (this.room > 0) return true;
    this.truncated = true;
    return false;
  }

  takePrefix(prefix: string): boolean {
    if (!this.hasRoom()) return false;
    this.prefixes.push(prefix);
    this.last = { key: prefix };
    return true;
  }

  takeVersion(version: ArtifactVersion, head: ArtifactVersion): boolean {
    if (!this.hasRoom()) return false;
    this.versions.push({ version, latest: version.version === head.version });
    this.last = { key: keyOf(version), version: version.version };
    return true;
  }
}

/** The versions of `head`'s object below `below` (all when null), a page at a time; false when full. */
async function takeVersions(
  ctx: S3Context,
  page: VersionPage,
  head: ArtifactVersion,
  below: number | null,
): Promise<boolean> {
  let cursor = below;
  for (;;) {
    const limit = Math.min(page.room + 1, PAGE_MAX);
    const rows = await ctx.bucket.metadata.listVersionsDescending(head, cursor, limit);
    for (const version of rows) if (!page.takeVersion(version, head)) return false;
    const oldest = rows.at(-1);
    if (rows.length < limit || !oldest) return true;
    cursor = oldest.version;
  }
}

/** `version-id-marker` as a version number (null when absent); it needs a key-marker. */
function versionIdMarkerOf(ctx: S3Context, keyMarker: string): number | null {
  const text = ctx.query['version-id-marker'];
  if (text === undefined || text === '') return null;
  if (keyMarker === '') {
    throw new S3Error(
      'InvalidArgument',
      'A version-id marker cannot be specified without a key marker.',
    );
  }
  const number = versionNumberOf(text);
  if (number === null) throw new S3Error('InvalidArgument', 'Invalid version id specified.');
  return number;
}

/** The answer's versions and delete markers, read from the store. */
async function collect(
  ctx: S3Context,
  product: string,
  page: VersionPage,
  options: { prefix: string; delimiter: string; keyMarker: string; versionMarker: number | null },
): Promise<void> {
  const { prefix, delimiter, keyMarker, versionMarker } = options;
  const slash = keyMarker.indexOf('/');
  const isKey = slash > 0 && slash < keyMarker.length - 1;
  if (versionMarker !== null && isKey && keyMarker.startsWith(prefix)) {
    // The rest of the marker's object first: its versions older than the marker.
    const head = await ctx.bucket.metadata.getHead(targetOf(product, keyMarker));
    if (head && !(await takeVersions(ctx, page, head, versionMarker))) return;
  }
  const walk = walkKeys(ctx, product, {
    prefix,
    delimiter,
    startAfter: resumeAfter(keyMarker, prefix, delimiter),
    pageSize: Math.min(page.max + 1, PAGE_MAX),
    withTombstoned: true,
  });
  for await (const item of walk) {
    if (item.kind === 'budget') {
      page.truncated = true;
      return;
    }
    const taken =
      item.kind === 'prefix'
        ? page.takePrefix(item.prefix)
        : await takeVersions(ctx, page, item.head, null);
    if (!taken) return;
  }
}

export async function listObjectVersions(ctx: S3Context, product: string) {
  await ctx.bucket.artifacts.authorizeListing({ ...requestInfoOf(ctx), product });
  const prefix = ctx.query['prefix'] ?? '';
  const delimiter = ctx.query['delimiter'] ?? '';
  const keyMarker = ctx.query['key-marker'] ?? '';
  const versionMarker = versionIdMarkerOf(ctx, keyMarker);
  const page = new VersionPage(maxKeysOf(ctx));
  if (page.max > 0)
    await collect(ctx, product, page, { prefix, delimiter, keyMarker, versionMarker });
  const encode = encoderOf(ctx);
  const versions: XmlNode[] = [];
  const markers: XmlNode[] = [];
  for (const { version, latest } of page.versions) {
    const common = {
      Key: encode(keyOf(version)),
      VersionId: String(version.version),
      IsLatest: latest,
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
  const next = page.truncated ? page.last : null;
  return sendXml(ctx, 'ListVersionsResult', {
    Name: product,
    Prefix: encode(prefix),
    KeyMarker: encode(keyMarker),
    VersionIdMarker: ctx.query['version-id-marker'] ?? '',
    NextKeyMarker: next ? encode(next.key) : undefined,
    NextVersionIdMarker: next?.version !== undefined ? String(next.version) : undefined,
    MaxKeys: page.max,
    Delimiter: delimiter === '' ? undefined : encode(delimiter),
    EncodingType: ctx.query['encoding-type'] === 'url' ? 'url' : undefined,
    IsTruncated: page.truncated,
    Version: versions,
    DeleteMarker: markers,
    CommonPrefixes: page.prefixes.map((found) => ({ Prefix: encode(found) })),
  });
}
