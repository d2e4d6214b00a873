/**
 * The S3 ETag of a version is committed with the version (SPEC §13, decision record 0052): at the
 * moment the version's commit returns — when a crash of the process would leave exactly what is
 * stored — its MD5 ETag (or md5-of-md5s for a multipart upload) is stored too, for PutObject,
 * CopyObject and CompleteMultipartUpload alike, on both backends.
 */
import { CopyObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VersionCommit } from '../../../src/storage/ports.js';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import { uploadInParts } from '../../helpers/s3-multipart.js';
import { startTestServer, type InProcessTestServer } from '../../helpers/server.js';

const md5 = (bytes: Buffer | string) => createHash('md5').update(bytes).digest('hex');

describe('S3 ETags committed with their versions', () => {
  let server: InProcessTestServer;
  let avatar: S3Principal;
  /** The ETag stored for each version the moment its commit returned. */
  const atCommit = new Map<string, string | null>();

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    avatar = await s3Principal(server, 'product', 'ai_avatar');
    const { metadata } = server.bucket;
    const commit = metadata.commitVersion.bind(metadata);
    metadata.commitVersion = async (version: VersionCommit) => {
      const result = await commit(version);
      const { class: klass, name, version: number } = version.version;
      atCommit.set(`${klass}/${name}@${number}`, await metadata.getS3Etag(version.version));
      return result;
    };
  });
  afterAll(async () => server?.dispose());

  it('stores the MD5 ETag of a PutObject and of a CopyObject in their commits', async () => {
    const body = Buffer.from('weights '.repeat(500));
    const put = await avatar.s3.send(
      new PutObjectCommand({ Bucket: 'ai_avatar', Key: 'model_checkpoint/e/put.ckpt', Body: body }),
    );
    expect(put.ETag).toBe(`"${md5(body)}"`);
    expect(atCommit.get('model_checkpoint/e/put.ckpt@1')).toBe(put.ETag);
    const copied = await avatar.s3.send(
      new CopyObjectCommand({
        Bucket: 'ai_avatar',
        Key: 'model_checkpoint/e/copy.ckpt',
        CopySource: '/ai_avatar/model_checkpoint/e/put.ckpt',
      }),
    );
    expect(copied.CopyObjectResult?.ETag).toBe(put.ETag);
    expect(atCommit.get('model_checkpoint/e/copy.ckpt@1')).toBe(put.ETag);
  });

  it('stores the md5-of-md5s ETag of a multipart upload in its commit', async () => {
    const key = 'model_checkpoint/e/multi.ckpt';
    const parts = [Buffer.alloc(5 * 1024 * 1024, 1), Buffer.from('end')];
    const done = await uploadInParts(avatar.s3, { Bucket: 'ai_avatar', Key: key }, parts);
    const digests = Buffer.concat(parts.map((part) => Buffer.from(md5(part), 'hex')));
    expect(done.ETag).toBe(`"${md5(digests)}-2"`);
    expect(atCommit.get(`${key}@1`)).toBe(done.ETag);
  });
});

describe('S3 ETags read back', () => {
  it('answers each Bucket its own ETag, read after read, for the same key and version', async () => {
    // Two Buckets in one process with the same object (version 1) of different contents: the
    // ETags a GET or HEAD reads once and keeps (src/s3/context.ts) are kept per Bucket.
    const servers = await Promise.all([1, 2].map(() => startTestServer({ env: S3_ENV })));
    try {
      const key = 'model_checkpoint/e/same-name.ckpt';
      for (const [index, server] of servers.entries()) {
        const avatar = await s3Principal(server, 'product', 'ai_avatar');
        const body = Buffer.from(`contents of Bucket ${index}`);
        await avatar.s3.send(new PutObjectCommand({ Bucket: 'ai_avatar', Key: key, Body: body }));
        for (let read = 0; read < 2; read++) {
          const head = await avatar.s3.send(
            new HeadObjectCommand({ Bucket: 'ai_avatar', Key: key }),
          );
          expect(head.ETag).toBe(`"${md5(body)}"`);
          expect(head.VersionId).toBe('1');
        }
      }
    } finally {
      await Promise.all(servers.map((server) => server.dispose()));
    }
  });
});
