/**
 * Requests the S3 door refuses before any operation sees them (SPEC §13) — headers over Node's
 * limit, a URL that does not decode, an `Expect` other than 100-continue — answer in S3's XML
 * with an `x-amz-request-id`, as every other refusal does, not in the native door's JSON or in
 * Node's bare answers (found by test/e2e/s3/fuzz.property.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange } from '../../helpers/http.js';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import { brokenPromise } from '../../helpers/s3-fuzz.js';
import { sendSigned } from '../../helpers/s3-sign.js';
import { startTestServer, type InProcessTestServer } from '../../helpers/server.js';

/** Status, headers (lower-cased) and body of a raw HTTP/1.1 answer. */
function parsed(raw: string) {
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf(':');
    headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
  }
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0),
    headers,
    text: raw.slice(end + 4),
  };
}

const codeOf = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

describe('requests the S3 door refuses before its operations', () => {
  let server: InProcessTestServer;
  let avatar: S3Principal;
  let hostPort: string;

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    avatar = await s3Principal(server, 'product', 'ai_avatar');
    hostPort = new URL(server.s3Url ?? '').host;
  });
  afterAll(async () => server?.dispose());

  const request = (method: string, path: string, extra = '') =>
    `${method} ${path} HTTP/1.1\r\nhost: ${hostPort}\r\n${extra}content-length: 0\r\n\r\n`;

  it('answers headers over the limit with RequestHeaderSectionTooLarge in XML', async () => {
    const huge = `x-amz-meta-big: ${'9'.repeat(20_000)}\r\n`;
    const answer = parsed(
      await rawExchange(server.s3Url ?? '', request('GET', '/ai_avatar', huge)),
    );
    expect(answer.status).toBe(400);
    expect(codeOf(answer.text)).toBe('RequestHeaderSectionTooLarge');
    expect(brokenPromise(answer, 'GET')).toBeNull();
    // A HEAD gets the same status and no body: one would read as the start of another answer.
    const head = await rawExchange(server.s3Url ?? '', request('HEAD', '/ai_avatar', huge));
    expect(parsed(head).status).toBe(400);
    expect(parsed(head).text).toBe('');
  });

  it('answers a path that does not decode with InvalidURI, naming the request', async () => {
    const answer = await sendSigned(server.s3Url ?? '', avatar.credential, {
      method: 'GET',
      path: '/ai_avatar/model_checkpoint/%C0%AF',
    });
    expect(answer.status).toBe(400);
    expect(codeOf(answer.text)).toBe('InvalidURI');
    expect(answer.text).toContain('<Resource>/ai_avatar/model_checkpoint/%C0%AF</Resource>');
    const headers = Object.fromEntries(answer.headers.entries());
    expect(brokenPromise({ ...answer, headers }, 'GET')).toBeNull();
  });

  it('answers an Expect other than 100-continue with ExpectationFailed in XML', async () => {
    const answer = parsed(
      await rawExchange(
        server.s3Url ?? '',
        request('PUT', '/ai_avatar/model_checkpoint/x', 'expect: 2147483648\r\n'),
      ),
    );
    expect(answer.status).toBe(417);
    expect(codeOf(answer.text)).toBe('ExpectationFailed');
    expect(brokenPromise(answer, 'PUT')).toBeNull();
  });
});
