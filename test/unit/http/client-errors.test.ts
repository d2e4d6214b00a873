/**
 * Errors a client can cause (SPEC §3): a 4xx in the error envelope, never a 500 or Fastify's own
 * body, and no error-level log line (issue 16, items 2 and 4).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange } from '../../helpers/http.js';
import { envelope, startInProcess, type InProcessServer } from '../../helpers/in-process.js';

/** Status and parsed JSON body of a raw HTTP/1.1 answer. */
function parseAnswer(raw: string): { status: number; json: unknown } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  return { status, json: body === '' ? null : (JSON.parse(body) as unknown) };
}

describe('errors a client can cause', () => {
  let server: InProcessServer;

  beforeAll(async () => {
    server = await startInProcess();
  });
  afterAll(async () => server?.dispose());

  describe('path parameters over the length limit (item 2)', () => {
    const long = 'a'.repeat(3000);
    it.each([
      ['DELETE', '/v1/keys/{long}', `/v1/keys/${long}`],
      ['POST', '/v1/keys/{long}/reinstate', `/v1/keys/${long}/reinstate`],
      ['GET', '/v1/artifacts/{long}', `/v1/artifacts/${long}`],
      ['GET', '/v1/artifacts/ai_avatar/{long}/name', `/v1/artifacts/ai_avatar/${long}/name`],
      ['DELETE', '/v1/integrations/{long}', `/v1/integrations/${long}`],
      ['GET', '/v1/audit/entries/{long}', `/v1/audit/entries/${long}`],
      ['GET', '/v1/governance/policy/versions/{long}', `/v1/governance/policy/versions/${long}`],
    ])('%s %s answers 414 in the envelope, logged below error', async (method, _label, url) => {
      const before = server.errorMessages().length;
      const answer = await server.running.app.inject({ method: method as 'GET', url });
      expect(answer.statusCode).toBe(414);
      expect(answer.json()).toEqual(envelope('uri_too_long'));
      // The answer does not echo the whole path back.
      expect(answer.body.length).toBeLessThan(1000);
      expect(server.errorMessages().length).toBe(before);
    });
  });

  describe('framing errors (item 4)', () => {
    it.each([
      [
        'a bad chunk size',
        'POST /v1/keys HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
        400,
        'invalid_request',
      ],
      [
        'Content-Length with Transfer-Encoding',
        'POST /v1/keys HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        400,
        'invalid_request',
      ],
      ['a NUL in the path', 'GET /v1/ke\0ys HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'invalid_request'],
      [
        'headers over 16 KB',
        `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        431,
        'headers_too_large',
      ],
    ])('%s: %i in the envelope', async (_what, request, status, code) => {
      const answer = parseAnswer(await rawExchange(server.url, request));
      expect(answer.status).toBe(status);
      expect(answer.json).toEqual(envelope(code));
    });
  });
});
