/**
 * A server that stops (SIGTERM, SIGINT: `RunningServer.close`) finishes the requests in flight,
 * names them while it waits, and answers a request that arrives meanwhile with its door's own
 * 503 — the SPEC §3 envelope on the native API, S3 XML on the S3 door — not Fastify's bare JSON.
 * And every request's log line carries its gate decision, reads included.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, type InProcessServer } from '../../helpers/in-process.js';
import { createKey } from '../../helpers/server.js';

/** A raw connection: what it writes, and everything it has received so far. */
function rawConnection(url: string) {
  const { hostname, port } = new URL(url);
  let text = '';
  const socket: Socket = connect(Number(port), hostname);
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const opened = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return {
    opened,
    write: (data: string) => socket.write(data),
    received: () => text,
    closed,
    destroy: () => socket.destroy(),
  };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const bodyOf = (answer: string) => answer.slice(answer.indexOf('\r\n\r\n') + 4);

describe('a stopping server', () => {
  let server: InProcessServer;
  let key: string;

  beforeAll(async () => {
    server = await startInProcess({ BUCKET_S3_PORT: '0', BUCKET_LOG_LEVEL: 'info' });
    key = (await createKey(server.asTestServer(), { kind: 'product', product: 'ai_avatar' })).key;
  });

  afterAll(async () => {
    await server.dispose();
  });

  it('logs the decision of an allowed read', async () => {
    const path = '/v1/artifacts/ai_avatar/model_checkpoint/logged/read.bin';
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' };
    expect(
      (await fetch(`${server.url}${path}`, { method: 'PUT', headers, body: 'x' })).status,
    ).toBe(201);
    for (const method of ['GET', 'HEAD']) {
      expect((await fetch(`${server.url}${path}`, { method, headers })).status).toBe(200);
    }
    expect((await fetch(`${server.url}${path}/versions`, { headers })).status).toBe(200);
    const lines = server
      .logs()
      .filter((line) => line.msg === 'request' && String(line['path']).startsWith(path));
    expect(lines.map((line) => [line['method'], line['status'], line['decision']])).toEqual([
      ['PUT', 201, 'allow'],
      ['GET', 200, 'allow'],
      ['HEAD', 200, 'allow'],
      ['GET', 200, 'allow'],
    ]);
  });

  it('finishes the upload in flight, names it, and answers newcomers 503 in each door’s form', async () => {
    const path = '/v1/artifacts/ai_avatar/model_checkpoint/stopping/slow.bin';
    const upload = rawConnection(server.url);
    await upload.opened;
    upload.write(
      `PUT ${path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\n` +
        'content-type: application/octet-stream\r\ncontent-length: 10\r\n\r\n12345',
    );
    await until(
      () => server.running.inFlight().some((line) => line.startsWith(`PUT ${path}`)),
      'the upload',
    );
    // Requests begun (headers on their way) before the stop, completed after it started.
    const native = rawConnection(server.url);
    const s3Url = server.running.s3Url;
    if (s3Url === null) throw new Error('no S3 door');
    const s3 = rawConnection(s3Url);
    await Promise.all([native.opened, s3.opened]);
    native.write(`GET /v1/artifacts/ai_avatar?class=model_checkpoint HTTP/1.1\r\nhost: x\r\n`);
    s3.write('GET /ai_avatar?list-type=2 HTTP/1.1\r\nhost: x\r\n');
    // Read by the server (a connection mid-request is not idle: the stop does not close it).
    await new Promise((resolve) => setTimeout(resolve, 300));

    const stopped = server.running.close();
    s3.write('\r\n');
    await s3.closed;
    expect(s3.received()).toMatch(/^HTTP\/1\.1 503 /);
    expect(s3.received()).toMatch(/connection: close/i);
    expect(s3.received()).toMatch(/retry-after: 1/i);
    expect(bodyOf(s3.received())).toMatch(/<Code>ServiceUnavailable<\/Code>/);
    expect(bodyOf(s3.received())).toMatch(/stopping/);

    // The native door stops with the S3 door (it no longer listens once it is stopping).
    await until(() => !server.running.app.server.listening, 'the native door to stop');
    native.write('\r\n');
    await native.closed;
    expect(native.received()).toMatch(/^HTTP\/1\.1 503 /);
    expect(native.received()).toMatch(/retry-after: 1/i);
    const envelope = JSON.parse(bodyOf(native.received())) as { error: { code: string } };
    expect(envelope.error.code).toBe('server_stopping');
    expect(server.running.inFlight()).toEqual([expect.stringMatching(`^PUT ${path} \\(req_`)]);

    upload.write('67890');
    await until(() => /\r\n\r\n\{[^]*\}$/.test(upload.received()), 'the upload answer');
    expect(upload.received()).toMatch(/^HTTP\/1\.1 201 /);
    upload.destroy();
    await stopped;
    expect(server.running.inFlight()).toEqual([]);
  });
});
