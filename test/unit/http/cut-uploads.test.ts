/**
 * Uploads whose client goes away mid-body (issue 16, item 7): nothing of them stays behind — no
 * temporary file in the blob store, no file handle left to the garbage collector — and a client
 * that hangs up is not the Bucket failing, so it is never logged at error level.
 */
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, type InProcessServer } from '../../helpers/in-process.js';
import { createKey } from '../../helpers/server.js';

/** Bytes sent before the client hangs up: past the inline maximum, so a blob writer is made. */
const SENT = 70 * 1024;
const UPLOADS = 60;

/**
 * Starts a 1 MiB upload, sends its first SENT bytes, and destroys the connection once they are
 * written (or at once when `early`: as the server may still be deciding on the headers).
 */
function cutUpload(url: string, key: string, name: string, early: boolean): Promise<void> {
  return cutRequest(
    url,
    `PUT /v1/artifacts/ai_avatar/model_checkpoint/${name} HTTP/1.1\r\n` +
      `authorization: Bearer ${key}\r\n` +
      'content-type: application/octet-stream\r\ncontent-length: 1048576\r\n\r\n',
    early ? null : Buffer.alloc(SENT, 7),
  );
}

/** Sends `head`, then `body` if any, and destroys the connection once they are written. */
function cutRequest(url: string, head: string, body: Buffer | null): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(head.replace('\r\n', `\r\nhost: ${hostname}\r\n`));
      if (body === null) socket.destroy();
      else socket.write(body, () => socket.destroy());
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

describe('uploads cut off by the client', () => {
  let server: InProcessServer;
  let key: string;
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);

  beforeAll(async () => {
    server = await startInProcess();
    key = (await createKey(server.asTestServer(), { kind: 'product', product: 'ai_avatar' })).key;
    process.on('warning', onWarning);
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    await server?.dispose();
  });

  const temporaries = () => readdir(join(server.dataDir, 'blobs', 'tmp'));
  const inFlight = () => server.running.bucket.limiter.writesInFlight();

  const put = (name: string) =>
    server.running.app.inject({
      method: 'PUT',
      url: `/v1/artifacts/ai_avatar/model_checkpoint/${name}`,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(SENT, 1),
    });

  it('leave no temporary file and no open handle behind, and log below error', async () => {
    await Promise.all([
      ...Array.from({ length: UPLOADS }, (_, i) =>
        cutUpload(server.url, key, `cut-${i}.bin`, i % 4 === 0),
      ),
      // A JSON body that Fastify parses itself, cut off as well.
      ...Array.from({ length: 10 }, () =>
        cutRequest(
          server.url,
          `POST /v1/keys HTTP/1.1\r\nauthorization: Bearer ${server.ownerKey}\r\n` +
            'content-type: application/json\r\ncontent-length: 1000\r\n\r\n',
          Buffer.from('{"name":"cut'),
        ),
      ),
    ]);
    // Every cut upload the server took up has given its write slot back…
    await expect.poll(inFlight, { timeout: 30_000, interval: 50 }).toBe(0);
    // …and whole uploads after them (each opening a writer of its own) are stored: any file
    // opened for a cut one was opened before theirs.
    for (let i = 0; i < 5; i++) expect((await put(`whole-${i}.bin`)).statusCode).toBe(201);
    expect(await temporaries()).toEqual([]);
    // A handle left open shows only when it is collected: collect now, where the test may.
    global.gc?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.map((warning) => warning.message)).toEqual([]);
    expect(server.errorMessages()).toEqual([]);
    expect(server.logs().some((line) => line.msg === 'client closed the connection')).toBe(true);
  });
});
