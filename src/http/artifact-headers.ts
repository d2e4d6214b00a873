/**
 * The artifact API's headers (SPEC §3): the ones a request's write is read from (x-bucket-meta-*,
 * preconditions) and the ones its answers carry (content validators, metadata, audit receipts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditReceipt } from '../audit/entry.js';
import type { ArtifactVersion } from '../domain/artifact.js';
import { BucketError } from '../domain/errors.js';
import { isSubjectId, SUBJECT_META_KEY } from '../domain/subjects.js';

const META_PREFIX = 'x-bucket-meta-';
const META_MAX_BYTES = 8 * 1024;

export function userMeta(request: FastifyRequest): Record<string, string> {
  const pairs: [string, string][] = [];
  for (const [header, value] of Object.entries(request.headers)) {
    if (!header.startsWith(META_PREFIX) || value === undefined) continue;
    pairs.push([header.slice(META_PREFIX.length), Array.isArray(value) ? value.join(', ') : value]);
  }
  return checkedMeta(pairs, 'x-bucket-meta-');
}

/**
 * User metadata checked as SPEC §3 says: lowercase keys of `[a-z0-9_-]`, a valid subject id, at
 * most 8 KiB in all. `prefix` names where the keys came from in the error messages.
 */
export function checkedMeta(
  pairs: Iterable<readonly [string, string]>,
  prefix = '',
): Record<string, string> {
  const meta: Record<string, string> = {};
  let bytes = 0;
  for (const [key, text] of pairs) {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(key)) {
      throw new BucketError('invalid_metadata', `metadata key "${key}" must match [a-z0-9_-]+`);
    }
    if (key === SUBJECT_META_KEY && !isSubjectId(text)) {
      throw new BucketError(
        'invalid_metadata',
        `${prefix}subject must be 1–128 characters of A-Z a-z 0-9 . _ : @ -`,
      );
    }
    bytes += key.length + Buffer.byteLength(text);
    meta[key] = text;
  }
  if (bytes > META_MAX_BYTES) {
    throw new BucketError(
      'invalid_metadata',
      `${prefix}* metadata exceeds ${META_MAX_BYTES} bytes`,
    );
  }
  return meta;
}

/** The PUT answer of SPEC §3 (a batch item's `artifact` too). */
export function writeAnswer(version: ArtifactVersion, receipt: AuditReceipt) {
  return {
    product: version.product,
    class: version.class,
    name: version.name,
    version: version.version,
    sha256: version.sha256,
    size: version.size,
    contentType: version.contentType,
    createdAt: version.createdAt,
    createdBy: version.createdBy,
    retention: version.retention,
    audit: { leafIndex: receipt.leafIndex, leafHash: receipt.leafHash },
  };
}

export function nonNegativeInteger(value: string | undefined, header: string): number | null {
  if (value === undefined) return null;
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw new BucketError('invalid_request', `${header} must be a non-negative integer`);
  }
  return Number(value.trim());
}

export function singleHeader(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The receipt of a write (SPEC §6), also in headers: a DELETE answers 204 without a body. */
export function receiptHeaders(reply: FastifyReply, receipt: AuditReceipt): void {
  reply.header('x-bucket-audit-leaf-index', String(receipt.leafIndex));
  reply.header('x-bucket-audit-leaf-hash', receipt.leafHash);
}

export const etagOf = (version: ArtifactVersion) => `"${version.sha256}"`;
export const lastModifiedOf = (version: ArtifactVersion) =>
  new Date(version.createdAt).toUTCString();

export function contentHeaders(reply: FastifyReply, version: ArtifactVersion): void {
  reply.header('etag', etagOf(version));
  reply.header('x-bucket-version', String(version.version));
  reply.header('x-bucket-sha256', version.sha256);
  reply.header('content-type', version.contentType);
  reply.header('last-modified', lastModifiedOf(version));
  reply.header('accept-ranges', 'bytes');
  for (const [key, value] of Object.entries(version.meta)) reply.header(META_PREFIX + key, value);
}

export function etagMatches(header: string | undefined, sha256: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim().replace(/^W\//, '');
    return trimmed === '*' || trimmed === `"${sha256}"`;
  });
}
