/**
 * S3 listings (delimiters, continuation, start-after, v1 markers, versions) and multipart uploads
 * (one governed write at completion, the md5-of-md5s ETag, aborts removing their parts) with the
 * AWS SDK for JavaScript v3 (SPEC §13).
 */
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, openUpload } from '../../helpers/s3-multipart.js';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import { client, startTestServer, type InProcessTestServer } from '../../helpers/server.js';
import { sweepStaleUploads } from '../../../src/s3/multipart.js';

const MiB = 1024 * 1024;

describe('S3 listings and multipart uploads', () => {
  let server: InProcessTestServer;
  let gurukul: S3Principal;

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    gurukul = await s3Principal(server, 'product', 'gurukul');
    for (const name of ['a/1.md', 'a/2.md', 'b/1.md', 'b/deep/2.md', 'c.md']) {
      await gurukul.s3.send(
        new PutObjectCommand({
          Bucket: 'gurukul',
          Key: `educational_content/${name}`,
          Body: `# ${name}`,
          ContentType: 'text/markdown',
        }),
      );
    }
    await gurukul.s3.send(
      new PutObjectCommand({
        Bucket: 'gurukul',
        Key: 'user_progress/u1.json',
        Body: '{"done":1}',
        ContentType: 'application/json',
      }),
    );
  });
  afterAll(async () => server?.dispose());

  it('lists with a delimiter: classes, then folders, as common prefixes', async () => {
    const root = await gurukul.s3.send(
      new ListObjectsV2Command({ Bucket: 'gurukul', Delimiter: '/' }),
    );
    expect(root.CommonPrefixes?.map((p) => p.Prefix)).toEqual([
      'educational_content/',
      'user_progress/',
    ]);
    expect(root.Contents ?? []).toEqual([]);
    const inside = await gurukul.s3.send(
      new ListObjectsV2Command({
        Bucket: 'gurukul',
        Prefix: 'educational_content/',
        Delimiter: '/',
      }),
    );
    expect(inside.CommonPrefixes?.map((p) => p.Prefix)).toEqual([
      'educational_content/a/',
      'educational_content/b/',
    ]);
    expect(inside.Contents?.map((c) => c.Key)).toEqual(['educational_content/c.md']);
    expect(inside.Contents?.[0]?.ETag).toBe(
      `"${createHash('md5').update('# c.md').digest('hex')}"`,
    );
  });

  it('pages with continuation tokens and start-after, and v1 markers', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await gurukul.s3.send(
        new ListObjectsV2Command({ Bucket: 'gurukul', MaxKeys: 2, ContinuationToken: token }),
      );
      seen.push(...(page.Contents ?? []).map((c) => c.Key ?? ''));
      expect(page.KeyCount).toBeLessThanOrEqual(2);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    expect(seen).toEqual([
      'educational_content/a/1.md',
      'educational_content/a/2.md',
      'educational_content/b/1.md',
      'educational_content/b/deep/2.md',
      'educational_content/c.md',
      'user_progress/u1.json',
    ]);
    const after = await gurukul.s3.send(
      new ListObjectsV2Command({
        Bucket: 'gurukul',
        StartAfter: 'educational_content/b/deep/2.md',
      }),
    );
    expect(after.Contents?.map((c) => c.Key)).toEqual([
      'educational_content/c.md',
      'user_progress/u1.json',
    ]);
    const v1 = await gurukul.s3.send(
      new ListObjectsCommand({ Bucket: 'gurukul', Prefix: 'educational_content/a', MaxKeys: 1 }),
    );
    expect(v1.Contents?.map((c) => c.Key)).toEqual(['educational_content/a/1.md']);
    expect(v1.IsTruncated).toBe(true);
    const next = await gurukul.s3.send(
      new ListObjectsCommand({
        Bucket: 'gurukul',
        Prefix: 'educational_content/a',
        Marker: 'educational_content/a/1.md',
      }),
    );
    expect(next.Contents?.map((c) => c.Key)).toEqual(['educational_content/a/2.md']);
  });

  it('lists versions', async () => {
    await gurukul.s3.send(
      new PutObjectCommand({
        Bucket: 'gurukul',
        Key: 'educational_content/c.md',
        Body: '# c, again',
        ContentType: 'text/markdown',
      }),
    );
    const versions = await gurukul.s3.send(
      new ListObjectVersionsCommand({ Bucket: 'gurukul', Prefix: 'educational_content/c.md' }),
    );
    expect(versions.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      ['2', true],
      ['1', false],
    ]);
  });

  it('completes a multipart upload as one governed write with the md5-of-md5s ETag', async () => {
    const avatar = await s3Principal(server, 'product', 'ai_avatar');
    const key = 'model_checkpoint/big/v1.ckpt';
    const parts = [Buffer.alloc(5 * MiB, 1), Buffer.alloc(5 * MiB, 2), Buffer.from('tail')];
    const target = { Bucket: 'ai_avatar', Key: key, Metadata: { run: 'm1' } };
    const { uploadId, etags } = await openUpload(avatar.s3, target, parts);
    const listed = await avatar.s3.send(
      new ListPartsCommand({ Bucket: 'ai_avatar', Key: key, UploadId: uploadId }),
    );
    expect(listed.Parts?.map((p) => p.Size)).toEqual([5 * MiB, 5 * MiB, 4]);
    const uploads = await avatar.s3.send(new ListMultipartUploadsCommand({ Bucket: 'ai_avatar' }));
    expect(uploads.Uploads?.map((u) => u.UploadId)).toContain(uploadId);
    const before = (await client(server.url, server.ownerKey)('GET', '/v1/audit/checkpoint')).json
      .size as number;
    const done = await avatar.s3.send(completion(target, uploadId, etags));
    const md5s = Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()));
    expect(done.ETag).toBe(`"${createHash('md5').update(md5s).digest('hex')}-3"`);
    const whole = Buffer.concat(parts);
    const got = await avatar.s3.send(new GetObjectCommand({ Bucket: 'ai_avatar', Key: key }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(bytes.equals(whole)).toBe(true);
    expect(got.Metadata).toEqual({ run: 'm1' });
    expect(got.ETag).toBe(done.ETag);
    // One version, one write entry.
    const owner = client(server.url, server.ownerKey);
    const versions = await owner(
      'GET',
      `/v1/artifacts/ai_avatar/model_checkpoint/big/v1.ckpt/versions`,
    );
    expect(versions.json.versions).toHaveLength(1);
    const entries = await owner(
      'GET',
      `/v1/audit/entries?artifact=ai_avatar/${key}&decision=allow&limit=100`,
    );
    const writes = entries.json.entries.filter(
      (found: { index: number; entry: { version?: number } }) =>
        found.index >= before && found.entry.version !== undefined,
    );
    expect(writes).toHaveLength(1);
    expect(
      (await avatar.s3.send(new ListMultipartUploadsCommand({ Bucket: 'ai_avatar' }))).Uploads ??
        [],
    ).toEqual([]);
    // The parts were temporaries: the first part's blob is gone.
    const firstPart = createHash('sha256').update(parts[0]!).digest('hex');
    expect(await server.bucket.blobs.exists(firstPart)).toBe(false);
  });

  it('refuses a write-once overwrite at the upload start; an abort removes the parts', async () => {
    const avatar = await s3Principal(server, 'product', 'ai_avatar');
    await expect(
      avatar.s3.send(
        new CreateMultipartUploadCommand({
          Bucket: 'ai_avatar',
          Key: 'model_checkpoint/big/v1.ckpt',
        }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
    const key = 'model_checkpoint/aborted.ckpt';
    const created = await avatar.s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'ai_avatar', Key: key }),
    );
    const body = Buffer.alloc(64 * 1024, 7);
    await avatar.s3.send(
      new UploadPartCommand({
        Bucket: 'ai_avatar',
        Key: key,
        UploadId: created.UploadId,
        PartNumber: 1,
        Body: body,
      }),
    );
    const sha = createHash('sha256').update(body).digest('hex');
    expect(await server.bucket.blobs.exists(sha)).toBe(true);
    await avatar.s3.send(
      new AbortMultipartUploadCommand({
        Bucket: 'ai_avatar',
        Key: key,
        UploadId: created.UploadId,
      }),
    );
    expect(await server.bucket.blobs.exists(sha)).toBe(false);
    await expect(
      avatar.s3.send(
        new ListPartsCommand({ Bucket: 'ai_avatar', Key: key, UploadId: created.UploadId }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });

  it('removes uploads abandoned for 24 hours, with their parts', async () => {
    const avatar = await s3Principal(server, 'product', 'ai_avatar');
    const key = 'model_checkpoint/abandoned.ckpt';
    const created = await avatar.s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'ai_avatar', Key: key }),
    );
    const body = Buffer.alloc(32 * 1024, 9);
    await avatar.s3.send(
      new UploadPartCommand({
        Bucket: 'ai_avatar',
        Key: key,
        UploadId: created.UploadId,
        PartNumber: 1,
        Body: body,
      }),
    );
    const sha = createHash('sha256').update(body).digest('hex');
    expect(await sweepStaleUploads(server.bucket, Date.now() + 23 * 3600_000)).toBe(0);
    expect(await sweepStaleUploads(server.bucket, Date.now() + 25 * 3600_000)).toBe(1);
    expect(await server.bucket.blobs.exists(sha)).toBe(false);
    await expect(
      avatar.s3.send(
        new ListPartsCommand({ Bucket: 'ai_avatar', Key: key, UploadId: created.UploadId }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });
});
