/**
 * Reads (SPEC §3): Range requests answered with 206 (RFC 9110 §14), 416 for a range past the end,
 * If-Range → 206 only while the validator still matches (else 200 with the whole content), HEAD with
 * the same headers as GET, and If-None-Match → 304 — for inline and file-stored content.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedBytes } from '../helpers/http.js';
import { sha256 } from '../helpers/hash.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

async function bytesOf(size: number, seed: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of generatedBytes(size, seed)) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('reading artifacts', () => {
  let server: TestServer;
  let api: ReturnType<typeof client>;
  const contents: Record<string, Buffer> = {};

  beforeAll(async () => {
    server = await startTestServer();
    const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    api = client(server.url, key);
    // One small enough to be kept inline, one large enough for the file store.
    contents['inline'] = await bytesOf(1000, 3);
    contents['file'] = await bytesOf(200 * 1024, 4);
    for (const [storage, body] of Object.entries(contents)) {
      const put = await api('PUT', `/v1/artifacts/ai_avatar/model_checkpoint/range/${storage}`, {
        body,
        headers: {
          'content-type': 'application/x-ckpt',
          'x-bucket-meta-author': 'ada',
          'x-bucket-meta-run-id': '42',
        },
      });
      expect(put.status).toBe(201);
    }
  });
  afterAll(async () => server?.dispose());

  describe.each(['inline', 'file'])('%s content', (storage) => {
    const path = `/v1/artifacts/ai_avatar/model_checkpoint/range/${storage}`;
    const body = () => contents[storage] as Buffer;

    it.each([
      ['bytes=0-99', 0, 99],
      ['bytes=10-10', 10, 10],
      ['bytes=100-', 100, -1],
      ['bytes=-50', -50, -1],
    ])('answers %s with 206 and exactly those bytes', async (range, first, last) => {
      const size = body().length;
      const start = first < 0 ? size + first : first;
      const end = last < 0 ? size - 1 : last;
      const get = await api('GET', path, { headers: { range } });
      expect(get.status).toBe(206);
      expect(get.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
      expect(get.headers.get('content-length')).toBe(String(end - start + 1));
      expect(get.bytes.equals(body().subarray(start, end + 1))).toBe(true);
    });

    it('clamps a range that runs past the end to the last byte', async () => {
      const size = body().length;
      const get = await api('GET', path, {
        headers: { range: `bytes=${size - 10}-${size + 500}` },
      });
      expect(get.status).toBe(206);
      expect(get.headers.get('content-range')).toBe(`bytes ${size - 10}-${size - 1}/${size}`);
      expect(get.bytes.equals(body().subarray(size - 10))).toBe(true);
    });

    it.each(['start at the size', 'start past the size'])(
      'answers 416 with Content-Range bytes */size for a range that must %s',
      async (label) => {
        const size = body().length;
        const start = label === 'start at the size' ? size : size + 100;
        const get = await api('GET', path, { headers: { range: `bytes=${start}-` } });
        expect(get.status).toBe(416);
        expect(get.headers.get('content-range')).toBe(`bytes */${size}`);
        expect(get.json.error.code).toBe('invalid_range');
      },
    );

    describe('If-Range (RFC 9110 §13.1.5)', () => {
      const range = 'bytes=100-';
      const expectPart = (get: Awaited<ReturnType<typeof api>>) => {
        expect(get.status).toBe(206);
        expect(get.headers.get('content-range')).toBe(
          `bytes 100-${body().length - 1}/${body().length}`,
        );
        expect(get.bytes.equals(body().subarray(100))).toBe(true);
      };
      const expectWhole = (get: Awaited<ReturnType<typeof api>>) => {
        expect(get.status).toBe(200);
        expect(get.headers.get('content-range')).toBeNull();
        expect(get.headers.get('content-length')).toBe(String(body().length));
        expect(get.bytes.equals(body())).toBe(true);
      };

      it('answers the range with 206 while the ETag still matches', async () => {
        const ifRange = `"${sha256(body())}"`;
        expectPart(await api('GET', path, { headers: { range, 'if-range': ifRange } }));
      });

      it.each([
        ['another ETag', `"${'0'.repeat(64)}"`],
        ['the weak form of the ETag', 'W/"<sha>"'],
        ['the ETag without its quotes', '<sha>'],
      ])('answers with 200 and the whole content for %s', async (_label, tag) => {
        const ifRange = tag.replace('<sha>', sha256(body()));
        expectWhole(await api('GET', path, { headers: { range, 'if-range': ifRange } }));
      });

      it('answers the range with 206 for a date equal to Last-Modified, else 200', async () => {
        const lastModified = (await api('HEAD', path)).headers.get('last-modified') ?? '';
        expect(lastModified).not.toBe('');
        expectPart(await api('GET', path, { headers: { range, 'if-range': lastModified } }));

        const earlier = new Date(Date.parse(lastModified) - 1000).toUTCString();
        expectWhole(await api('GET', path, { headers: { range, 'if-range': earlier } }));
      });

      it('sends the whole content, not 416, for a range past the end of other content', async () => {
        const get = await api('GET', path, {
          headers: { range: `bytes=${body().length}-`, 'if-range': `"${'1'.repeat(64)}"` },
        });
        expectWhole(get);
      });
    });

    it('answers HEAD with the headers of GET and no body', async () => {
      const head = await api('HEAD', path);
      expect(head.status).toBe(200);
      expect(head.bytes.length).toBe(0);
      const sha = sha256(body());
      expect(head.headers.get('etag')).toBe(`"${sha}"`);
      expect(head.headers.get('x-bucket-sha256')).toBe(sha);
      expect(head.headers.get('x-bucket-version')).toBe('1');
      expect(head.headers.get('content-length')).toBe(String(body().length));
      expect(head.headers.get('content-type')).toBe('application/x-ckpt');
      expect(head.headers.get('x-bucket-meta-author')).toBe('ada');
      expect(head.headers.get('x-bucket-meta-run-id')).toBe('42');

      const get = await api('GET', path);
      for (const header of ['etag', 'x-bucket-version', 'x-bucket-sha256', 'content-length']) {
        expect(get.headers.get(header)).toBe(head.headers.get(header));
      }
      expect(get.headers.get('x-bucket-meta-author')).toBe('ada');
    });

    it('answers If-None-Match with the current ETag with 304 and no body', async () => {
      const etag = `"${sha256(body())}"`;
      const cached = await api('GET', path, { headers: { 'if-none-match': etag } });
      expect(cached.status).toBe(304);
      expect(cached.bytes.length).toBe(0);
      expect(cached.headers.get('etag')).toBe(etag);

      const stale = await api('GET', path, { headers: { 'if-none-match': `"${'0'.repeat(64)}"` } });
      expect(stale.status).toBe(200);
      expect(stale.bytes.equals(body())).toBe(true);
    });
  });

  it('answers HEAD of a missing artifact with 404', async () => {
    const head = await api('HEAD', '/v1/artifacts/ai_avatar/model_checkpoint/range/missing');
    expect(head.status).toBe(404);
  });
});
