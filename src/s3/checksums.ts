/**
 * The digests an S3 upload is checked with while it streams (SPEC §13): MD5 for the ETag and
 * `Content-MD5`, and the `x-amz-checksum-*` algorithms (CRC32, CRC32C, SHA-1, SHA-256), sent as a
 * header or as the trailer of an aws-chunked body. Values are base64 of the big-endian digest.
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { S3Error } from './errors.js';

export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

const CRC32C_TABLE = (() => {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c;
  }
  return table;
})();

function crc32c(crc: number, bytes: Uint8Array): number {
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) {
    c = (CRC32C_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return ~c >>> 0;
}

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out;
}

/** One running checksum of an `x-amz-checksum-*` algorithm. */
export class Checksum {
  private crc = 0;
  private readonly hash: Hash | null;

  constructor(readonly algorithm: ChecksumAlgorithm) {
    this.hash = algorithm === 'sha1' || algorithm === 'sha256' ? createHash(algorithm) : null;
  }

  update(bytes: Buffer): void {
    if (this.hash) this.hash.update(bytes);
    else if (this.algorithm === 'crc32') this.crc = crc32(bytes, this.crc);
    else this.crc = crc32c(this.crc, bytes);
  }

  /** The base64 value, as S3 sends and expects it. */
  digest(): string {
    return (this.hash ? this.hash.digest() : uint32(this.crc)).toString('base64');
  }
}

/** The checksum algorithm a header or trailer name names (`x-amz-checksum-crc32` …), or null. */
export function checksumAlgorithmOf(name: string): ChecksumAlgorithm | null {
  const lower = name.toLowerCase();
  if (!lower.startsWith('x-amz-checksum-')) return null;
  const algorithm = lower.slice('x-amz-checksum-'.length);
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(algorithm)
    ? (algorithm as ChecksumAlgorithm)
    : null;
}

/** Compares a received checksum with the one computed; a mismatch refuses the upload. */
export function checkChecksum(checksum: Checksum, expected: string): void {
  if (checksum.digest() !== expected.trim()) {
    throw new S3Error(
      'BadDigest',
      `The x-amz-checksum-${checksum.algorithm} you specified did not match the calculated checksum.`,
    );
  }
}

/**
 * What a body is hashed with as it streams: MD5 always (the ETag), and the checksums its headers
 * ask to verify. `finish()` checks `Content-MD5` and the header checksums, throwing BadDigest.
 */
export class UploadDigests {
  private readonly md5 = createHash('md5');
  private readonly checksums: { checksum: Checksum; expected: string }[] = [];
  private md5Hex: string | null = null;

  constructor(
    private readonly contentMd5: string | undefined,
    headerChecksums: readonly { algorithm: ChecksumAlgorithm; expected: string }[],
  ) {
    for (const { algorithm, expected } of headerChecksums) {
      this.checksums.push({ checksum: new Checksum(algorithm), expected });
    }
    if (contentMd5 !== undefined && !/^[A-Za-z0-9+/]{22}==$/.test(contentMd5.trim())) {
      throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.');
    }
  }

  update(bytes: Buffer): void {
    this.md5.update(bytes);
    for (const { checksum } of this.checksums) checksum.update(bytes);
  }

  finish(): void {
    const md5 = this.md5.digest();
    this.md5Hex = md5.toString('hex');
    if (this.contentMd5 !== undefined && md5.toString('base64') !== this.contentMd5.trim()) {
      throw new S3Error(
        'BadDigest',
        'The Content-MD5 you specified did not match what was received.',
      );
    }
    for (const { checksum, expected } of this.checksums) checkChecksum(checksum, expected);
  }

  /** The hex MD5 of the whole body, once `finish()` ran. */
  get md5Of(): string {
    if (this.md5Hex === null) throw new Error('the body was not received whole');
    return this.md5Hex;
  }
}
