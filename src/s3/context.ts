/**
 * What every S3 operation handler is given (src/s3/server.ts builds it once the signature
 * verified), and the mapping of SPEC §13: bucket = product id, key = `<class>/<name>`,
 * `x-amz-meta-*` ↔ `x-bucket-meta-*`, versionId = the version number.
 */
import { createHash } from 'node:crypto';
import { finished, Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Bucket } from '../bucket.js';
import { isVersionNumber, type ArtifactVersion } from '../domain/artifact.js';
import type { Principal } from '../domain/principal.js';
import { checkedMeta } from '../http/artifact-headers.js';
import { continueBody } from '../http/expect-continue.js';
import type { RequestInfo } from '../services/authorize.js';
import { decodeChunked } from './chunked.js';
import { checksumAlgorithmOf, UploadDigests, type ChecksumAlgorithm } from './checksums.js';
import { S3Error } from './errors.js';
import type { ChunkSigner, SignatureClaims } from './sigv4.js';
import { xmlDocument, type XmlNode } from './xml.js';

export interface S3Context {
  readonly bucket: Bucket;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly principal: Principal;
  readonly claims: SignatureClaims;
  readonly signer: ChunkSigner;
  /** Decoded query parameters. */
  readonly query: Readonly<Record<string, string>>;
  /** The bucket (product id) and object key of the path, decoded; null when absent. */
  readonly bucketName: string | null;
  readonly key: string | null;
}

export interface ObjectTarget {
  readonly product: string;
  readonly class: string;
  readonly name: string;
}

export const META_PREFIX = 'x-amz-meta-';

export function header(ctx: S3Context, name: string): string | undefined {
  const value = ctx.request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** What the services are told of the request (their gate context). */
export function requestInfoOf(ctx: S3Context): RequestInfo {
  return {
    requestId: ctx.request.id,
    principal: ctx.principal,
    query: ctx.query,
    headerNames: Object.keys(ctx.request.headers),
  };
}

/** `<class>/<name>` of a key; a key without both is refused. */
export function targetOf(product: string, key: string): ObjectTarget {
  const at = key.indexOf('/');
  if (at <= 0 || at === key.length - 1) {
    throw new S3Error(
      'InvalidArgument',
      `The key ${JSON.stringify(key)} is not <class>/<name> (e.g. model_checkpoint/avatar/v3.ckpt).`,
    );
  }
  return { product, class: key.slice(0, at), name: key.slice(at + 1) };
}

export function keyOf(version: Pick<ArtifactVersion, 'class' | 'name'>): string {
  return `${version.class}/${version.name}`;
}

/** The request's `x-amz-meta-*` headers as the Bucket's user metadata (≤ 8 KiB, checked). */
export function userMetaOf(ctx: S3Context): Record<string, string> {
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(ctx.request.headers)) {
    if (!name.startsWith(META_PREFIX) || value === undefined) continue;
    pairs.push([name.slice(META_PREFIX.length), Array.isArray(value) ? value.join(', ') : value]);
  }
  return checkedMeta(pairs, META_PREFIX);
}

/** A version's object headers: metadata as `x-amz-meta-*`, its version, its SHA-256. */
export function objectHeaders(ctx: S3Context, version: ArtifactVersion, etag: string): void {
  const { reply } = ctx;
  reply.header('etag', etag);
  reply.header('last-modified', new Date(version.createdAt).toUTCString());
  reply.header('x-amz-version-id', String(version.version));
  reply.header('x-bucket-sha256', version.sha256);
  reply.header('x-bucket-version', String(version.version));
  reply.header('content-type', version.contentType);
  reply.header('accept-ranges', 'bytes');
  for (const [name, value] of Object.entries(version.meta)) {
    reply.header(`${META_PREFIX}${name}`, value);
  }
}

/**
 * ETags by Bucket, then by version: a version's ETag is committed with it (decision 0052) and never
 * changes, so a GET or HEAD of a read-mostly object looks it up once. Bounded; emptied when full.
 */
const etagCaches = new WeakMap<Bucket, Map<string, string>>();
const ETAGS_CACHED = 10_000;

/** The S3 ETag of a version: the recorded one (written through S3), else its quoted SHA-256. */
export async function etagOf(ctx: S3Context, version: ArtifactVersion): Promise<string> {
  let cache = etagCaches.get(ctx.bucket);
  if (!cache) etagCaches.set(ctx.bucket, (cache = new Map()));
  const id = `${version.product}/${version.class}/${version.name}\n${version.version}`;
  const cached = cache.get(id);
  if (cached !== undefined) return cached;
  const etag = (await ctx.bucket.metadata.getS3Etag(version)) ?? `"${version.sha256}"`;
  if (cache.size >= ETAGS_CACHED) cache.clear();
  cache.set(id, etag);
  return etag;
}

export function sendXml(ctx: S3Context, root: string, body: XmlNode, status = 200) {
  return ctx.reply.code(status).type('application/xml').send(xmlDocument(root, body));
}

