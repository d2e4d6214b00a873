/**
 * Issue 2, "Durability": a write interrupted mid-stream (client disconnect, oversize, server killed)
 * leaves no visible version, and no orphan temp file in `<dataDir>/blobs/tmp`.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contentStored,
  chunkedUpload,
  eventually,
  headersOnlyUpload,
  receiving,
  startUpload,
  temporariesOf,
} from '../helpers/durability.js';
import { sha256 } from '../helpers/hash.js';
import { client, createKey } from '../helpers/server.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';

const MB = 1024 * 1024;

/** The artifact has no version at all, and the product listing does not show it. */
async function expectNothingStored(
  server: ServerProcess,
  key: string,
  product: string,
  path: string,
) {
  const api = client(server.url, key);
  const versions = await api('GET', `/v1/artifacts/${path}/versions`);
  expect(versions.status, `${path}/versions`).toBe(404);
  const read = await api('GET', `/v1/artifacts/${path}`);
  expect(read.status, path).toBe(404);
  const listing = await api('GET', `/v1/artifacts/${product}?limit=1000`);
  expect(listing.status).toBe(200);
  const name = path.split('/').slice(2).join('/');
  expect(listing.json.items.map((item: { name: string }) => item.name)).not.toContain(name);
  // The audit log holds nothing about the write, or its failure — never a success (SPEC §6).
  const audit = await client(server.url, server.ownerKey)(
    'GET',
    `/v1/audit/entries?artifact=${encodeURIComponent(path)}&limit=1000`,
  );
  expect(audit.status).toBe(200);
  for (const { entry } of audit.json.entries) {
    expect(entry.allow === true && entry.operation !== 'READ', JSON.stringify(entry)).toBe(false);
    expect(entry.version, JSON.stringify(entry)).toBeUndefined();
  }
}

/** Eventually no write holds a slot (`concurrent_writes` of the scale status at 0). */
async function noWritesInFlight(server: ServerProcess): Promise<boolean> {
  const owner = client(server.url, server.ownerKey);
  return eventually(async () => {
    const status = await owner('GET', '/v1/metrics/scale-status');
    const limit = status.json.limits.find(
      (l: { name: string; current: number }) => l.name === 'concurrent_writes',
    );
    return limit.current === 0;
  });
}

async function expectNoTemporaries(server: ServerProcess) {
  const empty = await eventually(async () => (await temporariesOf(server)).length === 0);
  expect(empty ? [] : await temporariesOf(server), 'temporaries left').toEqual([]);
}

/** The server still accepts and returns a write. */
async function expectServing(server: ServerProcess, key: string, path: string) {
  const api = client(server.url, key);
  const body = randomBytes(200_000);
  const put = await api('PUT', `/v1/artifacts/${path}`, {
    body,
    headers: { 'content-type': 'application/octet-stream' },
  });
  expect(put.status, path).toBe(201);
  const read = await api('GET', `/v1/artifacts/${path}`);
  expect(sha256(read.bytes)).toBe(sha256(body));
}

