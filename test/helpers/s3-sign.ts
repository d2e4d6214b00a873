/**
 * Raw SigV4 requests to the S3 door, signed as a client signs them (smithy's SignatureV4, the
 * AWS SDK's signer), and aws-chunked bodies whose chunk signatures are computed here with plain
 * HMACs — an implementation of its own, so a test does not check the door against itself.
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { S3Credential } from './s3-door.js';

type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: Data) =>
  typeof data === 'string'
    ? Buffer.from(data)
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

class Sha256 {
  private hash;
  constructor(secret?: Data) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Data) {
    this.hash.update(bytes(data));
  }
  digest() {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset() {}
}

export const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
  /** x-amz-content-sha256; the body's SHA-256 by default. */
  readonly payload?: string;
  readonly signingDate?: Date;
}

function signer(credential: S3Credential) {
  return new SignatureV4({
    credentials: credential,
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
}

export function urlOf(base: string, path: string, query: Record<string, string>): string {
  const search = Object.entries(query)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return `${base}${path}${search ? `?${search}` : ''}`;
}

/**
 * The headers of `request` signed with the Authorization header (`host` left out: the client
 * sends it), its path signed as given (still percent-encoded, as S3 signs it).
 */
export async function signedHeaders(
  base: string,
  credential: S3Credential,
  request: RawRequest,
): Promise<Record<string, string>> {
  const url = new URL(base);
  const body = request.body ?? Buffer.alloc(0);
  const signed = await signer(credential).sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: request.path,
      query: request.query ?? {},
      headers: {
        host: url.host,
        'x-amz-content-sha256': request.payload ?? sha256Hex(body),
        ...request.headers,
      },
    },
    { signingDate: request.signingDate ?? new Date() },
  );
  const headers = { ...(signed.headers as Record<string, string>) };
  delete headers['host'];
  return headers;
}

/** Signs `request` with the Authorization header and sends it. */
export async function sendSigned(base: string, credential: S3Credential, request: RawRequest) {
  const headers = await signedHeaders(base, credential, request);
  const answer = await fetch(urlOf(base, request.path, request.query ?? {}), {
    method: request.method,
    headers,
    body: request.body && request.method !== 'GET' ? request.body : undefined,
  });
  return { status: answer.status, headers: answer.headers, text: await answer.text() };
}

/** A presigned URL of `request` (query-string authentication). */
export async function presignedUrl(
  base: string,
  credential: S3Credential,
  request: { method: string; path: string; expiresIn: number; signingDate?: Date },
): Promise<string> {
  const url = new URL(base);
  const signed = await signer(credential).presign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: request.path,
      query: {},
      // As the SDK's presigner does: an unsigned payload (hoisted into the query).
      headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    { expiresIn: request.expiresIn, signingDate: request.signingDate ?? new Date() },
  );
  return urlOf(base, request.path, signed.query as Record<string, string>);
}

const hmac = (key: Buffer | string, text: string) =>
  createHmac('sha256', key).update(text).digest();

function signingKey(secret: string, date: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), 'us-east-1'), 's3'), 'aws4_request');
}

/**
 * An aws-chunked body of `data` in chunks of `chunkSize`, each signed and chained from `seed`
 * (the request's signature), as STREAMING-AWS4-HMAC-SHA256-PAYLOAD sends it.
 */
export function signedChunks(
  data: Buffer,
  chunkSize: number,
  secret: string,
  longDate: string,
  seed: string,
): Buffer {
  const key = signingKey(secret, longDate.slice(0, 8));
  const scope = `${longDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const empty = sha256Hex('');
  const out: Buffer[] = [];
  let previous = seed;
  for (let at = 0; ; at += chunkSize) {
    const chunk = data.subarray(at, at + chunkSize);
    const toSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      longDate,
      scope,
      previous,
      empty,
      sha256Hex(chunk),
    ].join('\n');
    previous = hmac(key, toSign).toString('hex');
    out.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`));
    out.push(chunk, Buffer.from('\r\n'));
    if (chunk.length === 0) return Buffer.concat(out);
  }
}

/** An aws-chunked body with unsigned chunks and a checksum trailer. */
export function trailerChunks(data: Buffer, chunkSize: number, trailer: string): Buffer {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunkSize) {
    const chunk = data.subarray(at, at + chunkSize);
    out.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`0\r\n${trailer}\r\n\r\n`));
  return Buffer.concat(out);
}

/** Sends a STREAMING-AWS4-HMAC-SHA256-PAYLOAD PutObject; `mutate` may tamper with the body. */
export async function sendChunked(
  base: string,
  credential: S3Credential,
  path: string,
  data: Buffer,
  options: { chunkSize: number; contentType?: string; mutate?: (body: Buffer) => Buffer },
) {
  const url = new URL(base);
  const signingDate = new Date();
  const signed = await signer(credential).sign(
    {
      method: 'PUT',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path,
      query: {},
      headers: {
        host: url.host,
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(data.length),
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        ...(options.contentType ? { 'content-type': options.contentType } : {}),
      },
    },
    { signingDate },
  );
  const headers = { ...(signed.headers as Record<string, string>) };
  delete headers['host'];
  const seed = /Signature=([0-9a-f]{64})/.exec(headers['authorization'] ?? '')?.[1] ?? '';
  const longDate = headers['x-amz-date'] ?? '';
  const body = signedChunks(data, options.chunkSize, credential.secretAccessKey, longDate, seed);
  const answer = await fetch(base + path, {
    method: 'PUT',
    headers,
    body: options.mutate ? options.mutate(body) : body,
  });
  return { status: answer.status, headers: answer.headers, text: await answer.text() };
}
