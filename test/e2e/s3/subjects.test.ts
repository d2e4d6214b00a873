/**
 * Data subjects through the S3 door (SPEC §8, §13): a subject's contents are sealed as they are
 * written, which multipart parts (blob temporaries until completion) are not — so a multipart
 * upload naming a subject is refused at its start, and nothing of it is kept; the same object in
 * one PutObject is stored, sealed.
 */
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import { startTestServer, type InProcessTestServer } from '../../helpers/server.js';

describe('S3 uploads of a data subject', () => {
  let server: InProcessTestServer;
  let gurukul: S3Principal;

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    gurukul = await s3Principal(server, 'product', 'gurukul');
  });
  afterAll(async () => server?.dispose());

  it('refuses a multipart upload naming a subject, keeping nothing; PutObject seals it', async () => {
    const key = 'user_progress/s3-subject/progress.json';
    const refused = await gurukul.s3
      .send(
        new CreateMultipartUploadCommand({
          Bucket: 'gurukul',
          Key: key,
          Metadata: { subject: 'learner:7' },
          ContentType: 'application/json',
        }),
      )
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(S3ServiceException);
    expect((refused as S3ServiceException).name).toBe('InvalidRequest');
    expect((refused as S3ServiceException).message).toMatch(/PutObject/);
    const open = await gurukul.s3.send(new ListMultipartUploadsCommand({ Bucket: 'gurukul' }));
    expect(open.Uploads ?? []).toEqual([]);

    const body = JSON.stringify({ lesson: 3, learner: 'learner:7' });
    await gurukul.s3.send(
      new PutObjectCommand({
        Bucket: 'gurukul',
        Key: key,
        Body: body,
        Metadata: { subject: 'learner:7' },
        ContentType: 'application/json',
      }),
    );
    const got = await gurukul.s3.send(new GetObjectCommand({ Bucket: 'gurukul', Key: key }));
    expect(await got.Body!.transformToString()).toBe(body);
    const version = await server.bucket.metadata.getHead({
      product: 'gurukul',
      class: 'user_progress',
      name: 's3-subject/progress.json',
    });
    expect(version?.sealed).toBeTruthy();
  });
});