/** The size the client declares for the decoded body (aws-chunked bodies name it apart). */
export function declaredSizeOf(ctx: S3Context): number | null {
  const chunked =
    ctx.claims.payload.kind === 'chunked' || ctx.claims.payload.kind === 'unsigned-trailer';
  const text = header(ctx, chunked ? 'x-amz-decoded-content-length' : 'content-length');
  if (text === undefined) {
    if (chunked) {
      throw new S3Error('MissingContentLength', 'x-amz-decoded-content-length is required.', 411);
    }
    return null;
  }
  if (!/^\d{1,15}$/.test(text.trim())) {
    throw new S3Error('InvalidArgument', 'The content length must be a non-negative integer.');
  }
  return Number(text.trim());
}

/** The `x-amz-checksum-*` headers to verify (a trailer, when announced, is verified apart). */
function headerChecksums(ctx: S3Context): { algorithm: ChecksumAlgorithm; expected: string }[] {
  const found: { algorithm: ChecksumAlgorithm; expected: string }[] = [];
  for (const [name, value] of Object.entries(ctx.request.headers)) {
    const algorithm = checksumAlgorithmOf(name);
    if (algorithm && typeof value === 'string') found.push({ algorithm, expected: value });
  }
  return found;
}

/**
 * The bytes of `source` as they are read, each seen by `digests`, which are checked at its end (a
 * failure errors this stream). Nothing is read from `source` before this stream is: a body whose
 * write is refused before it starts stays unread (to be drained or cut by the error handler).
 */
class DigestedBody extends Readable {
  private started = false;
  private readonly onData = (piece: Buffer) => {
    this.digests.update(piece);
    if (!this.push(piece)) this.source.pause();
  };

  constructor(
    private readonly source: Readable,
    private readonly digests: UploadDigests,
  ) {
    super();
  }

  override _read(): void {
    if (this.started) {
      this.source.resume();
      return;
    }
    this.started = true;
    this.source.on('data', this.onData);
    this.source.once('end', () => {
      try {
        this.digests.finish();
        this.push(null);
      } catch (error) {
        this.destroy(error as Error);
      }
    });
    // A body cut short (the client went away, a chunk refused) fails the write, as itself.
    finished(this.source, { writable: false }, (error) => {
      if (error) this.destroy(error);
    });
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.source.off('data', this.onData);
    done(error);
  }
}

/**
 * The request body as the Bucket stores it: aws-chunked framing removed and every chunk
 * signature or trailer checksum verified, MD5 and the checksums computed while it streams (one
 * pass, with no stream hop beyond the one reading it); a failure errors the stream, so the write
 * it feeds stores nothing.
 */
export function uploadBody(ctx: S3Context): { body: Readable; digests: UploadDigests } {
  const digests = new UploadDigests(header(ctx, 'content-md5'), headerChecksums(ctx));
  const { payload } = ctx.claims;
  const raw = ctx.request.raw;
  const source: Readable =
    payload.kind === 'chunked' || payload.kind === 'unsigned-trailer'
      ? Readable.from(
          decodeChunked(raw as AsyncIterable<Buffer>, {
            signer: payload.kind === 'chunked' ? ctx.signer : null,
            trailer:
              payload.kind === 'unsigned-trailer' || payload.trailer
                ? (header(ctx, 'x-amz-trailer') ?? null)
                : null,
            decodedLength: declaredSizeOf(ctx),
          }),
          { objectMode: false },
        )
      : raw;
  const body = new DigestedBody(source, digests);
  // Once the write is over (answered early) nobody listens: a late failure must not be uncaught.
  body.on('error', () => undefined);
  return { body, digests };
}

/** The signed SHA-256 of the payload, when the client signed one (the write verifies it). */
export function signedSha256(ctx: S3Context): string | null {
  return ctx.claims.payload.kind === 'sha256' ? ctx.claims.payload.sha256 : null;
}

/** The version number a version id names (`1`, `2`, …), or null when it names none. */
export function versionNumberOf(text: string): number | null {
  const number = /^[1-9]\d{0,9}$/.test(text) ? Number(text) : 0;
  return isVersionNumber(number) ? number : null;
}

/** A version number from `versionId`. */
export function versionIdOf(ctx: S3Context): number | undefined {
  const text = ctx.query['versionId'];
  if (text === undefined || text === 'null') return undefined;
  const number = versionNumberOf(text);
  if (number === null) {
    throw new S3Error('NoSuchVersion', 'The version ID specified does not exist.', 404);
  }
  return number;
}

/** Reads a small XML request body (at most `max` bytes). */
export async function readSmallBody(ctx: S3Context, max = 1024 * 1024): Promise<string> {
  const { body } = uploadBody(ctx);
  continueBody(ctx.request, ctx.reply);
  const pieces: Buffer[] = [];
  let size = 0;
  for await (const piece of body as AsyncIterable<Buffer>) {
    size += piece.length;
    if (size > max) throw new S3Error('MaxMessageLengthExceeded', 'The request body is too large.');
    pieces.push(piece);
  }
  const bytes = Buffer.concat(pieces);
  // A signed payload hash covers the body: a body that does not match it was altered.
  const signed = signedSha256(ctx);
  if (signed !== null && createHash('sha256').update(bytes).digest('hex') !== signed) {
    throw new S3Error(
      'XAmzContentSHA256Mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  return bytes.toString('utf8');
}
