/**
 * Integrity on read through the S3 door (SPEC §9, §13): a content that no longer hashes to its
 * recorded digest is never served whole. Within one chunk of the file blob store's hashed read, the
 * whole is checked before its first byte: the answer is an S3 error (503 ServiceUnavailable, XML),
 * without the object's headers (ETag, metadata) around it; the Bucket goes read_only.
 */
import { GetObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../helpers/hash.js';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import { client, startTestServer, type InProcessTestServer } from '../../helpers/server.js';

const KEY = 'model_checkpoint/integrity/small.ckpt';
const BODY = Buffer.from(Array.from({ length: 200 * 1024 }, (_, i) => (i * 13) % 251));

describe('S3 reads of a corrupted content', () => {
  let server: InProcessTestServer;
  let avatar: S3Principal;

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    avatar = await s3Principal(server, 'product', 'ai_avatar');
    await avatar.s3.send(
      new PutObjectCommand({ Bucket: 'ai_avatar', Key: KEY, Body: BODY, Metadata: { run: 'r1' } }),
    );
  });
  afterAll(async () => server?.dispose());

  it('answers an S3 error without the object headers, never the bytes, and goes read_only', async () => {
    const flipped = Buffer.from(BODY);
    flipped[777] = (flipped[777] as number) ^ 0xff;
    const writer = await server.bucket.blobs.createWriter();
    await writer.write(flipped);
    await writer.commit(sha256(BODY));

    let received: Buffer | null = null;
    let failure: unknown = null;
    try {
      const got = await avatar.s3.send(new GetObjectCommand({ Bucket: 'ai_avatar', Key: KEY }));
      received = Buffer.from(await got.Body!.transformToByteArray());
    } catch (error) {
      failure = error;
    }
    if (server.backend) {
      // An object store's stream is checked as it passes: cut before its last byte.
      expect(received?.length ?? -1).not.toBe(BODY.length);
    } else {
      expect(failure).toBeInstanceOf(S3ServiceException);
      const answer = failure as S3ServiceException;
      expect(answer.$metadata.httpStatusCode).toBe(503);
      expect(answer.name).toBe('ServiceUnavailable');
      const headers = answer.$response?.headers;
      expect(headers?.['content-type']).toMatch(/application\/xml/);
      // The digest and version of a content that was not sent are not claimed either.
      expect(headers?.['x-bucket-sha256']).toBeUndefined();
      expect(headers?.['x-bucket-version']).toBeUndefined();
      expect(headers?.['etag']).toBeUndefined();
      expect(headers?.['x-amz-meta-run']).toBeUndefined();
    }
    const owner = client(server.url, server.ownerKey);
    let mode = '';
    for (let attempt = 0; attempt < 50 && mode !== 'read_only'; attempt++) {
      mode = (await owner('GET', '/v1/governance/mode')).json.mode;
      if (mode !== 'read_only') await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(mode).toBe('read_only');
  });
});
