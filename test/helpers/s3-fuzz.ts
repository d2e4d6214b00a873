/**
 * Hostile requests to the S3 door (SPEC §13) for the fuzz tests: sent over a raw HTTP connection
 * (paths exactly as given: `..`, `%00`, invalid escapes — no URL parser normalizing them), signed
 * well, badly or not at all; what every answer must look like; and the door's state (objects,
 * uploads, parts, stored contents, temporaries), so that a refusal can be shown to have changed
 * nothing.
 */
import { appendFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { filesUnder, rawRequest } from './http.js';
import type { S3Credential } from './s3-door.js';
import { sha256Hex, signedChunks, signedHeaders, trailerChunks } from './s3-sign.js';
import type { InProcessTestServer } from './server.js';

/** How a request is signed: well, with a wrong signature, not at all, 20 minutes ago. */
export type Signing = 'good' | 'bad' | 'none' | 'skewed' | 'garbage';

/** An aws-chunked body, built once the request's signature (its seed) is known. */
export interface ChunkedBody {
  /** Signed chunks; unsigned with a checksum trailer; signed with a trailer whose signature lies. */
  readonly mode: 'signed' | 'trailer' | 'signed-trailer';
  readonly data: string;
  readonly chunkSize: number;
  /** What is done to the encoded body (a cut, a byte changed, a chunk header lied about). */
  readonly tamper: 'none' | 'truncate' | 'flip' | 'no-final' | 'size-lie' | 'huge-header';
  readonly trailer?: string;
}

export interface FuzzRequest {
  readonly method: string;
  /** The path as sent; `@key` and `@upload` stand for the fixture upload's key and id. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Appended to the query unsigned and undecoded (a request cannot be signed with it). */
  readonly rawQuery?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly chunked?: ChunkedBody;
  /** x-amz-content-sha256 when not the body's SHA-256. */
  readonly payload?: string;
  readonly signing: Signing;
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** Longer than any answer of the door takes on a loaded machine: past it, the door hung. */
const HANG_MS = 10_000;

/** What the placeholders of a request stand for. */
export interface FuzzFixture {
  /** `@key`, `@upload`: the open upload's key and id; `@etag<n>`: part n's MD5 (or nothing). */
  readonly key: string;
  readonly uploadId: string;
  readonly etags: readonly string[];
  /** `@fresh`: a name no request used before. */
  readonly fresh: string;
}

/** Substitutes the fixture's values for their placeholders. */
export function resolved(text: string, fixture: FuzzFixture): string {
  return text
    .replaceAll('@key', fixture.key)
    .replaceAll('@upload', fixture.uploadId)
    .replace(/@etag(\d+)/g, (_all, number: string) => fixture.etags[Number(number) - 1] ?? '')
    .replaceAll('@fresh', fixture.fresh);
}

function resolveAll(
  record: Readonly<Record<string, string>>,
  fixture: FuzzFixture,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).map(([name, value]) => [name, resolved(value, fixture)]),
  );
}

const PAYLOAD_OF: Readonly<Record<ChunkedBody['mode'], string>> = {
  signed: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  trailer: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'signed-trailer': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
};

const crc32Of = (data: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data));
  return out.toString('base64');
};

function tampered(body: Buffer, how: ChunkedBody['tamper']): Buffer {
  switch (how) {
    case 'truncate':
      return body.subarray(0, Math.floor(body.length / 2));
    case 'flip': {
      const copy = Buffer.from(body);
      const at = Math.floor(copy.length * 0.8);
      copy[at] = (copy[at] ?? 0) ^ 0x01;
      return copy;
    }
    case 'no-final': {
      const end = body.lastIndexOf('0;chunk-signature');
      const plainEnd = body.lastIndexOf('\r\n0\r\n');
      return body.subarray(0, end > 0 ? end : plainEnd > 0 ? plainEnd + 2 : body.length);
    }
    case 'size-lie':
      return Buffer.concat([Buffer.from('ffffff'), body.subarray(body.indexOf(';') > 0 ? 1 : 0)]);
    case 'huge-header':
      return Buffer.concat([Buffer.from(`10;${'x'.repeat(70_000)}\r\n`), body]);
    default:
      return body;
  }
}

