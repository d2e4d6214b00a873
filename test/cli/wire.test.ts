/**
 * What the CLI sends and how it treats odd answers, checked against a stand-in HTTP server that
 * records requests and answers whatever the test says.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run.js';
import { sha256 } from '../helpers/hash.js';

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

describe('the CLI on the wire', () => {
  let server: Server;
  let env: { BUCKET_URL: string; BUCKET_KEY: string };
  let dir: string;
  let answer: (response: ServerResponse) => void = () => undefined;
  const requests: Recorded[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        requests.push({
          method: request.method ?? '',
          url: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks),
        });
        answer(response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    env = { BUCKET_URL: `http://127.0.0.1:${address.port}`, BUCKET_KEY: 'bkt_test_key' };
    dir = await mkdtemp(join(tmpdir(), 'bucket-wire-'));
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const writeAnswer = (response: ServerResponse) =>
    response.writeHead(201, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        product: 'ai_avatar',
        class: 'model_checkpoint',
        name: 'x.bin',
        version: 1,
        sha256: 'ab'.repeat(32),
        size: 5,
        contentType: 'application/octet-stream',
      }),
    );

  it('put sends the key, the length, the SHA-256, the content type, metadata and preconditions', async () => {
    answer = writeAnswer;
    requests.length = 0;
    const file = join(dir, 'payload.bin');
    await writeFile(file, 'hello');
    const result = await runCli(
      [
        'put',
        'ai_avatar/model_checkpoint/dir/x.bin',
        file,
        '--meta',
        'source=cli',
        '--if-none-match',
        '--if-version',
        '0',
      ],
      { env },
    );
    expect(result.code).toBe(0);
    const [request] = requests;
    expect(request?.method).toBe('PUT');
    expect(request?.url).toBe('/v1/artifacts/ai_avatar/model_checkpoint/dir/x.bin');
    expect(request?.headers).toMatchObject({
      authorization: 'Bearer bkt_test_key',
      'content-length': '5',
      'content-type': 'application/octet-stream',
      'x-bucket-sha256': sha256('hello'),
      'x-bucket-meta-source': 'cli',
      'if-none-match': '*',
      'x-bucket-if-version': '0',
    });
    expect(request?.body.toString()).toBe('hello');
  });

  it('put from stdin streams chunked, without a hash it cannot know in advance', async () => {
    answer = writeAnswer;
    requests.length = 0;
    const result = await runCli(['put', 'ai_avatar/avatar_config/a.json', '-'], {
      env,
      stdin: '{"a":1}',
    });
    expect(result.code).toBe(0);
    const [request] = requests;
    expect(request?.headers['transfer-encoding']).toBe('chunked');
    expect(request?.headers['x-bucket-sha256']).toBeUndefined();
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.body.toString()).toBe('{"a":1}');
  });

  it('get -o refuses content whose SHA-256 differs from the announced one, leaving no file', async () => {
    answer = (response) =>
      response
        .writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': '5',
          'x-bucket-version': '1',
          'x-bucket-sha256': sha256('other'),
        })
        .end('hello');
    const downloads = await mkdtemp(join(dir, 'get-'));
    const out = join(downloads, 'x.bin');
    const result = await runCli(['get', 'ai_avatar/model_checkpoint/x.bin', '-o', out], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^bucket: integrity check failed: /);
    expect(existsSync(out)).toBe(false);
    expect(await readdir(downloads)).toEqual([]);
  });

  it('reports an answer that is not the Bucket error envelope', async () => {
    answer = (response) =>
      response.writeHead(502, { 'content-type': 'text/plain' }).end('upstream down');
    const result = await runCli(['ls', 'ai_avatar'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('bucket: http_502: Bad Gateway: upstream down');
  });

  it('reports Retry-After on 429', async () => {
    answer = (response) =>
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' }).end(
        JSON.stringify({
          error: { code: 'rate_limited', message: 'Too many requests.', requestId: 'req_1' },
        }),
      );
    const result = await runCli(['versions', 'ai_avatar/model_checkpoint/x.bin'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'bucket: rate_limited: Too many requests. (request req_1)\n  retry after 3 s\n',
    );
  });
});