describe('an interrupted upload leaves nothing', () => {
  let server: ServerProcess;
  let avatarKey: string;
  let gurukulKey: string;
  let assistantKey: string;

  beforeAll(async () => {
    server = await startServerProcess();
    avatarKey = (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key;
    gurukulKey = (await createKey(server, { kind: 'product', product: 'gurukul' })).key;
    assistantKey = (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key;
  });
  afterAll(async () => server?.dispose());

  it('clients that send a whole write and leave at once hold no write slot afterwards', async () => {
    // Each request is complete, but its connection is gone before the service reads the body:
    // while it waits for the rate, the write slot or the target lookup (network round trips on
    // the scale-out backends). Its handler must still finish and give the slot back.
    const sent = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        putAndLeave(
          server.url,
          avatarKey,
          `/v1/artifacts/ai_avatar/model_checkpoint/interrupted/left-${i}.bin`,
          randomBytes(1024),
        ),
      ),
    );
    expect(sent).toHaveLength(60);
    expect(await noWritesInFlight(server)).toBe(true);
    await expectNoTemporaries(server);
    await expectServing(server, avatarKey, 'ai_avatar/model_checkpoint/interrupted/after-left.bin');
  });

  it('a client that disconnects after 5 MB of a declared 50 MB', async () => {
    const path = 'ai_avatar/model_checkpoint/interrupted/disconnect.ckpt';
    const upload = await startUpload(server.url, avatarKey, `/v1/artifacts/${path}`, {
      declared: 50 * MB,
      sent: 5 * MB,
    });
    // The server is receiving into a temporary when the client goes away.
    expect(await receiving(server)).toBe(true);
    await upload.abandon();
    await expectNoTemporaries(server);
    await expectNothingStored(server, avatarKey, 'ai_avatar', path);
    await expectServing(server, avatarKey, 'ai_avatar/model_checkpoint/interrupted/after.ckpt');
  });

  it('a client that disconnects just past the inline threshold', async () => {
    const path = 'ai_avatar/model_checkpoint/interrupted/early.ckpt';
    const upload = await startUpload(server.url, avatarKey, `/v1/artifacts/${path}`, {
      declared: 2 * MB,
      sent: 128 * 1024,
      chunk: 16 * 1024,
    });
    expect(await receiving(server)).toBe(true);
    await upload.abandon();
    await expectNoTemporaries(server);
    await expectNothingStored(server, avatarKey, 'ai_avatar', path);
  });

  it('a client that disconnects mid-way through a JSON body', async () => {
    const path = 'ai_avatar/iteration_history/interrupted/half.json';
    const upload = await startUpload(server.url, avatarKey, `/v1/artifacts/${path}`, {
      declared: 4 * MB,
      sent: 1 * MB,
      contentType: 'application/json',
    });
    await upload.abandon();
    // Give the server time to see the disconnect: a partial body must never become a version.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expectNoTemporaries(server);
    await expectNothingStored(server, avatarKey, 'ai_avatar', path);
  });

  it('a whole body refused after it arrived (x-bucket-sha256 mismatch) leaves no file', async () => {
    const path = 'ai_avatar/model_checkpoint/interrupted/mismatch.ckpt';
    const body = randomBytes(2 * MB);
    const answer = await client(server.url, avatarKey)('PUT', `/v1/artifacts/${path}`, {
      body,
      headers: { 'content-type': 'application/octet-stream', 'x-bucket-sha256': 'ab'.repeat(32) },
    });
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('sha256_mismatch');
    await expectNoTemporaries(server);
    expect(await contentStored(server, sha256(body))).toBe(false);
    await expectNothingStored(server, avatarKey, 'ai_avatar', path);
  });

  it('a chunked upload over the class limit: 413 without waiting for the end, nothing stored', async () => {
    const path = 'gurukul/educational_content/interrupted/too-large.txt';
    // educational_content admits 100 MiB; the upload declares no length, passes the limit and
    // never ends its body: the answer must come from the limit, not from the end of the stream.
    const answer = await chunkedUpload(server.url, gurukulKey, `/v1/artifacts/${path}`, {
      total: 100 * MB + 64 * 1024,
      contentType: 'text/plain',
    });
    expect(answer.status).toBe(413);
    expect(answer.json?.error?.code).toBe('payload_too_large');
    expect(answer.json?.error?.decision?.threats?.map((t: { id: string }) => t.id)).toContain('T5');
    await expectNoTemporaries(server);
    await expectNothingStored(server, gurukulKey, 'gurukul', path);
    await expectServing(server, avatarKey, 'ai_avatar/model_checkpoint/interrupted/after-413');
  });

  it('a chunked JSON upload over its class limit: 413, nothing stored', async () => {
    const path = 'ai_assistant/metadata/interrupted/too-large.json';
    const answer = await chunkedUpload(server.url, assistantKey, `/v1/artifacts/${path}`, {
      // One write: nothing is still being sent when the server answers and closes.
      total: 48 * 1024,
      contentType: 'application/json',
      chunk: 48 * 1024,
    });
    expect(answer.status).toBe(413);
    expect(answer.json?.error?.code).toBe('payload_too_large');
    await expectNothingStored(server, assistantKey, 'ai_assistant', path);
  });

  it('a client sending an over-limit body whole (fetch) receives the 413, not a broken pipe', async () => {
    // RFC 9112 §9.6: a server that answers before reading the whole request must not close the
    // connection under the client's feet (lingering close), or the client never sees the answer.
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const path = `ai_assistant/metadata/interrupted/whole-${i}.json`;
      try {
        const answer = await fetch(`${server.url}/v1/artifacts/${path}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${assistantKey}`, 'content-type': 'application/json' },
          body: Buffer.alloc(8 * MB, 0x20),
        });
        outcomes.push(String(answer.status));
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause;
        outcomes.push(cause?.code ?? (error as Error).message);
      }
    }
    expect(
      outcomes.filter((outcome) => outcome !== '413'),
      `answers: ${outcomes.join(' ')}`,
    ).toEqual([]);
  });

  it('a declared Content-Length over the class limit: 413 before any body byte is sent', async () => {
    const path = 'gurukul/educational_content/interrupted/declared.txt';
    const answer = await headersOnlyUpload(server.url, gurukulKey, `/v1/artifacts/${path}`, {
      declared: 100 * MB + 1,
      contentType: 'text/plain',
    });
    expect(answer.status).toBe(413);
    expect(answer.json?.error?.code).toBe('payload_too_large');
    await expectNoTemporaries(server);
    await expectNothingStored(server, gurukulKey, 'gurukul', path);
  });

  it('many aborted uploads do not leak temporaries or write slots', async () => {
    // More aborted uploads than the 100 concurrent-write slots: a leaked slot per abort would
    // turn every later write into a 429.
    const WAVES = 4;
    const PER_WAVE = 30;
    for (let wave = 0; wave < WAVES; wave++) {
      const uploads = await Promise.all(
        Array.from({ length: PER_WAVE }, (_, i) =>
          startUpload(
            server.url,
            avatarKey,
            `/v1/artifacts/ai_avatar/model_checkpoint/aborted/w${wave}-${i}`,
            { declared: 8 * MB, sent: 512 * 1024 },
          ),
        ),
      );
      // All of them are in flight, each with its temporary, when their clients vanish.
      const inFlight = await receiving(server, PER_WAVE);
      expect(inFlight, `wave ${wave}: ${PER_WAVE} temporaries`).toBe(true);
      await Promise.all(uploads.map((upload) => upload.abandon()));
      // Every abandoned upload gives its slot back; the next wave (with this one, more than the
      // product's share of 50) would otherwise be refused 429 before it opens a temporary.
      expect(await noWritesInFlight(server), `wave ${wave}: slots given back`).toBe(true);
    }
    await expectNoTemporaries(server);
    const listing = await client(server.url, avatarKey)(
      'GET',
      '/v1/artifacts/ai_avatar?prefix=aborted/&limit=1000',
    );
    expect(listing.json.items).toEqual([]);
    const api = client(server.url, avatarKey);
    // As many at once as one product may hold (productWriteShare: half of the 100 slots).
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api('PUT', `/v1/artifacts/ai_avatar/avatar_config/after-aborts/${i}`, {
          body: { i },
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
  });
});

