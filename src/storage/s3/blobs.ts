/**
 * The scale-out blob store: content-addressed objects in any S3-compatible store (SPEC §12). A
 * content is uploaded to `tmp/<uuid>` while it is hashed, then copied to
 * `sha256/<aa>/<bb>/<sha256>`; a node killed before that leaves only a temporary, which `init()` of
 * a later start removes once it is old enough that no live node can still be uploading it.
 */
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { SHA256_HEX } from '../../domain/sha256.js';
import type { BlobStore, BlobWriter, ByteRange } from '../ports.js';
import { exactRange } from './range.js';
import { parseS3Url, type S3Location } from './url.js';
import { S3BlobWriter, TEMP_DIR } from './writer.js';

/** Younger temporaries may belong to an upload another node is still making. */
export const STALE_TEMPORARY_MS = 60 * 60 * 1000;

export interface S3BlobStoreOptions {
  /** The clock that ages temporaries (tests move it forward). */
  readonly now?: () => number;
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return error.name === 'NotFound' || error.name === 'NoSuchKey' || status === 404;
}

export class S3BlobStore implements BlobStore {
  readonly kind = 's3';
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;

  private readonly now: () => number;

  constructor(
    private readonly location: S3Location,
    options: S3BlobStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.bucket = location.bucket;
    this.prefix = location.prefix;
    // Credentials: the SDK's default provider chain (environment, profile, instance role).
    this.client = new S3Client({
      ...(location.endpoint !== undefined ? { endpoint: location.endpoint } : {}),
      ...(location.region !== undefined ? { region: location.region } : {}),
      forcePathStyle: location.forcePathStyle,
      // Our own SHA-256 guards the content; extra checksums break many S3-compatible stores.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // A store that stops answering fails the request (the SDK retries it) instead of holding
      // an upload, its write slot and its client forever: 5 s to connect, 60 s of silence.
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
    });
  }

  /** `s3://<bucket>?endpoint=…&region=…&forcePathStyle=true[&prefix=…]` (SPEC §12). */
  static fromUrl(url: string, options: S3BlobStoreOptions = {}): S3BlobStore {
    return new S3BlobStore(parseS3Url(url), options);
  }

  keyOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error('not a SHA-256 hex digest');
    return `${this.prefix}sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
  }

  async init(): Promise<void> {
    try {
      await this.ping();
    } catch (error) {
      const reason = error instanceof Error ? error.name : 'error';
      throw new Error(
        `S3 bucket "${this.bucket}" is not available at ${this.location.endpoint ?? 'AWS S3'} (${reason})`,
        { cause: error },
      );
    }
    await this.removeTemporaries(this.now() - STALE_TEMPORARY_MS);
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** Keys of the temporaries currently present (uploads in progress or abandoned). */
  async temporaries(): Promise<string[]> {
    const keys: string[] = [];
    for await (const object of this.listTemporaries()) keys.push(object.key);
    return keys;
  }

  async createWriter(): Promise<BlobWriter> {
    return new S3BlobWriter(this);
  }

  async read(sha256: string, range?: ByteRange): Promise<Readable> {
    const response = await this.client.send(
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: this.keyOf(sha256),
        ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
      }),
    );
    const body = response.Body as Readable;
    return range ? exactRange(body, range, response.ContentRange) : body;
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }),
      );
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async *contentsBefore(before: number): AsyncIterable<{ sha256: string; modified: number }> {
    for await (const object of this.listUnder('sha256/')) {
      const sha256 = object.key.slice(object.key.lastIndexOf('/') + 1);
      if (object.modified < before && SHA256_HEX.test(sha256)) {
        yield { sha256, modified: object.modified };
      }
    }
  }

  async removeIfOlder(sha256: string, before: number): Promise<boolean> {
    const key = this.keyOf(sha256);
    let modified: number;
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      modified = head.LastModified?.getTime() ?? Number.POSITIVE_INFINITY;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    if (modified >= before) return false;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    return true;
  }

  /** Deletes the temporaries last modified before `before` (ms since the epoch). */
  private async removeTemporaries(before: number): Promise<void> {
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      batch = [];
    };
    for await (const object of this.listTemporaries()) {
      if (object.modified >= before) continue;
      batch.push(object.key);
      if (batch.length === 1000) await flush();
    }
    await flush();
  }

  private listTemporaries(): AsyncIterable<{ key: string; modified: number }> {
    return this.listUnder(TEMP_DIR);
  }

  /** Every object under `folder` (below the store's prefix), with its last-modified time. */
  private async *listUnder(folder: string): AsyncIterable<{ key: string; modified: number }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: `${this.prefix}${folder}`,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key) yield { key: object.Key, modified: object.LastModified?.getTime() ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}
