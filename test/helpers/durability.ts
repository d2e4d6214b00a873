/**
 * Raw HTTP for the durability tests: uploads that stop half-way, chunked uploads without a
 * Content-Length, and writes whose acknowledgement is seen the instant its status line arrives.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Files (and directories) currently in `<dataDir>/blobs/tmp`; [] when it does not exist. */
export async function blobTemporaries(dataDir: string): Promise<string[]> {
  try {
    return await readdir(join(dataDir, 'blobs', 'tmp'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Where the file blob store keeps a content (SPEC §12: content-addressed, sharded). */
export function blobPath(dataDir: string, digest: string): string {
  return join(dataDir, 'blobs', 'sha256', digest.slice(0, 2), digest.slice(2, 4), digest);
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last result. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 5000,
  intervalMs = 25,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function open(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string | number>,
): ClientRequest {
  const url = new URL(baseUrl);
  return request({
    host: url.hostname,
    port: url.port,
    method,
    path,
    headers,
    // A fresh connection per request: destroying one never affects another.
    agent: false,
  });
}

/** Writes `chunk`, waiting for the socket to drain; rejects when the request failed. */
function writeChunk(req: ClientRequest, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (req.destroyed) {
      reject(new Error('request destroyed'));
      return;
    }
    const onError = (error: Error) => reject(error);
    req.once('error', onError);
    const flushed = req.write(chunk, () => {
      req.off('error', onError);
      if (flushed) resolve();
    });
    if (!flushed) {
      req.once('drain', () => {
        req.off('error', onError);
        resolve();
      });
    }
  });
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  readonly json: any;
}

function collect(response: IncomingMessage): Promise<Answer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const done = () => {
      const body = Buffer.concat(chunks);
      let json: any = null;
      try {
        json = body.length > 0 ? JSON.parse(body.toString('utf8')) : null;
      } catch {
        json = null;
      }
      resolve({ status: response.statusCode ?? 0, headers: response.headers, body, json });
    };
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', done);
    // A connection cut after the status line still tells us the status.
    response.once('error', done);
    response.once('aborted', done);
  });
}

/** An upload in progress: headers and part of a larger declared body have been sent. */
export interface StartedUpload {
  /** Destroys the socket, as a client that disappears mid-upload; resolves once it is closed. */
  abandon(): Promise<void>;
}

/**
 * Starts a PUT declaring `declared` bytes (Content-Length) and sends the first `sent` of them; the
 * caller decides what happens next (kill the server, or abandon the upload).
 */
export async function startUpload(
  baseUrl: string,
  key: string,
  path: string,
  options: { declared: number; sent: number; chunk?: number; contentType?: string },
): Promise<StartedUpload> {
  const req = open(baseUrl, 'PUT', path, {
    authorization: `Bearer ${key}`,
    'content-type': options.contentType ?? 'application/octet-stream',
    'content-length': options.declared,
  });
  req.on('error', () => undefined);
  const chunkSize = options.chunk ?? 256 * 1024;
  const chunk = Buffer.alloc(chunkSize, 0x5a);
  for (let sent = 0; sent < options.sent; sent += chunkSize) {
    await writeChunk(req, chunk.subarray(0, Math.min(chunkSize, options.sent - sent)));
  }
  return {
    abandon: () =>
      new Promise<void>((resolve) => {
        if (req.closed) {
          resolve();
          return;
        }
        req.once('close', () => resolve());
        req.destroy();
      }),
  };
}

/**
 * Sends only the headers of a PUT declaring `declared` bytes and waits for the answer: the server
 * must answer from the headers alone. The socket is destroyed afterwards.
 */
export function headersOnlyUpload(
  baseUrl: string,
  key: string,
  path: string,
  options: { declared: number; contentType: string; timeoutMs?: number },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = open(baseUrl, 'PUT', path, {
      authorization: `Bearer ${key}`,
      'content-type': options.contentType,
      'content-length': options.declared,
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('no answer to the headers alone'));
    }, options.timeoutMs ?? 5000);
    req.once('response', (response) => {
      void collect(response).then((answer) => {
        clearTimeout(timer);
        req.destroy();
        resolve(answer);
      });
    });
    req.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.flushHeaders();
  });
}

/**
 * A chunked upload (no Content-Length) that sends `total` bytes and then neither ends the body nor
 * sends more: the server must answer from what it has (as it does once the body passed the
 * limit). Not writing after that keeps the client from racing the server's close of the
 * connection (an EPIPE on a late write would make Node drop the answer it already received).
 */
