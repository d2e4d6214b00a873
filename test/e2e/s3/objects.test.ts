/**
 * The S3 door's object operations with the AWS SDK for JavaScript v3 (SPEC §13): put, get (Range,
 * conditions, versionId), head, delete (a tombstone), metadata, ETags, and the gate's refusals as
 * S3 errors.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import { client, startTestServer, type InProcessTestServer } from '../../helpers/server.js';

async function failure(promise: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3ServiceException) return error;
    throw error;
  }
  throw new Error('the request succeeded');
}

describe('S3 objects', () => {
  let server: InProcessTestServer;
  let avatar: S3Principal;

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    avatar = await s3Principal(server, 'product', 'ai_avatar');
  });
  afterAll(async () => server?.dispose());

  it('puts and gets an object as a governed version, with its MD5 as ETag', async () => {
    const body = Buffer.from('checkpoint bytes '.repeat(1000));
    const put = await avatar.s3.send(
      new PutObjectCommand({
        Bucket: 'ai_avatar',
        Key: 'model_checkpoint/avatar/v1.ckpt',
        Body: body,
        Metadata: { run: 'r42' },
      }),
    );
    const md5 = createHash('md5').update(body).digest('hex');
    expect(put.ETag).toBe(`"${md5}"`);
    expect(put.VersionId).toBe('1');

    const got = await avatar.s3.send(
      new GetObjectCommand({ Bucket: 'ai_avatar', Key: 'model_checkpoint/avatar/v1.ckpt' }),
    );
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(body);
    expect(got.ETag).toBe(`"${md5}"`);
    expect(got.Metadata).toEqual({ run: 'r42' });

    const native = await client(server.url, avatar.key.key)(
      'GET',
      '/v1/artifacts/ai_avatar/model_checkpoint/avatar/v1.ckpt',
    );
    expect(native.status).toBe(200);
    expect(native.headers.get('x-bucket-meta-run')).toBe('r42');
    expect(native.headers.get('x-bucket-sha256')).toBe(
      createHash('sha256').update(body).digest('hex'),
    );
    const entries = await client(server.url, server.ownerKey)(
      'GET',
      '/v1/audit/entries?artifact=ai_avatar/model_checkpoint/avatar/v1.ckpt&decision=allow',
    );
    const writes = entries.json.entries.filter(
      (found: { entry: { version?: number } }) => found.entry.version === 1,
    );
    expect(writes).toHaveLength(1);
  });

  it('answers ranges and conditions', async () => {
    const key = 'avatar_config/look.json';
    const put = await avatar.s3.send(
      new PutObjectCommand({
        Bucket: 'ai_avatar',
        Key: key,
        Body: JSON.stringify({ hair: 'blue', eyes: 'green' }),
        ContentType: 'application/json',
      }),
    );
    const range = await avatar.s3.send(
      new GetObjectCommand({ Bucket: 'ai_avatar', Key: key, Range: 'bytes=1-6' }),
    );
    expect(await range.Body!.transformToString()).toBe('"hair"');
    expect(range.ContentRange).toBe('bytes 1-6/30');
    const notModified = await failure(
      avatar.s3.send(
        new GetObjectCommand({ Bucket: 'ai_avatar', Key: key, IfNoneMatch: put.ETag }),
      ),
    );
    expect(notModified.$metadata.httpStatusCode).toBe(304);
    const failed = await failure(
      avatar.s3.send(new GetObjectCommand({ Bucket: 'ai_avatar', Key: key, IfMatch: '"nope"' })),
    );
    expect(failed.$metadata.httpStatusCode).toBe(412);
    const unchanged = await failure(
      avatar.s3.send(
        new GetObjectCommand({
          Bucket: 'ai_avatar',
          Key: key,
          IfModifiedSince: new Date(Date.now() + 60_000),
        }),
      ),
    );
    expect(unchanged.$metadata.httpStatusCode).toBe(304);
    const matched = await avatar.s3.send(
      new GetObjectCommand({ Bucket: 'ai_avatar', Key: key, IfMatch: put.ETag }),
    );
    expect(matched.ETag).toBe(put.ETag);
    await avatar.s3.send(
      new PutObjectCommand({
        Bucket: 'ai_avatar',
        Key: key,
        Body: JSON.stringify({ hair: 'red' }),
        ContentType: 'application/json',
      }),
    );
    const first = await avatar.s3.send(
      new GetObjectCommand({ Bucket: 'ai_avatar', Key: key, VersionId: '1' }),
    );
    expect(JSON.parse(await first.Body!.transformToString())).toEqual({
      hair: 'blue',
      eyes: 'green',
    });
    const head = await avatar.s3.send(new HeadObjectCommand({ Bucket: 'ai_avatar', Key: key }));
    expect(head.VersionId).toBe('2');
    expect(head.ContentLength).toBe(14);
  });

  it('refuses an overwrite of a write-once checkpoint as AccessDenied naming rule and threat', async () => {
    const refused = await failure(
      avatar.s3.send(
        new PutObjectCommand({
          Bucket: 'ai_avatar',
          Key: 'model_checkpoint/avatar/v1.ckpt',
          Body: Buffer.from('other bytes'),
        }),
      ),
    );
    expect(refused.name).toBe('AccessDenied');
    expect(refused.$metadata.httpStatusCode).toBe(403);
    expect(refused.message).toMatch(/T3/);
  });

  it('refuses another product with AccessDenied (T1), whether or not it exists', async () => {
    for (const key of ['educational_content/x.md', 'educational_content/none.md']) {
      const refused = await failure(
        avatar.s3.send(new GetObjectCommand({ Bucket: 'gurukul', Key: key })),
      );
      expect(refused.name).toBe('AccessDenied');
      expect(refused.message).toMatch(/T1/);
    }
  });

  it('tombstones on delete, with the delete marker', async () => {
    const core = await s3Principal(server, 'core');
    await core.s3.send(
      new PutObjectCommand({
        Bucket: 'core',
        Key: 'basket_config/b.json',
        Body: '{"name":"b"}',
        ContentType: 'application/json',
      }),
    );
    const deleted = await core.s3.send(
      new DeleteObjectCommand({ Bucket: 'core', Key: 'basket_config/b.json' }),
    );
    expect(deleted.DeleteMarker).toBe(true);
    expect(deleted.VersionId).toBe('2');
    const missing = await failure(
      core.s3.send(new GetObjectCommand({ Bucket: 'core', Key: 'basket_config/b.json' })),
    );
    expect(missing.name).toBe('NoSuchKey');
    const refused = await failure(
      avatar.s3.send(
        new DeleteObjectCommand({ Bucket: 'ai_avatar', Key: 'avatar_config/look.json' }),
      ),
    );
    expect(refused.name).toBe('AccessDenied');
  });
});
