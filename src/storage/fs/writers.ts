/**
 * The embedded blob store's writers: bytes streamed into a temporary file (gathered into large
 * writes, flushed in the background, synced), or a joined temporary already whole (a directory of
 * links, or a file the join wrote); committing either installs it at its address (blobs.ts).
 */
import { rm, type FileHandle } from 'node:fs/promises';
import type { BlobWriter } from '../ports.js';
import type { FileBlobStore } from './blobs.js';
import { removeTemporary } from './composite.js';

/** Chunks are gathered into writes of about this size (one system call, one thread-pool hop). */
const WRITE_BYTES = 1024 * 1024;
/** …or of this many chunks (the system's IOV_MAX), so that tiny chunks cannot pile up. */
const WRITE_PARTS = 1024;
/** Written bytes are flushed to the disk in the background every this many (see below). */
const WRITEBACK_BYTES = 32 * 1024 * 1024;

export class FileBlobWriter implements BlobWriter {
  private done = false;
  /** Chunks received and not yet handed to the file. */
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  /** The write in progress: one at a time, in order, while the next one gathers. */
  private writing: Promise<void> = Promise.resolve();
  private writtenBytes = 0;
  private syncedBytes = 0;
  /** A background fdatasync of what is written so far, or null. */
  private writeback: Promise<void> | null = null;

  constructor(
    private readonly store: FileBlobStore,
    private readonly file: FileHandle,
    private readonly tempPath: string,
  ) {}

  /**
   * Resolves at once while the chunk only joins the gathered ones; once a full write's worth is
   * gathered, it waits for the write before (never more than two writes' worth in memory), then
   * starts this one. The stream is read on meanwhile instead of waiting for every chunk's write.
   */
  async write(chunk: Buffer): Promise<void> {
    if (this.done) throw new Error('blob writer already finished');
    this.gathered.push(chunk);
    this.gatheredBytes += chunk.length;
    if (this.gatheredBytes < WRITE_BYTES && this.gathered.length < WRITE_PARTS) return;
    await this.writing;
    this.writing = this.writeGathered();
    // Its failure is reported by the next write, the commit or the abort, whichever comes
    // first; until then it must not count as unhandled (which would end the process).
    this.writing.catch(() => undefined);
  }

  private async writeGathered(): Promise<void> {
    const buffers = this.gathered;
    let remaining = this.gatheredBytes;
    this.gathered = [];
    this.gatheredBytes = 0;
    let parts = buffers;
    while (remaining > 0) {
      const { bytesWritten } = await this.file.writev(parts);
      remaining -= bytesWritten;
      this.writtenBytes += bytesWritten;
      if (remaining > 0) parts = rest(parts, bytesWritten);
    }
    // The kernel would otherwise keep the whole content dirty until the commit's fsync, which
    // then waits for all of it at once; a sync now and then lets the disk work while bytes
    // still arrive. Only one runs at a time, and nothing waits for it but the commit.
    if (this.writeback === null && this.writtenBytes - this.syncedBytes >= WRITEBACK_BYTES) {
      const upTo = this.writtenBytes;
      this.writeback = this.file.datasync().then(
        () => {
          this.syncedBytes = upTo;
          this.writeback = null;
        },
        () => {
          // The commit's own sync reports a failing disk.
          this.writeback = null;
        },
      );
    }
  }

  /** Every gathered byte handed to the file. */
  private async flush(): Promise<void> {
    await this.writing;
    if (this.gatheredBytes > 0) await this.writeGathered();
    await this.writeback;
  }

  async commit(sha256: string): Promise<void> {
    if (this.done) throw new Error('blob writer already finished');
    this.done = true;
    try {
      await this.flush();
      await this.file.sync();
      await this.file.close();
      await this.store.install(this.tempPath, sha256, this.writtenBytes);
    } catch (error) {
      // Closed already when the failure came after the sync; a handle left open would leak.
      await this.file.close().catch(() => undefined);
      await rm(this.tempPath, { force: true });
      throw error;
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    // Let a write in flight finish before the file is closed under it.
    await this.writing.catch(() => undefined);
    await this.writeback?.catch(() => undefined);
    await this.file.close().catch(() => undefined);
    await rm(this.tempPath, { force: true });
  }
}

/**
 * A joined temporary (a synced file, or a synced directory of links to its parts): committing it
 * installs it under its SHA-256.
 */
export class JoinedWriter implements BlobWriter {
  private done = false;

  constructor(
    private readonly store: FileBlobStore,
    private readonly tempPath: string,
    private readonly sha256: string,
    private readonly size: number,
  ) {}

  write(): Promise<void> {
    return Promise.reject(new Error('a joined content takes no more bytes'));
  }

  async commit(sha256: string): Promise<void> {
    if (this.done) throw new Error('blob writer already finished');
    this.done = true;
    try {
      if (sha256 !== this.sha256) throw new Error('a joined content commits under its own SHA-256');
      await this.store.install(this.tempPath, sha256, this.size);
    } catch (error) {
      await removeTemporary(this.tempPath);
      throw error;
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await removeTemporary(this.tempPath);
  }
}

/** `buffers` without their first `bytes` bytes (after a short write). */
function rest(buffers: readonly Buffer[], bytes: number): Buffer[] {
  const left: Buffer[] = [];
  let skip = bytes;
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
      continue;
    }
    left.push(skip > 0 ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return left;
}