/** Sends `fuzz` to the door at `base`; throws when no whole answer comes within HANG_MS. */
export async function sendFuzz(
  base: string,
  credential: S3Credential,
  fuzz: FuzzRequest,
  fixture: FuzzFixture,
): Promise<Answer> {
  const path = resolved(fuzz.path, fixture);
  const query = resolveAll(fuzz.query, fixture);
  const extra = resolveAll(fuzz.headers, fixture);
  const chunked = fuzz.chunked;
  let body: Buffer = Buffer.from(fuzz.body === undefined ? '' : resolved(fuzz.body, fixture));
  if (chunked) {
    extra['content-encoding'] ??= 'aws-chunked';
    extra['x-amz-decoded-content-length'] ??= String(Buffer.byteLength(chunked.data));
    if (chunked.mode !== 'signed') extra['x-amz-trailer'] ??= 'x-amz-checksum-crc32';
  }
  const payload = fuzz.payload ?? (chunked ? PAYLOAD_OF[chunked.mode] : sha256Hex(body));
  let headers: Record<string, string> = { ...extra, 'x-amz-content-sha256': payload };
  if (fuzz.signing !== 'none' && fuzz.signing !== 'garbage') {
    const signingDate = fuzz.signing === 'skewed' ? new Date(Date.now() - 20 * 60_000) : new Date();
    headers = await signedHeaders(base, credential, {
      method: fuzz.method,
      path,
      query,
      headers: extra,
      payload,
      signingDate,
    });
    if (fuzz.signing === 'bad') {
      headers['authorization'] = (headers['authorization'] ?? '').replace(
        /Signature=(.)/,
        (_all, first: string) => `Signature=${first === '0' ? '1' : '0'}`,
      );
    }
  } else if (fuzz.signing === 'garbage') {
    headers['authorization'] = 'AWS4-HMAC-SHA256 Credential=,,,;SignedHeaders=Signature==';
  }
  if (chunked) {
    const data = Buffer.from(chunked.data);
    const seed = /Signature=([0-9a-f]{64})/.exec(headers['authorization'] ?? '')?.[1] ?? '';
    const trailer = chunked.trailer ?? `x-amz-checksum-crc32:${crc32Of(data)}`;
    const signedBody = () =>
      signedChunks(
        data,
        chunked.chunkSize,
        credential.secretAccessKey,
        headers['x-amz-date'] ?? '',
        seed,
      );
    const encoded =
      chunked.mode === 'signed'
        ? signedBody()
        : chunked.mode === 'signed-trailer'
          ? Buffer.concat([
              signedBody().subarray(0, -2),
              Buffer.from(`${trailer}\r\nx-amz-trailer-signature:${'0'.repeat(64)}\r\n\r\n`),
            ])
          : trailerChunks(data, chunked.chunkSize, trailer);
    body = tampered(encoded, chunked.tamper);
  }
  const search = Object.entries(query)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .concat(fuzz.rawQuery ? [fuzz.rawQuery] : [])
    .join('&');
  const answer = await rawRequest(base, {
    method: fuzz.method,
    path: search ? `${path}?${search}` : path,
    headers: { ...headers, connection: 'close' },
    body,
    timeoutMs: HANG_MS,
  });
  return { status: answer.status, headers: answer.headers, text: answer.bytes.toString('utf8') };
}

/** The 5xx answers SPEC §13 documents; any other 5xx is the door failing. */
const DOCUMENTED_5XX: Readonly<Record<number, readonly string[]>> = {
  501: ['NotImplemented'],
  503: ['SlowDown'],
  507: ['XBucketStorageFull'],
};

