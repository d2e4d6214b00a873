/** The BlobStore port: contents by SHA-256, written through a temporary place. */
import type { Readable } from 'node:stream';

/** A content being written to the blob store: bytes go to a temporary place until `commit`. */
export interface BlobWriter {
  write(chunk: Buffer): Promise<void>;
  /** Makes the bytes durable and addressable as `sha256`. */
  commit(sha256: string): Promise<void>;
  /** Discards everything written; safe to call more than once and after a failed commit. */
  abort(): Promise<void>;
}

export interface ByteRange {
  /** Inclusive first byte. */
  readonly start: number;
  /** Inclusive last byte. */
  readonly end: number;
}

/** A whole read whose bytes were hashed as they were read (off the event loop, where it can be). */
export interface HashedRead {
  readonly stream: Readable;
  /** The SHA-256 (hex) of all the bytes the stream gave, once it has ended; rejects on failure. */
  readonly digest: Promise<string>;
}

/**
 * Stored contents joined into a new one: its SHA-256 and size and a writer holding it (to commit
 * under that SHA-256, or abort); or the address of a source whose bytes no longer match it.
 */
export type JoinedContent =
  | { readonly sha256: string; readonly size: number; readonly writer: BlobWriter }
  | { readonly mismatch: string };

export interface BlobStore {
  readonly kind: string;
  /** Prepares the store and removes temporaries left by an interrupted process. */
  init(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  createWriter(): Promise<BlobWriter>;
  /** Streams a content (or part of it); rejects when it does not exist. */
  read(sha256: string, range?: ByteRange): Promise<Readable>;
  /**
   * Streams a whole content hashed as it is read, for integrity on read (SPEC §9); rejects when
   * it does not exist. A store without it is hashed by the reader, on the event loop.
   */
  readHashed?(sha256: string): Promise<HashedRead>;
  /**
   * Joins stored contents, in order, into a new content, each checked against its address and
   * the whole hashed as it is written — off the event loop, where the store can (an S3
   * multipart completion); a store without it is fed the contents read one after the other.
   */
  join?(sources: readonly string[]): Promise<JoinedContent>;
  exists(sha256: string): Promise<boolean>;
  /** Stored contents last written before `before` (ms since the epoch), with that time. */
  contentsBefore(before: number): AsyncIterable<{ sha256: string; modified: number }>;
  /**
   * Deletes a stored content if it is still last-modified before `before` — a write storing the
   * same bytes meanwhile renews it, and keeps it. Answers whether it was deleted.
   */
  removeIfOlder(sha256: string, before: number): Promise<boolean>;
}
