/**
 * Values that reached the S3 door's operations and broke its promise (SPEC §13), found by
 * test/e2e/s3/fuzz.property.test.ts: version numbers past the stores' 32-bit integers (a 500 from
 * PostgreSQL), a copy source's `versionId=1.5` read as version 1, a NUL decoded from the path or
 * a parameter echoed raw into an answer no XML parser accepts, ListParts paging parameters that
 * are not numbers, and a GetObject of part 2 answered with the whole object.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import { brokenPromise } from '../../helpers/s3-fuzz.js';
import { sendSigned } from '../../helpers/s3-sign.js';
import { client, startTestServer, type InProcessTestServer } from '../../helpers/server.js';

const KEY = 'model_checkpoint/hostile/kept.ckpt';
const codeOf = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

describe('hostile values at the S3 door', () => {
  let server: InProcessTestServer;
  let avatar: S3Principal;

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    avatar = await s3Principal(server, 'product', 'ai_avatar');
    const put = await send({ method: 'PUT', path: `/ai_avatar/${KEY}`, body: Buffer.from('v1') });
    expect(put.status, put.text).toBe(200);
  });
  afterAll(async () => server?.dispose());

  async function send(request: Parameters<typeof sendSigned>[2]) {
    const answer = await sendSigned(server.s3Url ?? '', avatar.credential, request);
    const headers = Object.fromEntries(answer.headers.entries());
    expect(brokenPromise({ ...answer, headers }, request.method)).toBeNull();
    return answer;
  }

  it('answers a version number past 2^31 as no such version, on every backend', async () => {
    const read = await send({
      method: 'GET',
      path: `/ai_avatar/${KEY}`,
      query: { versionId: '2147483648' },
    });
    expect([read.status, codeOf(read.text)]).toEqual([404, 'NoSuchVersion']);
    const listed = await send({
      method: 'GET',
      path: '/ai_avatar',
      query: { versions: '', 'key-marker': KEY, 'version-id-marker': '9999999999' },
    });
    expect([listed.status, codeOf(listed.text)]).toEqual([400, 'InvalidArgument']);
    const copied = await send({
      method: 'PUT',
      path: '/ai_avatar/model_checkpoint/hostile/copy-big.ckpt',
      headers: { 'x-amz-copy-source': `/ai_avatar/${KEY}?versionId=2147483648` },
    });
    expect([copied.status, codeOf(copied.text)]).toEqual([404, 'NoSuchVersion']);
    // The native door refuses a version out of the stores' range at its edge, naming the range;
    // the read behind it (the artifact service's, shared by both doors) finds no such version.
    const native = client(server.url, avatar.key.key);
    const nativeRead = await native('GET', `/v1/artifacts/ai_avatar/${KEY}?version=2147483648`);
    expect([nativeRead.status, nativeRead.json?.error?.code]).toEqual([400, 'invalid_request']);
    expect(nativeRead.json.error.message).toMatch(/2147483647/);
    const owner = client(server.url, server.ownerKey);
    const retention = await owner('PUT', `/v1/artifacts/ai_avatar/${KEY}/retention`, {
      body: { version: 2147483648, until: null, reason: 'out of range' },
    });
    expect([retention.status, retention.json?.error?.message]).toEqual([
      400,
      expect.stringMatching(/version must be an integer from 1 to 2147483647/),
    ]);
  });

  it('copies no version for a copy source versionId that is not a version number', async () => {
    for (const versionId of ['1.5', '1abc', '0x1']) {
      const copied = await send({
        method: 'PUT',
        path: '/ai_avatar/model_checkpoint/hostile/copy.ckpt',
        headers: { 'x-amz-copy-source': `/ai_avatar/${KEY}?versionId=${versionId}` },
      });
      expect([copied.status, codeOf(copied.text)], versionId).toEqual([404, 'NoSuchVersion']);
    }
    const copy = await send({
      method: 'HEAD',
      path: '/ai_avatar/model_checkpoint/hostile/copy.ckpt',
    });
    expect(copy.status).toBe(404);
  });

  it('answers well-formed XML when a NUL is echoed back, and refuses one in a body', async () => {
    const listed = await send({ method: 'GET', path: '/ai_avatar', query: { prefix: 'a\u0000b' } });
    expect(listed.status).toBe(200);
    expect(listed.text).toContain('<Prefix>a\uFFFDb</Prefix>');
    const refused = await send({ method: 'GET', path: '/ai_avatar%00/model_checkpoint/x' });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.text).not.toContain('\u0000');
    const deleted = await send({
      method: 'POST',
      path: '/ai_avatar',
      query: { delete: '' },
      body: Buffer.from(`<Delete><Object><Key>${KEY}\u0001</Key></Object></Delete>`),
    });
    expect([deleted.status, codeOf(deleted.text)]).toEqual([400, 'MalformedXML']);
    const kept = await send({ method: 'HEAD', path: `/ai_avatar/${KEY}` });
    expect(kept.status).toBe(200);
  });

  it('refuses ListParts paging parameters that are not numbers', async () => {
    const created = await send({
      method: 'POST',
      path: '/ai_avatar/model_checkpoint/hostile/parts.ckpt',
      query: { uploads: '' },
    });
    const uploadId = /<UploadId>([0-9a-f]+)<\/UploadId>/.exec(created.text)?.[1] ?? '';
    const pagings: Record<string, string>[] = [
      { 'max-parts': '-1' },
      { 'max-parts': '1.5' },
      { 'part-number-marker': 'x' },
    ];
    for (const query of pagings) {
      const listed = await send({
        method: 'GET',
        path: '/ai_avatar/model_checkpoint/hostile/parts.ckpt',
        query: { uploadId, ...query },
      });
      expect([listed.status, codeOf(listed.text)], JSON.stringify(query)).toEqual([
        400,
        'InvalidArgument',
      ]);
    }
    // max-parts=0 asks for no parts: an answer truncated without a marker would loop a pager.
    const part = await send({
      method: 'PUT',
      path: '/ai_avatar/model_checkpoint/hostile/parts.ckpt',
      query: { uploadId, partNumber: '1' },
      body: Buffer.from('the only part'),
    });
    expect(part.status).toBe(200);
    const none = await send({
      method: 'GET',
      path: '/ai_avatar/model_checkpoint/hostile/parts.ckpt',
      query: { uploadId, 'max-parts': '0' },
    });
    expect(none.status).toBe(200);
    expect(none.text).toContain('<IsTruncated>false</IsTruncated>');
    expect(none.text).not.toContain('<Part>');
  });

  it('serves partNumber 1 as the whole object and refuses any other part', async () => {
    const whole = await send({
      method: 'GET',
      path: `/ai_avatar/${KEY}`,
      query: { partNumber: '1' },
    });
    expect([whole.status, whole.text]).toEqual([200, 'v1']);
    // Part 2 served as the whole object would corrupt a download reassembled from parts.
    const second = await send({
      method: 'GET',
      path: `/ai_avatar/${KEY}`,
      query: { partNumber: '2' },
    });
    expect([second.status, codeOf(second.text)]).toEqual([416, 'InvalidPartNumber']);
    const junk = await send({
      method: 'GET',
      path: `/ai_avatar/${KEY}`,
      query: { partNumber: 'x' },
    });
    expect([junk.status, codeOf(junk.text)]).toEqual([400, 'InvalidArgument']);
    const both = await send({
      method: 'GET',
      path: `/ai_avatar/${KEY}`,
      query: { partNumber: '1' },
      headers: { range: 'bytes=0-0' },
    });
    expect([both.status, codeOf(both.text)]).toEqual([400, 'InvalidRequest']);
  });
});