describe('a server killed mid-upload', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('leaves no version and no temporary after the restart', async () => {
    let server = await startServerProcess();
    dirs.push(server.dataDir);
    const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const path = 'ai_avatar/model_checkpoint/killed/mid-upload.ckpt';
    const upload = await startUpload(server.url, key, `/v1/artifacts/${path}`, {
      declared: 50 * MB,
      sent: 5 * MB,
    });
    // The server is receiving: its temporary is on disk.
    expect(await receiving(server)).toBe(true);
    await server.kill('SIGKILL');
    upload.abandon();

    server = await startServerProcess({ dataDir: server.dataDir });
    try {
      expect(await temporariesOf(server)).toEqual([]);
      await expectNothingStored(server, key, 'ai_avatar', path);
      await expectServing(server, key, 'ai_avatar/model_checkpoint/killed/after-restart.ckpt');
    } finally {
      await server.kill('SIGKILL');
    }
  });
});

describe('a completed upload leaves nothing behind either', () => {
  it('one that arrives whole, above the inline size, leaves no temporary', async () => {
    // A small inline size, and headers and body sent in one write: the body is already buffered
    // and ended when the server reads it, and its one chunk moves it to a blob writer.
    const server = await startServerProcess({ env: { BUCKET_INLINE_MAX_BYTES: '1024' } });
    try {
      const key = (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key;
      for (let n = 0; n < 10; n++) {
        const path = `/v1/artifacts/ai_avatar/model_checkpoint/arrived-whole/${n}.ckpt`;
        const body = randomBytes(4096);
        const status = await putInOneWrite(server.url, key, path, body);
        expect(status, path).toBe(201);
        expect(await contentStored(server, sha256(body)), path).toBe(true);
      }
      await expectNoTemporaries(server);
    } finally {
      await server.dispose();
    }
  });
});

/** A whole PUT in one socket write, the connection closed as soon as it is written. */
function putAndLeave(baseUrl: string, key: string, path: string, body: Buffer): Promise<void> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    socket.once('error', reject);
    const head =
      `PUT ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${key}\r\n` +
      `Content-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`;
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]), () => {
      socket.destroy();
      resolve();
    });
  });
}

/** A PUT whose request line, headers and body leave in one socket write; resolves its status. */
function putInOneWrite(baseUrl: string, key: string, path: string, body: Buffer): Promise<number> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(answer);
      if (status && answer.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(Number(status[1]));
      }
    });
    socket.once('error', reject);
    const head =
      `PUT ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${key}\r\n` +
      `Content-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`;
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  });
}
