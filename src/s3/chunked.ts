/**
 * aws-chunked bodies (SPEC §13): `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (every chunk signed, each
 * chunk's signature chained to the previous one — a chunk is passed on only once its signature
 * verified, so a flipped byte fails the upload before its chunk is stored) and
 * `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (chunks unsigned, the `x-amz-checksum-*` trailer verified
 * at the end); the signed-trailer variant too. Any failure throws: the upload stores nothing.
 */
import { createHash } from 'node:crypto';
import { S3Error } from './errors.js';
import { Checksum, checkChecksum, checksumAlgorithmOf } from './checksums.js';
import { chunkSignatureMatches, type ChunkSigner } from './sigv4.js';

/**
 * A chunk's data is held until its signature verified: bounded (the SDKs sign 64–128 KiB chunks),
 * and held by at most as many uploads as there are write slots.
 */
export const MAX_SIGNED_CHUNK = 4 * 1024 * 1024;
const MAX_LINE = 4096;
const MAX_TRAILER_LINES = 16;

const incomplete = () =>
  new S3Error('IncompleteBody', 'The aws-chunked body ended before its final chunk.');
const badChunk = (why: string) =>
  new S3Error('InvalidChunkSizeError', `The aws-chunked body is malformed: ${why}.`);
const badSignature = () =>
  new S3Error(
    'SignatureDoesNotMatch',
    'A chunk signature does not match the chunk: the upload was refused and nothing was stored.',
    403,
  );

class ByteReader {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly iterator: AsyncIterator<Buffer>;
  private ended = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.iterator.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    return true;
  }

  async line(): Promise<string> {
    for (;;) {
      const at = this.buffer.indexOf('\r\n');
      if (at >= 0) {
        const text = this.buffer.subarray(0, at).toString('latin1');
        this.buffer = this.buffer.subarray(at + 2);
        return text;
      }
      if (this.buffer.length > MAX_LINE) throw badChunk('a chunk header is too long');
      if (!(await this.fill())) throw incomplete();
    }
  }

  async *pieces(size: number): AsyncGenerator<Buffer> {
    let left = size;
    while (left > 0) {
      if (this.buffer.length === 0 && !(await this.fill())) throw incomplete();
      const take = Math.min(left, this.buffer.length);
      yield this.buffer.subarray(0, take);
      this.buffer = this.buffer.subarray(take);
      left -= take;
    }
  }

  /** Whether anything but whitespace follows. */
  async rest(): Promise<boolean> {
    while (await this.fill()) {
      if (this.buffer.toString('latin1').trim() !== '') return true;
      this.buffer = Buffer.alloc(0);
    }
    return this.buffer.toString('latin1').trim() !== '';
  }
}

export interface ChunkedOptions {
  /** Signed chunks: their signer; null for STREAMING-UNSIGNED-PAYLOAD-TRAILER. */
  readonly signer: ChunkSigner | null;
  /** Whether trailing headers follow the last chunk (`x-amz-trailer` names them). */
  readonly trailer: string | null;
  /** `x-amz-decoded-content-length`, checked against what arrives. */
  readonly decodedLength: number | null;
}

function chunkHeader(line: string, signed: boolean): { size: number; signature: string } {
  const [sizeText = '', ...extensions] = line.split(';');
  if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText.trim())) throw badChunk('a chunk size is not hex');
  const size = parseInt(sizeText.trim(), 16);
  let signature = '';
  for (const extension of extensions) {
    const [name, value = ''] = extension.split('=');
    if (name?.trim() === 'chunk-signature') signature = value.trim();
  }
  if (signed && signature === '') throw badSignature();
  if (signed && size > MAX_SIGNED_CHUNK) throw badChunk('a signed chunk is over 4 MiB');
  return { size, signature };
}

/** The decoded content of an aws-chunked body, chunk by chunk, verified as described above. */
export async function* decodeChunked(
  source: AsyncIterable<Buffer>,
  options: ChunkedOptions,
): AsyncGenerator<Buffer> {
  const reader = new ByteReader(source);
  const { signer } = options;
  const trailerAlgorithm = options.trailer === null ? null : checksumAlgorithmOf(options.trailer);
  if (options.trailer !== null && trailerAlgorithm === null) {
    throw new S3Error('InvalidRequest', `The trailer ${options.trailer} is not supported.`);
  }
  const checksum = trailerAlgorithm ? new Checksum(trailerAlgorithm) : null;
  let previous = signer?.seed ?? '';
  let total = 0;
  for (;;) {
    const { size, signature } = chunkHeader(await reader.line(), signer !== null);
    if (signer) {
      const held: Buffer[] = [];
      const hash = createHash('sha256');
      for await (const piece of reader.pieces(size)) {
        held.push(piece);
        hash.update(piece);
      }
      const expected = signer.chunk(previous, hash.digest('hex'));
      if (!chunkSignatureMatches(expected, signature)) throw badSignature();
      previous = signature;
      for (const piece of held) {
        checksum?.update(piece);
        yield piece;
      }
    } else {
      for await (const piece of reader.pieces(size)) {
        checksum?.update(piece);
        yield piece;
      }
    }
    total += size;
    if (size === 0) break;
    if ((await reader.line()) !== '') throw badChunk('a chunk is longer than its size');
  }
  if (options.trailer !== null) {
    const trailers = new Map<string, string>();
    const lines: string[] = [];
    for (let i = 0; ; i++) {
      if (i > MAX_TRAILER_LINES) throw badChunk('too many trailing headers');
      const line = await reader.line();
      if (line === '') break;
      const at = line.indexOf(':');
      if (at <= 0) throw badChunk('a trailing header has no name');
      const name = line.slice(0, at).trim().toLowerCase();
      const value = line.slice(at + 1).trim();
      trailers.set(name, value);
      if (name !== 'x-amz-trailer-signature') lines.push(`${name}:${value}\n`);
    }
    if (signer) {
      const expected = signer.trailer(previous, lines.join(''));
      if (!chunkSignatureMatches(expected, trailers.get('x-amz-trailer-signature') ?? '')) {
        throw badSignature();
      }
    }
    const claimed = trailers.get(options.trailer.toLowerCase());
    if (claimed === undefined || checksum === null) {
      throw new S3Error('InvalidRequest', `The trailer ${options.trailer} is missing.`);
    }
    checkChecksum(checksum, claimed);
  } else if ((await reader.line()) !== '') {
    throw badChunk('data follows the final chunk');
  }
  if (await reader.rest()) throw badChunk('data follows the final chunk');
  if (options.decodedLength !== null && total !== options.decodedLength) {
    throw new S3Error(
      'IncompleteBody',
      `The decoded body has ${total} bytes, not the ${options.decodedLength} of x-amz-decoded-content-length.`,
    );
  }
}
