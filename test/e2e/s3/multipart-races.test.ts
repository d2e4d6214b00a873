/**
 * Multipart uploads under concurrency and limits (SPEC §13, §2.3): two completions of one upload
 * commit one version (the other answers NoSuchUpload and stores nothing), a failed completion can
 * be retried, and parts are writes — charged to the write rate and, while their upload is open,
 * counted toward the product's quota (and not twice when it completes).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import {
  completion as completionOf,
  openUpload as openUploadOf,
} from '../../helpers/s3-multipart.js';
import { changePolicy } from '../../helpers/limits.js';
import { client, startTestServer, type InProcessTestServer } from '../../helpers/server.js';

const MiB = 1024 * 1024;

/** An upload of `key` in gurukul with its parts sent; answers its id and the parts' ETags. */
const openUpload = (s3: S3Client, key: string, parts: readonly Buffer[]) =>
  openUploadOf(s3, { Bucket: 'gurukul', Key: key, ContentType: 'text/plain' }, parts);

const completion = (key: string, uploadId: string, etags: readonly string[]) =>
  completionOf({ Bucket: 'gurukul', Key: key }, uploadId, etags);

describe('S3 multipart uploads under concurrency and limits', () => {
  let server: InProcessTestServer;
  let gurukul: S3Principal;
  let owner: ReturnType<typeof client>;

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    owner = client(server.url, server.ownerKey);
    gurukul = await s3Principal(server, 'product', 'gurukul');
  });
  afterAll(async () => server?.dispose());

  const versionsOf = async (key: string) =>
    (await owner('GET', `/v1/artifacts/gurukul/${key}/versions`)).json?.versions ?? [];

  it('commits one version when two completions of one upload race; the other is NoSuchUpload', async () => {
    const key = 'educational_content/race/lesson.txt';
    const parts = [Buffer.alloc(5 * MiB, 'a'), Buffer.from('the end')];
    const { uploadId, etags } = await openUpload(gurukul.s3, key, parts);
    const outcomes = await Promise.allSettled([
      gurukul.s3.send(completion(key, uploadId, etags)),
      gurukul.s3.send(completion(key, uploadId, etags)),
    ]);
    const done = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const refused = outcomes.flatMap((outcome) =>
      outcome.status === 'rejected' ? [outcome.reason as { name: string }] : [],
    );
    expect(done).toHaveLength(1);
    expect(refused.map((error) => error.name)).toEqual(['NoSuchUpload']);
    expect(await versionsOf(key)).toHaveLength(1);
    // Completed: a third completion finds no upload either.
    await expect(gurukul.s3.send(completion(key, uploadId, etags))).rejects.toMatchObject({
      name: 'NoSuchUpload',
    });
  });

  it('gives the upload back when a completion fails, so that the client can complete it', async () => {
    const key = 'educational_content/race/retry.txt';
    const { uploadId, etags } = await openUpload(gurukul.s3, key, [Buffer.from('only part')]);
    await expect(
      gurukul.s3.send(completion(key, uploadId, ['"00000000000000000000000000000000"'])),
    ).rejects.toMatchObject({ name: 'InvalidPart' });
    const done = await gurukul.s3.send(completion(key, uploadId, etags));
    expect(done.ETag).toMatch(/-1"$/);
    expect(await versionsOf(key)).toHaveLength(1);
  });

  it('refuses to complete from a part changed since it was stored; the client may retry', async () => {
    const key = 'educational_content/race/changed.txt';
    const parts = [Buffer.alloc(5 * MiB, 'c'), Buffer.from('the end')];
    const { uploadId, etags } = await openUpload(gurukul.s3, key, parts);
    // The first part's blob, altered under its address (a disk or an operator).
    const address = createHash('sha256').update(parts[0]!).digest('hex');
    const altered = await server.bucket.blobs.createWriter();
    await altered.write(Buffer.alloc(5 * MiB, 'x'));
    await altered.commit(address);
    await expect(gurukul.s3.send(completion(key, uploadId, etags))).rejects.toMatchObject({
      name: 'ServiceUnavailable',
    });
    expect(await versionsOf(key)).toHaveLength(0);
    // The part sent again restores its bytes; the upload was given back, and completes.
    await gurukul.s3.send(
      new UploadPartCommand({
        Bucket: 'gurukul',
        Key: key,
        UploadId: uploadId,
        PartNumber: 1,
        Body: parts[0],
      }),
    );
    await gurukul.s3.send(completion(key, uploadId, etags));
    const read = await owner('GET', `/v1/artifacts/gurukul/${key}`);
    expect(read.bytes.equals(Buffer.concat(parts))).toBe(true);
  });

  const changeTo = (change: (document: any) => void) => changePolicy(server, change);

  it('charges each part to the write rate: SlowDown with Retry-After past it', async () => {
    const key = 'educational_content/rate/parts.txt';
    const { uploadId } = await openUpload(gurukul.s3, key, []);
    await changeTo((document) => (document.limits.writesPerSecond = 1));
    try {
      const sent = await Promise.allSettled(
        [1, 2, 3, 4].map((PartNumber) =>
          gurukul.s3.send(
            new UploadPartCommand({
              Bucket: 'gurukul',
              Key: key,
              UploadId: uploadId,
              PartNumber,
              Body: Buffer.from(`part ${PartNumber}`),
            }),
          ),
        ),
      );
      const slowed = sent.flatMap((outcome) =>
        outcome.status === 'rejected' ? [outcome.reason as { name: string; $response?: any }] : [],
      );
      expect(slowed.length).toBeGreaterThanOrEqual(2);
      expect(slowed[0]?.name).toBe('SlowDown');
      expect(Number(slowed[0]?.$response?.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
    } finally {
      await changeTo((document) => (document.limits.writesPerSecond = 1000));
    }
  });

  it("counts open parts toward the product's quota until their upload is aborted", async () => {
    const avatar = await s3Principal(server, 'product', 'ai_avatar');
    const used = (await server.bucket.metadata.usageFacts('ai_avatar')).product.bytes;
    const upload = async (key: string, sizes: readonly number[]) => {
      const created = await avatar.s3.send(
        new CreateMultipartUploadCommand({ Bucket: 'ai_avatar', Key: key }),
      );
      for (const [index, size] of sizes.entries()) {
        await avatar.s3.send(
          new UploadPartCommand({
            Bucket: 'ai_avatar',
            Key: key,
            UploadId: created.UploadId,
            PartNumber: index + 1,
            Body: Buffer.alloc(size, index + 1),
          }),
        );
      }
      return created.UploadId!;
    };
    const put = (name: string, size: number) =>
      avatar.s3.send(
        new PutObjectCommand({
          Bucket: 'ai_avatar',
          Key: `model_checkpoint/quota/${name}`,
          Body: Buffer.alloc(size, 7),
        }),
      );
    await changeTo((document) => (document.products.ai_avatar.quotaBytes = used + 8 * MiB));
    try {
      const held = await upload('model_checkpoint/quota/held.ckpt', [5 * MiB]);
      // A second part, and a write, that the held part leaves no room for.
      await expect(upload('model_checkpoint/quota/more.ckpt', [5 * MiB])).rejects.toMatchObject({
        name: 'XBucketStorageFull',
        $metadata: { httpStatusCode: 507 },
      });
      await expect(put('native.bin', 4 * MiB)).rejects.toMatchObject({
        name: 'XBucketStorageFull',
      });
      await avatar.s3.send(
        new AbortMultipartUploadCommand({
          Bucket: 'ai_avatar',
          Key: 'model_checkpoint/quota/held.ckpt',
          UploadId: held,
        }),
      );
      await put('native.bin', 4 * MiB);
      // A completion that fits exactly is not refused for the bytes its own parts hold.
      const whole = used + 4 * MiB + 5 * MiB + 1024;
      await changeTo((document) => (document.products.ai_avatar.quotaBytes = whole));
      const key = 'model_checkpoint/quota/whole.ckpt';
      const uploadId = await upload(key, [5 * MiB, 1024]);
      const listed = await avatar.s3.send(
        new ListPartsCommand({ Bucket: 'ai_avatar', Key: key, UploadId: uploadId }),
      );
      await avatar.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'ai_avatar',
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: (listed.Parts ?? []).map(({ ETag, PartNumber }) => ({ ETag, PartNumber })),
          },
        }),
      );
      expect((await server.bucket.metadata.usageFacts('ai_avatar')).product.bytes).toBe(whole);
    } finally {
      await changeTo((document) => (document.products.ai_avatar.quotaBytes = 300_000_000_000));
    }
  });
});
