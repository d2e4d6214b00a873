/**
 * Lower-level HTTP for end-to-end tests, over node:http where `fetch` cannot go: raw request paths
 * (no `..` normalisation), streamed bodies that are never held whole in memory, chunked uploads,
 * bodies that stop half-way, and downloads hashed while they stream.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly bytes: Buffer;
  /** The body parsed as JSON when it is JSON, else null. */
  readonly json: any;
}

export interface RawRequest {
  readonly method: string;
  /** Sent exactly as given: percent-encodings and dot segments are not touched. */
  readonly path: string;
  readonly key?: string;
  readonly headers?: Record<string, string>;
  /** A body sent whole (with Content-Length unless a header says otherwise). */
  readonly body?: Buffer | string;
  /** A body streamed chunk by chunk (chunked unless `headers` declares a Content-Length). */
  readonly stream?: AsyncIterable<Buffer>;
  /** Milliseconds to wait for the answer before failing. */
  readonly timeoutMs?: number;
}

function parseJson(headers: IncomingHttpHeaders, bytes: Buffer): unknown {
  if (!(headers['content-type'] ?? '').includes('json') || bytes.length === 0) return null;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
}

/**
 * One request over a fresh connection. The answer resolves as soon as the server has answered and
 * its body ended, even if the request body is still being sent (the rest is then abandoned): this
 * is how a test sees a 413 that the server sends before it has read the whole body.
 */
export function rawRequest(baseUrl: string, options: RawRequest): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers['authorization'] = `Bearer ${options.key}`;
  if (options.body !== undefined && headers['content-length'] === undefined) {
    headers['content-length'] = String(Buffer.byteLength(options.body));
  }
  return new Promise<RawAnswer>((resolve, reject) => {
    let answered = false;
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method: options.method,
      path: options.path,
      headers,
      agent: false,
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer to ${options.method} ${options.path} in time`));
    }, options.timeoutMs ?? 60_000);
    req.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        clearTimeout(timer);
        const bytes = Buffer.concat(chunks);
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          bytes,
          json: parseJson(response.headers, bytes),
        });
        req.destroy();
      });
    });
    req.on('error', (error) => {
      // Writing into a connection the server closed after answering is expected; only an error
      // before any answer is a failure.
      if (!answered) {
        clearTimeout(timer);
        reject(error);
      }
    });
    if (options.stream) {
      void (async () => {
        try {
          for await (const chunk of options.stream ?? []) {
            if (answered || req.destroyed) return;
            if (!req.write(chunk)) {
              await new Promise<void>((done) => {
                const finish = () => {
                  req.off('drain', finish);
                  req.off('close', finish);
                  done();
                };
                req.once('drain', finish);
                req.once('close', finish);
              });
            }
          }
          if (!answered && !req.destroyed) req.end();
        } catch (error) {
          req.destroy(error as Error);
        }
      })();
    } else {
      req.end(options.body);
    }
  });
}

/** Sends `bytes` on a fresh connection; resolves with everything the server wrote back. */
export function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server closes after answering; a reset while we still write is expected.
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(bytes);
  });
}

/** A deterministic, non-repeating byte source: `size` bytes in chunks of at most `chunkSize`. */
export async function* generatedBytes(
  size: number,
  seed = 1,
  chunkSize = 1024 * 1024,
): AsyncGenerator<Buffer> {
  // xorshift32: fast, deterministic for a seed, and without a short period.
  let state = (seed * 2654435761) >>> 0 || 1;
  let sent = 0;
  while (sent < size) {
    const length = Math.min(chunkSize, size - sent);
    const words = new Uint32Array(Math.ceil(length / 4));
    for (let i = 0; i < words.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      words[i] = state;
    }
    sent += length;
    yield Buffer.from(words.buffer, 0, length);
  }
}

/** SHA-256 (hex) and length of a byte source, consumed as it streams. */
export async function hashOf(
  source: AsyncIterable<Buffer>,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of source) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Passes `source` through while hashing it; `result()` is valid once it has been consumed. */
export function hashing(source: AsyncIterable<Buffer>) {
  const hash = createHash('sha256');
  let size = 0;
  let digest: string | null = null;
  async function* pass(): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
    digest = hash.digest('hex');
  }
  return {
    stream: pass(),
    result: () => {
      if (digest === null) throw new Error('the source was not consumed to its end');
      return { sha256: digest, size };
    },
  };
}

export interface StreamedDownload {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly sha256: string;
  readonly size: number;
}

/** GETs `path` and hashes the body as it arrives, never holding it whole. */
export function downloadHash(
  baseUrl: string,
  path: string,
  key: string,
  headers: Record<string, string> = {},
): Promise<StreamedDownload> {
  const url = new URL(baseUrl);
  return new Promise<StreamedDownload>((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: 'GET',
        path,
        headers: { ...headers, authorization: `Bearer ${key}` },
        agent: false,
      },
      (response) => {
        hashOf(response).then(
          ({ sha256, size }) =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, sha256, size }),
          reject,
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Bytes as an AsyncIterable of chunks, for `rawRequest({ stream })`. */
export function chunksOf(data: Buffer, chunkSize: number): AsyncIterable<Buffer> {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    parts.push(data.subarray(offset, offset + chunkSize));
  }
  return Readable.from(parts);
}

/** Runs `task` over `items` with at most `concurrency` in flight; results keep the input order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** Every file under `dir` (recursively), as paths relative to it; [] when it does not exist. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

/** For the tests that still import it by this name (test/unit/services); new code imports hash.ts. */

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Keeps the current turn of the event loop busy for `ms`: nothing else runs meanwhile. */
export function blockLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // Busy on purpose (the latency limit's tests, SPEC §15).
  }
}

/** An error answer with the ids that differ on every request removed, for comparing answers. */
export function withoutIds(body: any): any {
  if (!body?.error) return body;
  const { requestId: _requestId, decision, ...error } = body.error;
  if (!decision) return { error };
  const { id: _id, ...rest } = decision;
  return { error: { ...error, decision: rest } };
}

/**
 * PUTs a streamed body with `fetch` (undici, keep-alive, `duplex: 'half'`) — the way an ordinary
 * client uploads without Content-Length. The upload stops once the answer has arrived.
 */
export async function fetchUpload(
  baseUrl: string,
  path: string,
  key: string,
  headers: Record<string, string>,
  source: AsyncIterable<Buffer>,
): Promise<{ status: number; headers: Headers; json: any }> {
  let answered = false;
  async function* untilAnswered(): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      if (answered) return;
      yield chunk;
    }
  }
  const response = await fetch(baseUrl + path, {
    method: 'PUT',
    headers: { ...headers, authorization: `Bearer ${key}` },
    body: Readable.toWeb(Readable.from(untilAnswered())) as ReadableStream<Uint8Array>,
    duplex: 'half',
  } as RequestInit);
  answered = true;
  const text = await response.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, json };
}

/**
 * Starts an upload of `path` that sends its headers and one byte of a declared 1 MiB, then
 * nothing (a stalled client); `answered` resolves with what the server sent once it answered or
 * closed the connection, `close` drops the connection.
 */
export function stalledUpload(url: string, key: string, path: string) {
  const { hostname, port } = new URL(url);
  let text = '';
  let socket: Socket;
  const answered = new Promise<string>((resolve) => {
    socket = connect(Number(port), hostname, () => {
      socket.write(
        `PUT ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\n` +
          'content-type: application/octet-stream\r\ncontent-length: 1048576\r\n\r\nx',
      );
    });
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (/\r\n\r\n\{[^]*\}$/.test(text)) resolve(text);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
  });
  return { answered, close: () => socket.destroy() };
}