/** Why `answer` breaks the door's promise (SPEC §13), or null when it keeps it. */
export function brokenPromise(answer: Answer, method: string): string | null {
  if (answer.status < 100 || answer.status >= 600) return `status ${answer.status}`;
  // XML 1.0 §2.2: no control character but tab and line ends, not even as a reference.
  const xml = /^application\/xml/.test(String(answer.headers['content-type']));
  if (
    xml &&
    /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]|&#(x0*[0-8bcef]|x0*1[0-9a-f]|0*([0-8]|1[1-24-9]|2[0-9]|3[01]));/iu.test(
      answer.text,
    )
  ) {
    return `an XML answer holds a character XML forbids: ${JSON.stringify(answer.text.slice(0, 300))}`;
  }
  if (answer.status < 400) return null;
  const requestId = answer.headers['x-amz-request-id'];
  if (typeof requestId !== 'string' || requestId === '') return 'no x-amz-request-id header';
  const code = /<Code>([^<]*)<\/Code>/.exec(answer.text)?.[1];
  if (answer.status >= 500) {
    const allowed = DOCUMENTED_5XX[answer.status] ?? [];
    // A HEAD answer has no body: its status alone must be documented.
    if (allowed.length === 0 || (method !== 'HEAD' && !allowed.includes(code ?? ''))) {
      return `undocumented ${answer.status} ${code ?? ''}`;
    }
  }
  if (method === 'HEAD') return null;
  if (!/^application\/xml/.test(String(answer.headers['content-type']))) {
    return `error content-type ${String(answer.headers['content-type'])}`;
  }
  const shape =
    /^<\?xml version="1\.0" encoding="UTF-8"\?>\s*<Error><Code>[A-Za-z]+<\/Code><Message>[^<]*<\/Message><Resource>[^<]*<\/Resource><RequestId>([^<]+)<\/RequestId><\/Error>$/.exec(
      answer.text,
    );
  if (!shape) return `not an S3 error document: ${answer.text.slice(0, 300)}`;
  if (shape[1] !== requestId) return 'RequestId is not the x-amz-request-id';
  return null;
}

/** What the door keeps of `products`: objects, uploads with their parts, blob files, temporaries. */
export async function doorState(server: InProcessTestServer, products: readonly string[]) {
  const { metadata } = server.bucket;
  const state: Record<string, unknown> = {};
  for (const product of products) {
    const heads = await metadata.listArtifacts({ product, limit: 1000, withTombstoned: true });
    state[`${product} objects`] = heads.map((head) => [head.class, head.name, head.version]);
    const uploads = await metadata.listS3Uploads(product, 1000);
    const parts: unknown[] = [];
    for (const upload of uploads) {
      const listed = await metadata.listS3Parts(upload.uploadId);
      parts.push([upload.uploadId, upload.claimedAt, listed.map((part) => part.sha256)]);
    }
    state[`${product} uploads`] = parts;
  }
  state['blobs'] = await storedContents(server);
  state['temporaries'] = await filesUnder(join(server.dataDir, 'blobs', 'tmp'));
  return state;
}

/** The addresses of every content the blob store holds (files or objects: either backend). */
export async function storedContents(server: InProcessTestServer): Promise<string[]> {
  const addresses: string[] = [];
  for await (const { sha256 } of server.bucket.blobs.contentsBefore(Number.MAX_SAFE_INTEGER)) {
    addresses.push(sha256);
  }
  return addresses.sort();
}

/** Contents no version and no part references: what a refused write left behind. */
export async function unreferencedBlobs(server: InProcessTestServer): Promise<string[]> {
  const orphans: string[] = [];
  for (const sha256 of await storedContents(server)) {
    if (!(await server.bucket.metadata.isContentReferenced(sha256))) orphans.push(sha256);
  }
  return orphans;
}

/** `text` with long repetitions squeezed and cut at `max`: a readable counterexample. */
export function abbreviated(text: string, max = 3000): string {
  const squeezed = text.replace(
    /(.{1,12}?)\1{8,}/gs,
    (run, unit: string) => `${unit}…(×${run.length / unit.length})`,
  );
  return squeezed.length > max ? `${squeezed.slice(0, max)}…` : squeezed;
}

/** With FUZZ_STATS=<file>: one line per request — what it was and how the door answered. */
export async function noteReached(fuzz: FuzzRequest, answer: Answer): Promise<void> {
  const file = process.env['FUZZ_STATS'];
  if (!file) return;
  const kind = [
    fuzz.method,
    fuzz.query['uploadId'] ? 'multipart' : '',
    fuzz.chunked ? 'chunked' : '',
  ];
  const code = /<Code>([^<]*)<\/Code>/.exec(answer.text)?.[1] ?? '';
  const message = /<Message>([^<]*)<\/Message>/.exec(answer.text)?.[1]?.slice(0, 70) ?? '';
  await appendFile(file, `${kind.filter(Boolean).join(' ')} ${answer.status} ${code} ${message}\n`);
}
