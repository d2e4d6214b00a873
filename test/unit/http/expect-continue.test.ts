/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1; issue 16, item 5): a request its headers refuse gets
 * its final status without `100 Continue`, so the client never starts sending the body; one the
 * headers allow is told to continue, then stored.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, type InProcessServer } from '../../helpers/in-process.js';
import { createKey } from '../../helpers/server.js';

/** A raw HTTP/1.1 connection and everything the server wrote to it. */
class Connection {
  private text = '';
  private readonly socket: Socket;
  private waiters: (() => void)[] = [];

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.socket = connect(Number(port), hostname);
    this.socket.on('data', (chunk: Buffer) => {
      this.text += chunk.toString('latin1');
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.socket.on('error', () => undefined);
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Resolves with everything received once `pattern` matches it. */
  async until(pattern: RegExp): Promise<string> {
    while (!pattern.test(this.text)) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.text;
  }

  /** Everything received once a final (non-1xx) answer with its JSON body has arrived. */
  finalAnswer(): Promise<string> {
    return this.until(/HTTP\/1\.1 [2-5]\d\d [^]*?\r\n\r\n\{[^]*\}$/);
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('Expect: 100-continue', () => {
  let server: InProcessServer;
  let key: string;

  beforeAll(async () => {
    server = await startInProcess();
    key = (await createKey(server.asTestServer(), { kind: 'product', product: 'ai_avatar' })).key;
  });
  afterAll(async () => server?.dispose());

  /** A PUT's head; `{key}` and `{owner}` stand for keys made once the server runs. */
  const putHead = (name: string, length: number, authorization = 'Bearer {key}') =>
    `PUT /v1/artifacts/ai_avatar/model_checkpoint/${name} HTTP/1.1\r\nhost: x\r\n` +
    `authorization: ${authorization}\r\ncontent-type: application/octet-stream\r\n` +
    `content-length: ${length}\r\nexpect: 100-continue\r\n\r\n`;

  it.each([
    ['a declared 600 MB upload', putHead('huge.bin', 600 * 1024 * 1024), 413],
    ['an upload without a valid key', putHead('nokey.bin', 10, 'Bearer bkt_nope'), 401],
    [
      'an upload the gate denies (a class the product may not write)',
      putHead('x.bin', 10).replace('model_checkpoint', 'access_control'),
      403,
    ],
    [
      'a JSON body over the route limit',
      'POST /v1/keys HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n' +
        `authorization: Bearer ${'{owner}'}\r\ncontent-length: 2000000\r\n` +
        'expect: 100-continue\r\n\r\n',
      413,
    ],
  ])('answers %s with its final status and no 100', async (_what, head, status) => {
    const connection = new Connection(server.url);
    connection.send(head.replace('{owner}', server.ownerKey).replace('{key}', key));
    const answer = await connection.finalAnswer();
    connection.close();
    expect(answer).not.toMatch(/100 Continue/);
    expect(answer.slice(0, 400)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(answer.toLowerCase()).toContain('connection: close');
  });

  it('tells an allowed upload to continue, then stores it', async () => {
    const connection = new Connection(server.url);
    connection.send(putHead('fine.bin', 5).replace('{key}', key));
    expect(await connection.until(/\r\n\r\n/)).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    connection.send('hello');
    expect(await connection.until(/"sha256"/)).toMatch(/HTTP\/1\.1 201 /);
    connection.close();
  });

  it('tells a JSON request within its limit to continue', async () => {
    const body = JSON.stringify({ name: 'continued', kind: 'auditor' });
    const connection = new Connection(server.url);
    connection.send(
      'POST /v1/keys HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n' +
        `authorization: Bearer ${server.ownerKey}\r\ncontent-length: ${body.length}\r\n` +
        'expect: 100-continue\r\n\r\n',
    );
    expect(await connection.until(/\r\n\r\n/)).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    connection.send(body);
    expect(await connection.until(/"key"/)).toMatch(/HTTP\/1\.1 201 /);
    connection.close();
  });
});
