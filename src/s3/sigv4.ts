/**
 * AWS Signature Version 4 on the S3 door (SPEC §13), verified by recomputing the signature over
 * the canonical request of `@smithy/signature-v4` (its own code) and comparing in constant time;
 * the string to sign and the HMACs are computed here, synchronously, with the signing key of a
 * secret, date and region derived once and kept. Header authentication and presigned URLs
 * (`X-Amz-Expires` ≤ 7 days); clock skew over 15 minutes is RequestTimeTooSkewed.
 */
import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import { getCanonicalHeaders, SignatureV4Base } from '@smithy/signature-v4';
import { S3Error } from './errors.js';

type HttpRequest = Parameters<typeof getCanonicalHeaders>[0];

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const MAX_SKEW_MS = 15 * 60 * 1000;
export const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** How the body is signed: the four payload modes of SPEC §13 (and the signed-trailer variant). */
export type PayloadMode =
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'sha256'; readonly sha256: string }
  | { readonly kind: 'chunked'; readonly trailer: boolean }
  | { readonly kind: 'unsigned-trailer' };

// One-shot: no Hash object per canonical request.
const sha256Hex = (text: string) => hash('sha256', text, 'hex');
const hmac = (key: Buffer | string, text: string) =>
  createHmac('sha256', key).update(text, 'utf8').digest();

