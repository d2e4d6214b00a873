/**
 * The S3 door's authentication (SPEC §13) end to end: presigned URLs, signed aws-chunked bodies
 * (one flipped byte in a chunk → refused, nothing stored), the unsigned-payload trailer's checksum,
 * bad signatures, clock skew, revoked credentials and keys, suspended keys — every refusal an S3
 * XML error.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import {
  presignedUrl,
  sendChunked,
  sendSigned,
  sha256Hex,
  trailerChunks,
} from '../../helpers/s3-sign.js';
import { client, startTestServer, type InProcessTestServer } from '../../helpers/server.js';

/** Storage limits no test reaches. */
const ROOMY = {
  productQuotaBytes: 1e15,
  productMaxArtifacts: 1e9,
  totalMaxArtifacts: 1e9,
  totalMaxBytes: 1e15,
};

const codeOf = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

describe('S3 door authentication', () => {
  let server: InProcessTestServer;
  let base: string;
  let avatar: S3Principal;

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    base = server.s3Url ?? '';
    avatar = await s3Principal(server, 'product', 'ai_avatar');
  });
  afterAll(async () => server?.dispose());

  it('serves presigned GET and PUT URLs, and refuses them once expired or altered', async () => {
    const put = await presignedUrl(base, avatar.credential, {
      method: 'PUT',
      path: '/ai_avatar/model_checkpoint/presigned.ckpt',
      expiresIn: 600,
    });
    const smuggled = await fetch(put, {
      method: 'PUT',
      body: 'presigned bytes',
      headers: { 'x-amz-meta-subject': 'user:someone' },
    });
    expect(smuggled.status).toBe(403);
    expect(await smuggled.text()).toMatch(/not signed: x-amz-meta-subject/);
    const stored = await fetch(put, { method: 'PUT', body: 'presigned bytes' });
    expect(stored.status).toBe(200);
    const get = await presignedUrl(base, avatar.credential, {
      method: 'GET',
      path: '/ai_avatar/model_checkpoint/presigned.ckpt',
      expiresIn: 600,
    });
    const read = await fetch(get);
    expect(read.status).toBe(200);
    expect(await read.text()).toBe('presigned bytes');
    expect(read.headers.get('x-bucket-sha256')).toBe(sha256Hex('presigned bytes'));
    const old = await presignedUrl(base, avatar.credential, {
      method: 'GET',
      path: '/ai_avatar/model_checkpoint/presigned.ckpt',
      expiresIn: 60,
      signingDate: new Date(Date.now() - 120_000),
    });
    const expired = await fetch(old);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toMatch(/expired/);
    const altered = await fetch(get.replace('presigned.ckpt', 'other.ckpt'));
    expect(altered.status).toBe(403);
    expect(codeOf(await altered.text())).toBe('SignatureDoesNotMatch');
  });

  it('refuses a SigV2 presigned URL (the AWS CLI v1 default) with 400, naming the fix', async () => {
    const url =
      `${base}/ai_avatar/model_checkpoint/presigned.ckpt?AWSAccessKeyId=` +
      `${avatar.credential.accessKeyId}&Signature=c2lnbmF0dXJl&Expires=${Math.floor(Date.now() / 1000) + 60}`;
    const refused = await fetch(url);
    expect(refused.status).toBe(400);
    const text = await refused.text();
    expect(codeOf(text)).toBe('InvalidRequest');
    expect(text).toContain('aws configure set default.s3.signature_version s3v4');
    expect(text).toContain('signature_version=&quot;s3v4&quot;');
  });

  it('verifies every chunk signature; one flipped byte refuses the upload and stores nothing', async () => {
    const data = Buffer.alloc(200_000, 'x');
    const ok = await sendChunked(
      base,
      avatar.credential,
      '/ai_avatar/model_checkpoint/chunked.ckpt',
      data,
      {
        chunkSize: 65_536,
      },
    );
    expect(ok.status, ok.text).toBe(200);
    expect(ok.headers.get('etag')).toBe(`"${createHash('md5').update(data).digest('hex')}"`);

    const other = Buffer.alloc(200_000, 'y');
    const tampered = await sendChunked(
      base,
      avatar.credential,
      '/ai_avatar/model_checkpoint/tampered.ckpt',
      other,
      {
        chunkSize: 65_536,
        mutate: (body) => {
          const copy = Buffer.from(body);
          copy[100_000] = copy[100_000]! ^ 1; // a byte of the second chunk's data
          return copy;
        },
      },
    );
    expect(tampered.status).toBe(403);
    expect(codeOf(tampered.text)).toBe('SignatureDoesNotMatch');
    const native = client(server.url, avatar.key.key);
    expect(
      (await native('GET', '/v1/artifacts/ai_avatar/model_checkpoint/tampered.ckpt')).status,
    ).toBe(404);
    expect(await server.bucket.blobs.exists(sha256Hex(other))).toBe(false);
  });

  it('verifies the checksum trailer of an unsigned-payload aws-chunked body', async () => {
    const data = Buffer.from('trailer checked content '.repeat(500));
    const checksum = (value: number) => {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(value >>> 0);
      return out.toString('base64');
    };
    const send = (name: string, value: string) =>
      sendSigned(base, avatar.credential, {
        method: 'PUT',
        path: `/ai_avatar/model_checkpoint/${name}`,
        payload: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        headers: {
          'content-encoding': 'aws-chunked',
          'x-amz-decoded-content-length': String(data.length),
          'x-amz-trailer': 'x-amz-checksum-crc32',
        },
        body: trailerChunks(data, 4096, `x-amz-checksum-crc32:${value}`),
      });
    const good = await send('trailer.ckpt', checksum(crc32(data)));
    expect(good.status, good.text).toBe(200);
    const bad = await send('bad-trailer.ckpt', checksum(crc32(data) + 1));
    expect(bad.status).toBe(400);
    expect(codeOf(bad.text)).toBe('BadDigest');
    const native = client(server.url, avatar.key.key);
    expect(
      (await native('GET', '/v1/artifacts/ai_avatar/model_checkpoint/bad-trailer.ckpt')).status,
    ).toBe(404);
  });

  it('refuses a wrong Content-MD5 and a wrong signed SHA-256', async () => {
    const body = Buffer.from('digest checked');
    const md5 = await sendSigned(base, avatar.credential, {
      method: 'PUT',
      path: '/ai_avatar/model_checkpoint/md5.ckpt',
      headers: { 'content-md5': createHash('md5').update('other').digest('base64') },
      body,
    });
    expect(md5.status).toBe(400);
    expect(codeOf(md5.text)).toBe('BadDigest');
    const sha = await sendSigned(base, avatar.credential, {
      method: 'PUT',
      path: '/ai_avatar/model_checkpoint/sha.ckpt',
      payload: sha256Hex('other'),
      body,
    });
    expect(sha.status).toBe(400);
    expect(codeOf(sha.text)).toBe('XAmzContentSHA256Mismatch');
  });

  it("binds an UploadPart's bytes to its signed SHA-256, and stores no part of a gone upload", async () => {
    const { UploadId } = await avatar.s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'ai_avatar', Key: 'model_checkpoint/parts.ckpt' }),
    );
    const part = await sendSigned(base, avatar.credential, {
      method: 'PUT',
      path: '/ai_avatar/model_checkpoint/parts.ckpt',
      query: { partNumber: '1', uploadId: UploadId ?? '' },
      payload: sha256Hex('other bytes'),
      body: Buffer.from('these bytes'),
    });
    expect(part.status).toBe(400);
    expect(codeOf(part.text)).toBe('XAmzContentSHA256Mismatch');
    const listed = await avatar.s3.send(
      new ListPartsCommand({
        Bucket: 'ai_avatar',
        Key: 'model_checkpoint/parts.ckpt',
        UploadId: UploadId ?? '',
      }),
    );
    expect(listed.Parts ?? []).toEqual([]);
    // A part that arrives after its upload was aborted (or completed) is not recorded.
    await avatar.s3.send(
      new AbortMultipartUploadCommand({
        Bucket: 'ai_avatar',
        Key: 'model_checkpoint/parts.ckpt',
        UploadId: UploadId ?? '',
      }),
    );
    const late = await server.bucket.metadata.putS3Part(
      {
        uploadId: UploadId ?? '',
        partNumber: 2,
        size: 1,
        md5: createHash('md5').update('x').digest('hex'),
        sha256: sha256Hex('x'),
        createdAt: new Date().toISOString(),
      },
      'ai_avatar',
      ROOMY,
    );
    expect(late).toEqual({ stored: false, reason: 'no_upload' });
    expect(await server.bucket.metadata.listS3Parts(UploadId ?? '')).toEqual([]);
  });

  it('refuses bad signatures, clock skew, unknown and revoked credentials', async () => {
    const wrong = await sendSigned(
      base,
      { ...avatar.credential, secretAccessKey: 'x'.repeat(40) },
      { method: 'GET', path: '/ai_avatar' },
    );
    expect(wrong.status).toBe(403);
    expect(codeOf(wrong.text)).toBe('SignatureDoesNotMatch');
    const skewed = await sendSigned(base, avatar.credential, {
      method: 'GET',
      path: '/ai_avatar',
      signingDate: new Date(Date.now() - 20 * 60_000),
    });
    expect(skewed.status).toBe(403);
    expect(codeOf(skewed.text)).toBe('RequestTimeTooSkewed');
    const unknown = await sendSigned(
      base,
      { accessKeyId: 'BKTUNKNOWN0000000000', secretAccessKey: 'x'.repeat(40) },
      { method: 'GET', path: '/ai_avatar' },
    );
    expect(codeOf(unknown.text)).toBe('InvalidAccessKeyId');
    const anonymous = await fetch(`${base}/ai_avatar`);
    expect(anonymous.status).toBe(403);

    const doomed = await s3Principal(server, 'product', 'ai_avatar');
    expect(
      (await sendSigned(base, doomed.credential, { method: 'GET', path: '/ai_avatar' })).status,
    ).toBe(200);
    const owner = client(server.url, server.ownerKey);
    await owner(
      'DELETE',
      `/v1/keys/${doomed.key.id}/s3-credentials/${doomed.credential.accessKeyId}`,
    );
    const revoked = await sendSigned(base, doomed.credential, {
      method: 'GET',
      path: '/ai_avatar',
    });
    expect(codeOf(revoked.text)).toBe('InvalidAccessKeyId');

    const keyGone = await s3Principal(server, 'product', 'ai_avatar');
    await owner('DELETE', `/v1/keys/${keyGone.key.id}`);
    const withoutKey = await sendSigned(base, keyGone.credential, {
      method: 'GET',
      path: '/ai_avatar',
    });
    expect(codeOf(withoutKey.text)).toBe('InvalidAccessKeyId');
  });

  it('counts failing signatures toward the brute-force limit; valid ones still pass', async () => {
    const wrong = { ...avatar.credential, secretAccessKey: 'y'.repeat(40) };
    const codes: (string | undefined)[] = [];
    for (let attempt = 0; attempt < 22; attempt++) {
      const answer = await sendSigned(base, wrong, { method: 'GET', path: '/ai_avatar' });
      codes.push(codeOf(answer.text));
    }
    expect(codes.at(-1)).toBe('SlowDown');
    const valid = await sendSigned(base, avatar.credential, { method: 'GET', path: '/ai_avatar' });
    expect(valid.status).toBe(200);
  });
});
