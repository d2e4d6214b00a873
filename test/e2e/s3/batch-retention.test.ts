/**
 * DeleteObjects, CopyObject, GetObjectRetention and GetObjectLegalHold on the S3 door
 * (SPEC §13, §8): each key of a DeleteObjects decided alone, a copy within one product, the
 * retention and legal holds of SPEC §8 read as S3 Object Lock's.
 */
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import { sendSigned, sha256Hex } from '../../helpers/s3-sign.js';
import { client, startTestServer, type InProcessTestServer } from '../../helpers/server.js';

const json = (value: unknown) => ({ Body: JSON.stringify(value), ContentType: 'application/json' });

describe('S3 DeleteObjects, CopyObject, retention and legal holds', () => {
  let server: InProcessTestServer;
  let core: S3Principal;
  let gurukul: S3Principal;

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    core = await s3Principal(server, 'core');
    gurukul = await s3Principal(server, 'product', 'gurukul');
  });
  afterAll(async () => server?.dispose());

  it('deletes several keys, each decided alone', async () => {
    for (const name of ['a', 'b']) {
      await core.s3.send(
        new PutObjectCommand({
          Bucket: 'core',
          Key: `basket_config/${name}.json`,
          ...json({ name }),
        }),
      );
    }
    const deleted = await core.s3.send(
      new DeleteObjectsCommand({
        Bucket: 'core',
        Delete: {
          Objects: [
            { Key: 'basket_config/a.json' },
            { Key: 'basket_config/b.json' },
            { Key: 'basket_config/missing.json' },
            { Key: 'agent_spec/x.json' },
          ],
        },
      }),
    );
    expect(deleted.Deleted?.map((d) => [d.Key, d.DeleteMarker])).toEqual([
      ['basket_config/a.json', true],
      ['basket_config/b.json', true],
      ['basket_config/missing.json', undefined],
    ]);
    expect(deleted.Errors).toEqual([
      expect.objectContaining({ Key: 'agent_spec/x.json', Code: 'AccessDenied' }),
    ]);
    await expect(
      core.s3.send(new GetObjectCommand({ Bucket: 'core', Key: 'basket_config/a.json' })),
    ).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('refuses a request body that does not match its signed SHA-256', async () => {
    const body = Buffer.from(
      '<Delete><Object><Key>basket_config/keep.json</Key></Object></Delete>',
    );
    const answer = await sendSigned(server.s3Url ?? '', core.credential, {
      method: 'POST',
      path: '/core',
      query: { delete: '' },
      payload: sha256Hex('<Delete><Object><Key>other</Key></Object></Delete>'),
      body,
    });
    expect(answer.status).toBe(400);
    expect(answer.text).toMatch(/XAmzContentSHA256Mismatch/);
  });

  it('copies within a product as a new version, and refuses a copy from another', async () => {
    await gurukul.s3.send(
      new PutObjectCommand({
        Bucket: 'gurukul',
        Key: 'educational_content/source.md',
        Body: '# lesson',
        ContentType: 'text/markdown',
        Metadata: { level: '1' },
      }),
    );
    const copied = await gurukul.s3.send(
      new CopyObjectCommand({
        Bucket: 'gurukul',
        Key: 'educational_content/copy.md',
        CopySource: 'gurukul/educational_content/source.md',
      }),
    );
    expect(copied.CopyObjectResult?.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    const read = await gurukul.s3.send(
      new GetObjectCommand({ Bucket: 'gurukul', Key: 'educational_content/copy.md' }),
    );
    expect(await read.Body!.transformToString()).toBe('# lesson');
    expect(read.Metadata).toEqual({ level: '1' });
    await expect(
      gurukul.s3.send(
        new CopyObjectCommand({
          Bucket: 'gurukul',
          Key: 'educational_content/stolen.md',
          CopySource: 'ai_avatar/model_checkpoint/x.ckpt',
        }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('reads retention and legal holds as Object Lock', async () => {
    await gurukul.s3.send(
      new PutObjectCommand({ Bucket: 'gurukul', Key: 'user_progress/u1.json', ...json({ n: 1 }) }),
    );
    const progress = await gurukul.s3.send(
      new GetObjectRetentionCommand({ Bucket: 'gurukul', Key: 'user_progress/u1.json' }),
    );
    expect(progress.Retention?.Mode).toBe('GOVERNANCE');
    const until = progress.Retention?.RetainUntilDate?.getTime() ?? 0;
    expect(until).toBeGreaterThan(Date.now() + 364 * 86_400_000);
    const lesson = await gurukul.s3.send(
      new GetObjectRetentionCommand({ Bucket: 'gurukul', Key: 'educational_content/source.md' }),
    );
    expect(lesson.Retention?.Mode).toBe('COMPLIANCE');
    const hold = () =>
      gurukul.s3.send(
        new GetObjectLegalHoldCommand({ Bucket: 'gurukul', Key: 'educational_content/source.md' }),
      );
    expect((await hold()).LegalHold?.Status).toBe('OFF');
    const placed = await client(server.url, server.ownerKey)('POST', '/v1/governance/holds', {
      body: { scope: { product: 'gurukul', prefix: 'source' }, caseRef: 'c-1', reason: 'test' },
    });
    expect(placed.status).toBe(201);
    expect((await hold()).LegalHold?.Status).toBe('ON');
  });
});
