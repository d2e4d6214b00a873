/**
 * The content of a completed S3 multipart upload (decision record 0064): read back whole and by
 * ranges across its parts' boundaries through both doors, its parts' own blobs gone, scrubbed
 * clean, the same bytes completed again from one part; on the embedded store it is kept as links
 * to the parts' files, and a part's file changed on disk afterwards is an integrity failure of the
 * content, found by the scrub and the read, as is one that lost a link (a Range read too).
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../../src/storage/fs/blobs.js';
import { scrubToEnd } from '../../helpers/certification.js';
import { sha256 } from '../../helpers/hash.js';
import { s3Principal, S3_ENV, type S3Principal } from '../../helpers/s3-door.js';
import { uploadInParts as uploadAll } from '../../helpers/s3-multipart.js';
import { startTestServer, type InProcessTestServer } from '../../helpers/server.js';

const MiB = 1024 * 1024;
const KEY = 'model_checkpoint/joined/v1.ckpt';
const PARTS = [randomBytes(5 * MiB), randomBytes(5 * MiB + 17), randomBytes(1000)];
const WHOLE = Buffer.concat(PARTS);

describe('S3 multipart content', () => {
  let server: InProcessTestServer;
  let avatar: S3Principal;

  /** Uploads `parts` to `key` as one multipart upload, and completes it. */
  const uploadInParts = (key: string, parts: readonly Buffer[]) =>
    uploadAll(avatar.s3, { Bucket: 'ai_avatar', Key: key }, parts);

  beforeAll(async () => {
    server = await startTestServer({ env: S3_ENV });
    avatar = await s3Principal(server, 'product', 'ai_avatar');
    await uploadInParts(KEY, PARTS);
  });
  afterAll(async () => server?.dispose());

  const read = async (range?: string, key = KEY) => {
    const got = await avatar.s3.send(
      new GetObjectCommand({ Bucket: 'ai_avatar', Key: key, Range: range }),
    );
    return Buffer.from(await got.Body!.transformToByteArray());
  };

  it('reads back whole and by ranges across part boundaries, through both doors', async () => {
    expect((await read()).equals(WHOLE)).toBe(true);
    const first = PARTS[0]!.length;
    const second = first + PARTS[1]!.length;
    for (const [start, end] of [
      [first - 10, first + 9],
      [first - 1, second],
      [second - 5, WHOLE.length - 1],
      [0, WHOLE.length - 1],
    ] as const) {
      const bytes = await read(`bytes=${start}-${end}`);
      expect(bytes.equals(WHOLE.subarray(start, end + 1)), `${start}-${end}`).toBe(true);
      const native = await fetch(`${server.url}/v1/artifacts/ai_avatar/${KEY}`, {
        headers: { authorization: `Bearer ${avatar.key.key}`, range: `bytes=${start}-${end}` },
      });
      expect(native.status).toBe(206);
      expect(Buffer.from(await native.arrayBuffer()).equals(WHOLE.subarray(start, end + 1))).toBe(
        true,
      );
    }
    // The parts' own blobs are gone; the content stands alone.
    for (const part of PARTS) expect(await server.bucket.blobs.exists(sha256(part))).toBe(false);
    expect(await server.bucket.blobs.exists(sha256(WHOLE))).toBe(true);
  });

  it('completes an upload whose one part holds the same bytes as that content', async () => {
    // The part is stored at the content's address (kept as its parts, on the embedded store).
    const copy = 'model_checkpoint/joined/copy.ckpt';
    await uploadInParts(copy, [WHOLE]);
    expect((await read(undefined, copy)).equals(WHOLE)).toBe(true);
    const first = PARTS[0]!.length;
    expect(
      (await read(`bytes=${first - 3}-${first + 2}`, copy)).equals(
        WHOLE.subarray(first - 3, first + 3),
      ),
    ).toBe(true);
    expect((await read()).equals(WHOLE)).toBe(true);
  });

  it('passes a scrub, which reads it whole against its SHA-256', async () => {
    expect(await scrubToEnd(server)).toBe('passed');
  });

  it('is an integrity failure once a part file changed on disk (embedded store)', async () => {
    const blobs = server.bucket.blobs;
    if (!(blobs instanceof FileBlobStore)) return; // an object store keeps it as one object
    const dir = blobs.pathOf(sha256(WHOLE));
    const names = PARTS.map((part, i) => `0000${i + 1}-${part.length}`);
    expect((await readdir(dir)).sort()).toEqual(names);
    const changed = Buffer.from(PARTS[1]!);
    changed[4242] = (changed[4242] as number) ^ 0xff;
    await writeFile(join(dir, names[1]!), changed);
    expect(await scrubToEnd(server)).toBe('failed');
    // Past the first chunk of the read: the answer is cut before its last byte, never whole.
    await expect(read()).rejects.toThrow();
  });

  it('answers a read of it with a link missing as an integrity failure (embedded store)', async () => {
    const blobs = server.bucket.blobs;
    if (!(blobs instanceof FileBlobStore)) return; // an object store keeps it as one object
    const dir = blobs.pathOf(sha256(WHOLE));
    await rm(join(dir, `00002-${PARTS[1]!.length}`));
    // A range of the first part: its bytes are there, but the content is not whole.
    await expect(read('bytes=0-99')).rejects.toMatchObject({
      name: 'ServiceUnavailable',
      $metadata: { httpStatusCode: 503 },
    });
    const native = await fetch(`${server.url}/v1/artifacts/ai_avatar/${KEY}`, {
      headers: { authorization: `Bearer ${avatar.key.key}`, range: 'bytes=0-99' },
    });
    expect(native.status).toBe(503);
    expect(((await native.json()) as { error: { code: string } }).error.code).toBe(
      'integrity_failure',
    );
    // None left: a whole read is refused before a byte too.
    for (const name of await readdir(dir)) await rm(join(dir, name));
    await expect(read()).rejects.toMatchObject({ name: 'ServiceUnavailable' });
  });
});
