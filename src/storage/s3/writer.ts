/**
 * A streamed write to S3: the bytes flow through a PassThrough into a lib-storage `Upload` of a
 * temporary key (multipart past one part, bounded part size and queue, so memory stays bounded
 * whatever the body size); `commit` copies the finished temporary to its content address.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { CopyObjectCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { BlobWriter } from '../ports.js';

/** S3's minimum part size; with QUEUE_SIZE parts in flight a writer holds about 4 parts. */
export const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;
/** Bytes buffered between `write` and the uploader before `write` waits. */
const STREAM_BUFFER = 1024 * 1024;

export const TEMP_DIR = 'tmp/';

/** What a writer needs from its store. */
export interface S3WriteTarget {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  /** The content address of `sha256` (throws for anything but a SHA-256 hex digest). */
  keyOf(sha256: string): string;
  exists(sha256: string): Promise<boolean>;
}

type State = 'open' | 'committing' | 'done';

export class S3BlobWriter implements BlobWriter {
  private state: State = 'open';
  private readonly body = new PassThrough({ highWaterMark: STREAM_BUFFER });
  /** Settles when the upload has finished or failed: the error, or null. */
  private readonly finished: Promise<Error | null>;
  private uploadError: Error | null = null;
  readonly tempKey: string;

  constructor(private readonly target: S3WriteTarget) {
    this.tempKey = `${target.prefix}${TEMP_DIR}${randomUUID()}`;
    // A destroyed body emits 'error'; the upload and pending writes observe it through their own
    // listeners, this one only keeps it from being an uncaught exception.
    this.body.on('error', () => undefined);
    const upload = new Upload({
      client: target.client,
      params: { Bucket: target.bucket, Key: this.tempKey, Body: this.body },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    this.finished = upload.done().then(
      () => null,
      (error: unknown) => {
        this.uploadError = error instanceof Error ? error : new Error(String(error));
        // Wakes a `write` waiting for 'drain' that would otherwise wait forever.
        this.body.destroy(this.uploadError);
        return this.uploadError;
      },
    );
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.state !== 'open') throw new Error('blob writer already finished');
    if (this.uploadError) throw this.uploadError;
    if (!this.body.write(chunk)) await once(this.body, 'drain');
  }

  async commit(sha256: string): Promise<void> {
    if (this.state !== 'open') throw new Error('blob writer already finished');
    this.state = 'committing';
    try {
      const key = this.target.keyOf(sha256);
      this.body.end();
      const failure = await this.finished;
      if (failure) throw failure;
      // Copied even when the address holds these very bytes already (content-addressed): the
      // copy renews its modification time, so the orphan sweep (services/content-sweeper.ts)
      // never takes an old unreferenced object that this write is about to reference.
      await this.target.client.send(
        new CopyObjectCommand({
          Bucket: this.target.bucket,
          Key: key,
          CopySource: `${this.target.bucket}/${encodeURI(this.tempKey)}`,
        }),
      );
      await this.deleteTemporary();
      this.state = 'done';
    } catch (error) {
      await this.discard();
      throw error;
    }
  }

  async abort(): Promise<void> {
    if (this.state === 'done') return;
    await this.discard();
  }

  private async discard(): Promise<void> {
    this.state = 'done';
    // Failing the body makes the upload stop, abort its multipart upload and settle.
    if (!this.body.destroyed) this.body.destroy(new Error('blob write aborted'));
    await this.finished;
    await this.deleteTemporary().catch(() => undefined);
  }

  private async deleteTemporary(): Promise<void> {
    await this.target.client.send(
      new DeleteObjectCommand({ Bucket: this.target.bucket, Key: this.tempKey }),
    );
  }
}