/** Smithy's canonical request (its own code); the hashing and signing are done here, in one go. */
class Canonicalizer extends SignatureV4Base {
  constructor() {
    super({
      credentials: { accessKeyId: '', secretAccessKey: '' },
      region: '',
      service: 's3',
      sha256: class {
        update(): void {}
        digest(): Promise<Uint8Array> {
          return Promise.reject(new Error('not used: the door hashes itself'));
        }
      },
      // S3 signs the path as sent, without double encoding.
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  canonicalRequest(request: HttpRequest, signed: ReadonlySet<string>, payloadHash: string) {
    const headers = getCanonicalHeaders(request, undefined, new Set(signed));
    return this.createCanonicalRequest(request, headers, payloadHash);
  }
}

const canonicalizer = new Canonicalizer();

/**
 * Signing keys (four HMACs each) by secret, date and region: a credential signs every request of
 * a day with the same one. Bounded; a revoked credential never gets here (its lookup fails first).
 */
const signingKeys = new Map<string, Buffer>();
const SIGNING_KEYS_MAX = 10_000;

function signingKeyOf(secretAccessKey: string, date: string, region: string): Buffer {
  const id = `${date}\n${region}\n${secretAccessKey}`;
  let key = signingKeys.get(id);
  if (!key) {
    key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), 's3'), 'aws4_request');
    if (signingKeys.size >= SIGNING_KEYS_MAX) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}

/** The claims of a signed request, before its credential is known. */
export interface SignatureClaims {
  readonly accessKeyId: string;
  readonly longDate: string;
  /** `<yyyymmdd>/<region>/<service>/aws4_request`. */
  readonly scope: string;
  readonly region: string;
  readonly signedHeaders: ReadonlySet<string>;
  readonly signature: string;
  readonly presigned: boolean;
  readonly payload: PayloadMode;
  readonly payloadHash: string;
}

/** What the request carried, as the door received it. */
export interface SignedRequest {
  readonly method: string;
  /** The path as sent (still percent-encoded). */
  readonly rawPath: string;
  /** Query parameters, decoded. */
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** Headers a client may send unsigned: the payload hash states what the signature covers. */
const UNSIGNED_ALLOWED = new Set(['x-amz-content-sha256']);

const LONG_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function dateOf(longDate: string): Date {
  const m = LONG_DATE.exec(longDate);
  if (!m)
    throw new S3Error('AccessDenied', 'X-Amz-Date must be in the ISO 8601 basic format.', 403);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

function header(request: SignedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function malformed(message: string): S3Error {
  return new S3Error('AuthorizationHeaderMalformed', message, 400);
}

function parseCredential(credential: string) {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || parts[3] !== 's3') {
    throw malformed(
      `The credential ${JSON.stringify(credential)} is not <key>/<date>/<region>/s3/aws4_request.`,
    );
  }
  const [accessKeyId = '', date = '', region = ''] = parts;
  return { accessKeyId, date, region, scope: parts.slice(1).join('/') };
}

function payloadModeOf(value: string | undefined): PayloadMode {
  if (value === undefined || value === 'UNSIGNED-PAYLOAD') return { kind: 'unsigned' };
  if (value === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD') return { kind: 'chunked', trailer: false };
  if (value === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER') {
    return { kind: 'chunked', trailer: true };
  }
  if (value === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') return { kind: 'unsigned-trailer' };
  if (/^[0-9a-f]{64}$/.test(value)) return { kind: 'sha256', sha256: value };
  throw new S3Error(
    'InvalidArgument',
    `x-amz-content-sha256 ${JSON.stringify(value)} is not supported.`,
  );
}

/**
 * The signature's claims from the Authorization header or the presigned query; null when the
 * request is not signed at all (anonymous). Checks the dates against `now`.
 */
export function signatureClaims(request: SignedRequest, now: number): SignatureClaims | null {
  const authorization = header(request, 'authorization');
  const presigned = request.query['X-Amz-Algorithm'] !== undefined;
  if (authorization === undefined && request.query['AWSAccessKeyId'] !== undefined) {
    throw new S3Error(
      'InvalidRequest',
      'Signature Version 2 presigned URLs are not supported: presign with SigV4 (s3v4). ' +
        'AWS CLI v1: aws configure set default.s3.signature_version s3v4; boto3: ' +
        'Config(signature_version="s3v4"); the AWS CLI v2 signs SigV4 already.',
    );
  }
  if (authorization === undefined && !presigned) return null;
  let credential: string;
  let signedHeaders: string;
  let signature: string;
  let longDate: string;
  let payloadValue: string | undefined;
  if (authorization !== undefined) {
    if (!authorization.startsWith(`${ALGORITHM} `)) {
      throw new S3Error(
        'InvalidRequest',
        'Only AWS Signature Version 4 (AWS4-HMAC-SHA256) is supported.',
        400,
      );
    }
    const fields = new Map<string, string>();
    for (const part of authorization.slice(ALGORITHM.length).split(',')) {
      const at = part.indexOf('=');
      if (at > 0) fields.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
    }
    credential = fields.get('Credential') ?? '';
    signedHeaders = fields.get('SignedHeaders') ?? '';
    signature = fields.get('Signature') ?? '';
    longDate = header(request, 'x-amz-date') ?? '';
    payloadValue = header(request, 'x-amz-content-sha256');
    if (payloadValue === undefined) {
      throw new S3Error(
        'InvalidRequest',
        'Missing required header for this request: x-amz-content-sha256.',
      );
    }
  } else {
    if (request.query['X-Amz-Algorithm'] !== ALGORITHM) {
      throw new S3Error(
        'AuthorizationQueryParametersError',
        `X-Amz-Algorithm must be ${ALGORITHM}.`,
      );
    }
    credential = request.query['X-Amz-Credential'] ?? '';
    signedHeaders = request.query['X-Amz-SignedHeaders'] ?? '';
    signature = request.query['X-Amz-Signature'] ?? '';
    longDate = request.query['X-Amz-Date'] ?? '';
    payloadValue =
      request.query['X-Amz-Content-Sha256'] ??
      request.query['x-amz-content-sha256'] ??
      'UNSIGNED-PAYLOAD';
  }
  if (!/^[0-9a-f]{64}$/.test(signature) || signedHeaders === '') {
    throw malformed('The Authorization is missing its Credential, SignedHeaders or Signature.');
  }
  const scope = parseCredential(credential);
  const date = dateOf(longDate);
  if (scope.date !== longDate.slice(0, 8)) {
    throw malformed(`The credential's date ${scope.date} is not the request's date ${longDate}.`);
  }
  const signed = new Set(signedHeaders.toLowerCase().split(';'));
  if (!signed.has('host')) throw malformed('The signed headers must include host.');
  // As S3: every x-amz-* header sent must be signed, so none can be added to a signed request
  // (a presigned URL's holder adding metadata, a data subject, a checksum of their own).
  const unsigned = Object.keys(request.headers).filter(
    (name) => name.startsWith('x-amz-') && !signed.has(name) && !UNSIGNED_ALLOWED.has(name),
  );
  if (unsigned.length > 0) {
    throw new S3Error(
      'AccessDenied',
      `There were headers present in the request which were not signed: ${unsigned.join(', ')}.`,
      403,
    );
  }
  if (presigned) checkExpiry(request, date.getTime(), now);
  else if (Math.abs(now - date.getTime()) > MAX_SKEW_MS) {
    throw new S3Error(
      'RequestTimeTooSkewed',
      'The difference between the request time and the server time is too large (over 15 minutes).',
      403,
    );
  }
  return {
    accessKeyId: scope.accessKeyId,
    longDate,
    scope: scope.scope,
    region: scope.region,
    signedHeaders: signed,
    signature,
    presigned,
    payload: payloadModeOf(payloadValue),
    payloadHash: payloadValue,
  };
}

function checkExpiry(request: SignedRequest, signedAt: number, now: number): void {
  const expires = Number(request.query['X-Amz-Expires']);
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGNED_SECONDS) {
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'X-Amz-Expires must be an integer of seconds from 1 to 604800 (7 days).',
    );
  }
  if (signedAt - now > MAX_SKEW_MS) {
    throw new S3Error('AccessDenied', 'Request is not valid yet.', 403);
  }
  if (now > signedAt + expires * 1000)
    throw new S3Error('AccessDenied', 'Request has expired.', 403);
}

/** AWS's URI encoding of one path segment (RFC 3986 unreserved kept). */
export function escapeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Paths AWS's encoding leaves as they are: only unreserved characters and slashes. */
const UNRESERVED_PATH = /^[A-Za-z0-9\-._~/]*$/;

/** The path as AWS canonicalizes it: each segment decoded, then encoded once. */
function canonicalPath(rawPath: string): string {
  if (UNRESERVED_PATH.test(rawPath)) return rawPath;
  return rawPath
    .split('/')
    .map((segment) => {
      try {
        return escapeSegment(decodeURIComponent(segment));
      } catch {
        return segment;
      }
    })
    .join('/');
}

/** `computed` (32 bytes) against a claimed hex signature, in constant time. */
function sameSignature(computed: Buffer, claimed: string): boolean {
  const b = Buffer.from(claimed, 'hex');
  return computed.length === 32 && b.length === 32 && timingSafeEqual(computed, b);
}

/** Signs the chunks of an aws-chunked body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). */
export interface ChunkSigner {
  /** The expected signature of a chunk whose data hashes to `dataSha256`. */
  chunk(previous: string, dataSha256: string): string;
  /** The expected signature of the trailing headers (`name:value\n` lines). */
  trailer(previous: string, trailerText: string): string;
  /** The request's own signature: the first chunk's previous signature. */
  readonly seed: string;
}

/**
 * Verifies the signature of `claims` with `secret`: throws SignatureDoesNotMatch (403) when it
 * is not the one computed over smithy's canonical request. Answers the chunk signer for a chunked
 * body.
 */
export function verifySignature(
  request: SignedRequest,
  claims: SignatureClaims,
  secretAccessKey: string,
): ChunkSigner {
  const key = signingKeyOf(secretAccessKey, claims.longDate.slice(0, 8), claims.region);
  const mac = (text: string) => createHmac('sha256', key).update(text, 'utf8').digest();
  const sign = (text: string) => mac(text).toString('hex');
  const prefix = (algorithm: string, previous: string) =>
    `${algorithm}\n${claims.longDate}\n${claims.scope}\n${previous}\n`;
  const headers: Record<string, string> = {};
  for (const name of claims.signedHeaders) headers[name] = header(request, name) ?? '';
  const query = { ...request.query };
  if (claims.presigned) delete query['X-Amz-Signature'];
  const raw = { method: request.method, query, headers, protocol: 'http:', hostname: '' };
  let matched = false;
  for (const path of new Set([request.rawPath, canonicalPath(request.rawPath)])) {
    const canonical = canonicalizer.canonicalRequest(
      { ...raw, path },
      claims.signedHeaders,
      claims.payloadHash,
    );
    const computed = mac(
      `${ALGORITHM}\n${claims.longDate}\n${claims.scope}\n${sha256Hex(canonical)}`,
    );
    if (sameSignature(computed, claims.signature)) matched = true;
  }
  if (!matched) {
    throw new S3Error(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      403,
    );
  }
  return {
    seed: claims.signature,
    chunk: (previous, dataSha256) =>
      sign(`${prefix('AWS4-HMAC-SHA256-PAYLOAD', previous)}${EMPTY_SHA256}\n${dataSha256}`),
    trailer: (previous, trailerText) =>
      sign(prefix('AWS4-HMAC-SHA256-TRAILER', previous) + sha256Hex(trailerText)),
  };
}

/** Constant-time comparison of a chunk's claimed signature with the expected one. */
export function chunkSignatureMatches(expected: string, claimed: string): boolean {
  return /^[0-9a-f]{64}$/.test(claimed) && sameSignature(Buffer.from(expected, 'hex'), claimed);
}
