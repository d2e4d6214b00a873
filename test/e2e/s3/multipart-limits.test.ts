/**
 * An S3 multipart upload meets its object's size limit at the part that crosses it: the gate
 * counts what the upload's other parts hold (SPEC §2.3, §13), so a client sending a 600 MB file to
 * a 500 MB class is refused after 500 MB, not after its last byte at the completion. A part sent
 * again replaces its earlier bytes, so it is counted once.
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import { client, startTestServer, type InProcessTestServer } from '../../helpers/server.js';

const MiB = 1024 * 1024;
const KEY = 'model_checkpoint/limits/too-big.ckpt';

describe('an S3 multipart upload and its object limit', () => {
  let server: InProcessTestServer;
  let avatar: S3Principal;

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    const owner = client(server.url, server.ownerKey);
    const { json } = await owner('GET', '/v1/governance/policy');
    const document = json.document;
    document.classes.model_checkpoint.maxBytes = 12 * MiB;
    const changed = await owner('PUT', '/v1/governance/policy', {
      body: { document, reason: 'a 12 MiB checkpoint class for the test' },
    });
    expect(changed.status).toBe(200);
    avatar = await s3Principal(server, 'product', 'ai_avatar');
  });
  afterAll(async () => server?.dispose());

  const part = (uploadId: string, number: number, bytes: number) =>
    avatar.s3.send(
      new UploadPartCommand({
        Bucket: 'ai_avatar',
        Key: KEY,
        UploadId: uploadId,
        PartNumber: number,
        Body: randomBytes(bytes),
      }),
    );

  it('refuses the part that would take the object past its limit, and keeps the upload', async () => {
    const created = await avatar.s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'ai_avatar', Key: KEY }),
    );
    const id = created.UploadId!;
    const first = await part(id, 1, 5 * MiB);
    await part(id, 2, 5 * MiB);
    // 10 MiB held: a third part of 5 MiB would make 15 of the 12 allowed.
    const refused = await part(id, 3, 5 * MiB).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(S3ServiceException);
    const error = refused as S3ServiceException;
    expect(error.name).toBe('EntityTooLarge');
    expect(error.message).toMatch(/other parts hold 10485760/);
    // Part 2 sent again replaces its bytes (counted once); 2 MiB still fit.
    const second = await part(id, 2, 5 * MiB);
    const third = await part(id, 3, 2 * MiB);
    const done = await avatar.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'ai_avatar',
        Key: KEY,
        UploadId: id,
        MultipartUpload: {
          Parts: [
            { ETag: first.ETag, PartNumber: 1 },
            { ETag: second.ETag, PartNumber: 2 },
            { ETag: third.ETag, PartNumber: 3 },
          ],
        },
      }),
    );
    expect(done.ETag).toMatch(/-3"$/);
    const head = await client(server.url, server.ownerKey)(
      'HEAD',
      `/v1/artifacts/ai_avatar/${KEY}`,
    );
    expect(head.headers.get('content-length')).toBe(String(12 * MiB));
  });
});