export async function chunkedUpload(
  baseUrl: string,
  key: string,
  path: string,
  options: { total: number; contentType: string; chunk?: number; timeoutMs?: number },
): Promise<Answer> {
  const req = open(baseUrl, 'PUT', path, {
    authorization: `Bearer ${key}`,
    'content-type': options.contentType,
    'transfer-encoding': 'chunked',
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no answer within ${options.timeoutMs ?? 10_000} ms`)),
      options.timeoutMs ?? 10_000,
    );
    req.once('response', (response) => {
      void collect(response).then((collected) => {
        clearTimeout(timer);
        resolve(collected);
      });
    });
    req.once('error', (error) => {
      // The connection may be cut right after the answer; only an error without one counts.
      setTimeout(() => {
        clearTimeout(timer);
        reject(error);
      }, 1000).unref();
    });
  });
  answer.catch(() => undefined);
  const chunkSize = options.chunk ?? 1024 * 1024;
  const chunk = Buffer.alloc(chunkSize, 0x61);
  let sentBytes = 0;
  try {
    while (sentBytes < options.total) {
      const size = Math.min(chunkSize, options.total - sentBytes);
      // A server that answered and stopped reading never drains the socket: stop waiting then.
      const written = await Promise.race([
        writeChunk(req, chunk.subarray(0, size)).then(() => true),
        answer.then(
          () => false,
          () => false,
        ),
      ]);
      if (!written) break;
      sentBytes += size;
    }
  } catch {
    // The server closed the connection: its answer (or the lack of one) tells what happened.
  }
  try {
    return await answer;
  } finally {
    req.destroy();
  }
}

/** A PUT whose status is reported as soon as the status line arrives, before the body ends. */
export function putObserved(
  baseUrl: string,
  key: string,
  path: string,
  body: Buffer,
  contentType: string,
  onStatus: (status: number) => void,
): Promise<Answer | null> {
  return new Promise((resolve) => {
    const req = open(baseUrl, 'PUT', path, {
      authorization: `Bearer ${key}`,
      'content-type': contentType,
      'content-length': body.length,
    });
    req.once('response', (response) => {
      onStatus(response.statusCode ?? 0);
      void collect(response).then(resolve);
    });
    // A write cut off by the kill has no answer: it was never acknowledged.
    req.once('error', () => resolve(null));
    req.end(body);
  });
}

/** The stores a test server runs on: its data directory, and its scale-out backend if any. */
export interface StoredServer {
  readonly dataDir: string;
  readonly backend: { readonly env: Record<string, string> } | null;
}

async function s3Of(server: StoredServer) {
  const url = server.backend?.env['BUCKET_BLOB_URL'];
  if (url === undefined) return null;
  const { S3BlobStore } = await import('../../src/storage/s3/blobs.js');
  return S3BlobStore.fromUrl(url);
}

/**
 * Temporaries left in the server's blob store: files in `<dataDir>/blobs/tmp`, or objects under
 * `tmp/` in S3 (an S3 upload in progress is a multipart upload, not an object, until it ends).
 */
export async function temporariesOf(server: StoredServer): Promise<string[]> {
  const s3 = await s3Of(server);
  if (!s3) return blobTemporaries(server.dataDir);
  try {
    return await s3.temporaries();
  } finally {
    await s3.close();
  }
}

/** Whether the content `digest` is stored under its address (file or object). */
export async function contentStored(server: StoredServer, digest: string): Promise<boolean> {
  const s3 = await s3Of(server);
  if (!s3) {
    const { existsSync } = await import('node:fs');
    return existsSync(blobPath(server.dataDir, digest));
  }
  try {
    return await s3.exists(digest);
  } finally {
    await s3.close();
  }
}

/**
 * Waits until the server is receiving `count` uploads into temporaries. Only the file store shows
 * them (S3 multipart uploads are not listed until they complete): with S3 it waits a moment.
 */
export async function receiving(server: StoredServer, count = 1): Promise<boolean> {
  if (server.backend?.env['BUCKET_BLOB_URL'] !== undefined) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return true;
  }
  return eventually(async () => (await blobTemporaries(server.dataDir)).length >= count);
}

/** The byte size of the stored content `digest` (file or object); null when it is not stored. */
export async function storedSize(server: StoredServer, digest: string): Promise<number | null> {
  const s3 = await s3Of(server);
  if (!s3) {
    const { stat } = await import('node:fs/promises');
    try {
      return (await stat(blobPath(server.dataDir, digest))).size;
    } catch {
      return null;
    }
  }
  try {
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const head = await s3.client.send(
      new HeadObjectCommand({ Bucket: s3.bucket, Key: s3.keyOf(digest) }),
    );
    return head.ContentLength ?? null;
  } catch {
    return null;
  } finally {
    await s3.close();
  }
}

/**
 * Holds the metadata store's write lock from outside until `release()`, so that the server's next
 * commit waits (and, past its lock timeout, fails): SQLite's write lock (WAL readers are not
 * blocked), or the PostgreSQL row every commit locks — the audit tree's head.
 */
export async function holdWriteLock(server: StoredServer): Promise<{ release(): Promise<void> }> {
  const databaseUrl = server.backend?.env['BUCKET_DATABASE_URL'];
  if (databaseUrl === undefined) {
    const { default: Database } = await import('better-sqlite3');
    const { join: joinPath } = await import('node:path');
    const db = new Database(joinPath(server.dataDir, 'bucket.db'));
    db.pragma('busy_timeout = 5000');
    db.exec('BEGIN IMMEDIATE');
    return {
      async release() {
        db.exec('ROLLBACK');
        db.close();
      },
    };
  }
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT size FROM audit_head WHERE id = 1 FOR UPDATE');
  return {
    async release() {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}
