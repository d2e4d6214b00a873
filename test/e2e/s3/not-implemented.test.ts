/**
 * What the S3 door does not do answers S3's NotImplemented (501) in S3 XML (SPEC §13, docs/S3.md):
 * sub-resources it lacks, and every HTTP method no S3 operation uses — OPTIONS, PATCH, QUERY,
 * CONNECT… — on the service, a bucket and an object alike, before any authentication or body.
 */
import { request, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Principal, S3_ENV } from '../../helpers/s3-door.js';
import { sendSigned } from '../../helpers/s3-sign.js';
import { startTestServer, type InProcessTestServer } from '../../helpers/server.js';

const codeOf = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly text: string;
}

/** One request as Node's http client sends it (fetch refuses CONNECT and sends a body with QUERY). */
function send(base: string, method: string, path: string) {
  const url = new URL(base);
  return new Promise<Answer>((resolve, reject) => {
    const collect = (answer: IncomingMessage, body: Readable, first = '') => {
      let text = first;
      body.setEncoding('utf8');
      body.on('data', (piece: string) => (text += piece));
      body.on('end', () =>
        resolve({
          status: answer.statusCode ?? 0,
          type: answer.headers['content-type'] ?? '',
          text,
        }),
      );
    };
    const outgoing = request({ host: url.hostname, port: url.port, method, path }, (answer) =>
      collect(answer, answer),
    );
    // A CONNECT's answer comes as the 'connect' event: the body's first bytes, then the socket.
    outgoing.on('connect', (answer, socket, head: Buffer) =>
      collect(answer, socket, head.toString('utf8')),
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('S3 door: NotImplemented', () => {
  let server: InProcessTestServer;
  let base: string;

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    base = server.s3Url ?? '';
  });
  afterAll(async () => server?.dispose());

  it('answers a sub-resource the door lacks with NotImplemented', async () => {
    const avatar = await s3Principal(server, 'product', 'ai_avatar');
    const acl = await sendSigned(base, avatar.credential, {
      method: 'GET',
      path: '/ai_avatar',
      query: { acl: '' },
    });
    expect(acl.status).toBe(501);
    expect(codeOf(acl.text)).toBe('NotImplemented');
  });

  it.each(['OPTIONS', 'PATCH', 'QUERY', 'PROPFIND', 'TRACE', 'CONNECT'])(
    'answers %s with NotImplemented on the service, a bucket and an object',
    async (method) => {
      for (const path of ['/', '/ai_avatar', '/ai_avatar/model_checkpoint/a.ckpt']) {
        const answer = await send(base, method, path);
        expect([method, path, answer.status]).toEqual([method, path, 501]);
        expect(answer.type).toMatch(/^application\/xml/);
        expect(codeOf(answer.text)).toBe('NotImplemented');
      }
    },
  );
});
