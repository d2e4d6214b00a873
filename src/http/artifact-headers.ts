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
  const meta: Record<string, string> = {};
  let bytes = 0;
  for (const [header, value] of Object.entries(request.headers)) {
    if (!header.startsWith(META_PREFIX) || value === undefined) continue;
    const key = header.slice(META_PREFIX.length);
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(key)) {
      throw new BucketError('invalid_metadata', `metadata key "${key}" must match [a-z0-9_-]+`);
    }
    if (key === SUBJECT_META_KEY && !isSubjectId(text)) {
      throw new BucketError(
        'invalid_metadata',
        'x-bucket-meta-subject must be 1–128 characters of A-Z a-z 0-9 . _ : @ -',
      );
    }
    bytes += key.length + Buffer.byteLength(text);
    meta[key] = text;
  }
  if (bytes > META_MAX_BYTES) {
    throw new BucketError(
      'invalid_metadata',
      `x-bucket-meta-* headers exceed ${META_MAX_BYTES} bytes`,
    );
  }
  return meta;
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
