/**
 * The S3 door goes through the same gate, limits and modes as the native API (SPEC §13, §9,
 * §2.3): SlowDown with Retry-After on rates, XBucketStorageFull on quotas, ServiceUnavailable in
 * read_only and halted, ListBuckets showing only the key's products, subject-bound contents
 * sealed behind it, and one audit entry per request.
 */
import { GetObjectCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import { sendSigned } from '../../helpers/s3-sign.js';
import { changePolicy } from '../../helpers/limits.js';
import { client, startTestServer, type InProcessTestServer } from '../../helpers/server.js';

const codeOf = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

describe('S3 door governance', () => {
  let server: InProcessTestServer;
  let avatar: S3Principal;
  let owner: ReturnType<typeof client>;

  const changeTo = (change: (document: any) => void) => changePolicy(server, change);
  const put = (name: string, body = 'bytes') =>
    sendSigned(server.s3Url ?? '', avatar.credential, {
      method: 'PUT',
      path: `/ai_avatar/model_checkpoint/${name}`,
      body: Buffer.from(body),
    });

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    owner = client(server.url, server.ownerKey);
    avatar = await s3Principal(server, 'product', 'ai_avatar');
  });
  afterAll(async () => server?.dispose());

  it('lists only the buckets a key may see', async () => {
    const mine = await avatar.s3.send(new ListBucketsCommand({}));
    expect(mine.Buckets?.map((b) => b.Name)).toEqual(['ai_avatar']);
    const theOwner = await s3Principal(server, 'owner');
    const all = await theOwner.s3.send(new ListBucketsCommand({}));
    expect(all.Buckets?.map((b) => b.Name)).toEqual(
      expect.arrayContaining(['ai_assistant', 'ai_avatar', 'core', 'gurukul', 'workflow_engine']),
    );
  });

  it('answers SlowDown with Retry-After when the write rate is spent', async () => {
    await changeTo((document) => (document.limits.writesPerSecond = 1));
    try {
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => put(`rate/${i}.ckpt`)));
      const slowed = answers.filter((answer) => answer.status === 503);
      expect(slowed.length).toBeGreaterThan(0);
      expect(codeOf(slowed[0]!.text)).toBe('SlowDown');
      expect(Number(slowed[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      await changeTo((document) => (document.limits.writesPerSecond = 1000));
    }
  });

  it('answers XBucketStorageFull when the product quota would be exceeded', async () => {
    await changeTo((document) => (document.products.ai_avatar.quotaBytes = 1000));
    try {
      const full = await put('quota.ckpt', 'x'.repeat(5000));
      expect(full.status).toBe(507);
      expect(codeOf(full.text)).toBe('XBucketStorageFull');
    } finally {
      await changeTo((document) => (document.products.ai_avatar.quotaBytes = 300_000_000_000));
    }
  });

  it('answers ServiceUnavailable to writes in read_only and to everything in halted', async () => {
    expect((await put('before.ckpt')).status).toBe(200);
    const setMode = (mode: string) =>
      owner('POST', '/v1/governance/mode', { body: { mode, reason: 'test' } });
    expect((await setMode('read_only')).status).toBe(200);
    try {
      const refused = await put('read-only.ckpt');
      expect(refused.status).toBe(503);
      expect(codeOf(refused.text)).toBe('ServiceUnavailable');
      const read = await avatar.s3.send(
        new GetObjectCommand({ Bucket: 'ai_avatar', Key: 'model_checkpoint/before.ckpt' }),
      );
      expect(await read.Body!.transformToString()).toBe('bytes');
      expect((await setMode('halted')).status).toBe(200);
      await expect(
        avatar.s3.send(
          new GetObjectCommand({ Bucket: 'ai_avatar', Key: 'model_checkpoint/before.ckpt' }),
        ),
      ).rejects.toMatchObject({ name: 'ServiceUnavailable' });
    } finally {
      await setMode('normal');
    }
  });

  it('seals subject-bound contents written through S3, and reads them back', async () => {
    const assistant = await s3Principal(server, 'product', 'ai_assistant');
    await assistant.s3.send(
      new PutObjectCommand({
        Bucket: 'ai_assistant',
        Key: 'metadata/users/u7.json',
        Body: '{"topic":"flights"}',
        ContentType: 'application/json',
        Metadata: { subject: 'user:7' },
      }),
    );
    const version = await server.bucket.metadata.getHead({
      product: 'ai_assistant',
      class: 'metadata',
      name: 'users/u7.json',
    });
    expect(version?.subject).toBe('user:7');
    expect(version?.sealed).toBeDefined();
    const read = await assistant.s3.send(
      new GetObjectCommand({ Bucket: 'ai_assistant', Key: 'metadata/users/u7.json' }),
    );
    expect(await read.Body!.transformToString()).toBe('{"topic":"flights"}');
    expect(read.Metadata).toEqual({ subject: 'user:7' });
  });

  it('records one audit entry per S3 request', async () => {
    const answer = await sendSigned(server.s3Url ?? '', avatar.credential, {
      method: 'HEAD',
      path: '/ai_avatar',
    });
    expect(answer.status).toBe(200);
    const requestId = answer.headers.get('x-amz-request-id');
    expect(requestId).toBeTruthy();
    // The request's own entries, by its id: an earlier test's entry committed meanwhile is not it.
    const entries = (
      await owner('GET', `/v1/audit/entries?principal=${avatar.key.id}&limit=1000`)
    ).json.entries.filter(
      (found: { entry: { requestId: string } }) => found.entry.requestId === requestId,
    );
    expect(entries).toHaveLength(1);
  });

  it('sheds S3 requests with SlowDown while the event-loop delay is over its limit', async () => {
    let delayMs = 0;
    const late = await startTestServer({
      env: S3_ENV,
      bucket: { eventLoopDelayMs: () => delayMs },
    });
    try {
      const principal = await s3Principal(late, 'product', 'ai_avatar');
      const list = () =>
        sendSigned(late.s3Url ?? '', principal.credential, { method: 'GET', path: '/ai_avatar' });
      expect((await list()).status).toBe(200);
      delayMs = 500;
      const shed = await list();
      expect(shed.status).toBe(503);
      expect(codeOf(shed.text)).toBe('SlowDown');
      expect(shed.headers.get('retry-after')).toBe('1');
    } finally {
      await late.dispose();
    }
  });
});
