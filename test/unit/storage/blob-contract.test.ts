/** The BlobStore port's contract, held by the embedded file store and the S3 store (s3rver). */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../../src/storage/fs/blobs.js';
import type { BlobStore } from '../../../src/storage/ports.js';
import { S3BlobStore, STALE_TEMPORARY_MS } from '../../../src/storage/s3/blobs.js';
import { parseS3Url } from '../../../src/storage/s3/url.js';
import { startS3, type TestS3 } from '../../helpers/s3.js';
import { putBytes as put, readAll } from '../../helpers/blobs.js';
import { sha256 } from '../../helpers/hash.js';

/**
 * A full collection, so that RSS samples measure what is live, not what the collector has yet to
 * reclaim (it runs lazily, later still when other test files keep the machine busy).
 */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** One adapter under test, with the test's view of its temporaries. */
interface Subject {
  readonly store: BlobStore;
  temporaries(): Promise<number>;
  /** Leaves a temporary as an interrupted process would. */
  leaveTemporary(): Promise<void>;
  /** The same storage opened by a process started `laterMs` from now. */
  reopen(laterMs: number): BlobStore;
  /** Whether init keeps temporaries younger than an hour (other nodes may be uploading them). */
  readonly keepsYoungTemporaries: boolean;
  dispose(): Promise<void>;
}

async function fileSubject(): Promise<Subject> {
  const root = join(await mkdtemp(join(tmpdir(), 'bucket-blob-contract-')), 'blobs');
  const store = new FileBlobStore(root);
  await store.init();
  return {
    store,
    temporaries: () => store.temporaries(),
    async leaveTemporary() {
      await writeFile(
        join(root, 'tmp', `left-${randomBytes(4).toString('hex')}`),
        'partial upload',
      );
    },
    reopen: () => new FileBlobStore(root),
    keepsYoungTemporaries: false,
    dispose: () => rm(join(root, '..'), { recursive: true, force: true }),
  };
}

let s3: TestS3;

async function s3Subject(): Promise<Subject> {
  const store = S3BlobStore.fromUrl(s3.url);
  await store.init();
  return {
    store,
    temporaries: async () => (await store.temporaries()).length,
    async leaveTemporary() {
      await store.client.send(
        new PutObjectCommand({
          Bucket: store.bucket,
          Key: `tmp/left-${randomBytes(4).toString('hex')}`,
          Body: 'partial upload',
        }),
      );
    },
    reopen: (laterMs) => S3BlobStore.fromUrl(s3.url, { now: () => Date.now() + laterMs }),
    keepsYoungTemporaries: true,
    async dispose() {
      await store.init(); // nothing of this test may survive it
      await store.close();
    },
  };
}

beforeAll(async () => {
  s3 = await startS3();
});

afterAll(async () => {
  await s3?.stop();
});

describe.each([
  { name: 'FileBlobStore', create: fileSubject },
  { name: 'S3BlobStore', create: s3Subject },
])('BlobStore contract: $name', ({ create }) => {
  const withSubject = (test: (subject: Subject) => Promise<void>) => async () => {
    const subject = await create();
    try {
      await test(subject);
    } finally {
      await subject.store.close();
      await subject.dispose();
    }
  };

  it(
    'round-trips contents of several sizes, byte for byte, leaving no temporary',
    withSubject(async ({ store, temporaries }) => {
      for (const bytes of [Buffer.alloc(0), randomBytes(1000), randomBytes(6 * 1024 * 1024 + 7)]) {
        const digest = await put(store, bytes);
        expect(await store.exists(digest)).toBe(true);
        expect((await readAll(await store.read(digest))).equals(bytes)).toBe(true);
      }
      expect(await temporaries()).toBe(0);
    }),
  );

  it(
    'lists stored contents by age, and removes one only while it is still older than a time',
    withSubject(async ({ store }) => {
      const bytes = randomBytes(2000);
      const digest = await put(store, bytes);
      const listed = async (before: number) => {
        const found: string[] = [];
        for await (const content of store.contentsBefore(before)) found.push(content.sha256);
        return found;
      };
      // Written just now: not before an hour ago, but before a second from now.
      expect(await listed(Date.now() - 3_600_000)).not.toContain(digest);
      expect(await listed(Date.now() + 1_000)).toContain(digest);
      expect(await store.removeIfOlder(digest, Date.now() - 3_600_000)).toBe(false);
      expect(await store.exists(digest)).toBe(true);
      expect(await store.removeIfOlder(digest, Date.now() + 1_000)).toBe(true);
      expect(await store.exists(digest)).toBe(false);
      expect(await store.removeIfOlder(digest, Date.now() + 1_000)).toBe(false);
      expect(await listed(Date.now() + 1_000)).not.toContain(digest);
    }),
  );

  it(
    'reads inclusive byte ranges',
    withSubject(async ({ store }) => {
      const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
      const digest = await put(store, bytes);
      for (const [start, end] of [
        [0, 0],
        [10, 19],
        [990, 999],
      ] as const) {
        expect(await readAll(await store.read(digest, { start, end }))).toEqual(
          bytes.subarray(start, end + 1),
        );
      }
    }),
  );

  it(
    'rejects reading a content it does not have, and says it does not exist',
    withSubject(async ({ store }) => {
      await expect(store.read('0'.repeat(64))).rejects.toThrow();
      expect(await store.exists('0'.repeat(64))).toBe(false);
      await expect(store.read('../../etc/passwd')).rejects.toThrow();
    }),
  );

  it(
    'leaves nothing after an abort: no temporary, no addressable content',
    withSubject(async ({ store, temporaries }) => {
      const bytes = randomBytes(6 * 1024 * 1024); // past one S3 part: a multipart upload
      const writer = await store.createWriter();
      await writer.write(bytes);
      await writer.abort();
      await writer.abort(); // idempotent
      expect(await temporaries()).toBe(0);
      expect(await store.exists(sha256(bytes))).toBe(false);
      await expect(writer.write(Buffer.from('more'))).rejects.toThrow();
    }),
  );

  it(
    'leaves nothing after a failed commit, and an abort after it is safe',
    withSubject(async ({ store, temporaries }) => {
      const writer = await store.createWriter();
      await writer.write(Buffer.from('x'));
      await expect(writer.commit('not-a-digest')).rejects.toThrow();
      await writer.abort();
      expect(await temporaries()).toBe(0);
    }),
  );

  it(
    'commits a content that already exists, keeping it intact; an abort after commit keeps it',
    withSubject(async ({ store, temporaries }) => {
      const bytes = randomBytes(70_000);
      const first = await put(store, bytes);
      const writer = await store.createWriter();
      await writer.write(bytes);
      await writer.commit(first);
      await writer.abort();
      await expect(writer.commit(first)).rejects.toThrow();
      const [a, b] = await Promise.all([put(store, bytes), put(store, bytes, 4096)]);
      expect(a).toBe(first);
      expect(b).toBe(first);
      expect(sha256(await readAll(await store.read(first)))).toBe(first);
      expect(await temporaries()).toBe(0);
    }),
  );

  it(
    'removes on init the temporaries an interrupted process left, keeping committed contents',
    withSubject(async ({ store, temporaries, leaveTemporary, reopen, keepsYoungTemporaries }) => {
      const kept = await put(store, Buffer.from('kept'));
      await leaveTemporary();
      const abandoned = await store.createWriter();
      await abandoned.write(randomBytes(1000));
      await leaveTemporary();
      expect(await temporaries()).toBe(keepsYoungTemporaries ? 2 : 3);

      const restarted = reopen(0);
      await restarted.init();
      // Young temporaries may be uploads another node is still making.
      expect(await temporaries()).toBe(keepsYoungTemporaries ? 2 : 0);
      await restarted.close();

      const muchLater = reopen(2 * STALE_TEMPORARY_MS);
      await muchLater.init();
      expect(await temporaries()).toBe(0);
      expect((await readAll(await muchLater.read(kept))).toString()).toBe('kept');
      await muchLater.close();
      await abandoned.abort();
    }),
  );
});

describe('S3BlobStore', () => {
  it('streams a 64 MB write in bounded memory', async () => {
    const store = S3BlobStore.fromUrl(s3.url);
    await store.init();
    const block = randomBytes(1024 * 1024);
    /** Writes `mebibytes` MiB in 64 KiB chunks; the peak RSS growth over the write. */
    const write = async (mebibytes: number) => {
      const hash = createHash('sha256');
      collectGarbage();
      const before = process.memoryUsage.rss();
      let peak = before;
      const sampler = setInterval(() => {
        collectGarbage();
        peak = Math.max(peak, process.memoryUsage.rss());
      }, 20);
      try {
        const writer = await store.createWriter();
        for (let i = 0; i < mebibytes * 16; i++) {
          const chunk = block.subarray((i % 16) * 65536, ((i % 16) + 1) * 65536);
          hash.update(chunk);
          await writer.write(chunk);
        }
        const digest = hash.digest('hex');
        await writer.commit(digest);
        return { digest, growth: Math.max(peak, process.memoryUsage.rss()) - before };
      } finally {
        clearInterval(sampler);
      }
    };
    try {
      await write(12); // loads and warms the upload path, so that the measure is of the body only
      const { digest, growth } = await write(64);
      // About 25–30 MB measured: parts of 5 MiB (one being filled, its copy, two in flight) and
      // what the allocator keeps; a buffered body would grow the process by its 64 MB at least.
      expect(growth).toBeLessThan(40 * 1024 * 1024);
      const check = createHash('sha256');
      let length = 0;
      for await (const chunk of await store.read(digest)) {
        check.update(chunk as Buffer);
        length += (chunk as Buffer).length;
      }
      expect(length).toBe(64 * 1024 * 1024);
      expect(check.digest('hex')).toBe(digest);
    } finally {
      await store.close();
    }
  });

  it('refuses to start on a bucket that does not exist, naming it and the endpoint', async () => {
    const { endpoint } = parseS3Url(s3.url);
    const store = S3BlobStore.fromUrl(
      `s3://no-such-bucket-here?endpoint=${endpoint}&region=us-east-1&forcePathStyle=true`,
    );
    await expect(store.init()).rejects.toThrow(
      new RegExp(`"no-such-bucket-here".*${endpoint!.replace(/\./g, '\\.')}`),
    );
    await store.close();
  });

  it('keeps every key under the prefix of its URL', async () => {
    const store = S3BlobStore.fromUrl(`${s3.url}&prefix=node-a`);
    await store.init();
    const digest = await put(store, Buffer.from('prefixed'));
    expect(store.keyOf(digest)).toBe(
      `node-a/sha256/${digest.slice(0, 2)}/${digest.slice(2, 4)}/${digest}`,
    );
    expect(await store.exists(digest)).toBe(true);
    const unprefixed = S3BlobStore.fromUrl(s3.url);
    expect(await unprefixed.exists(digest)).toBe(false);
    await unprefixed.close();
    await store.close();
  });

  it('parses the pinned URL form and refuses what it does not know', () => {
    expect(
      parseS3Url(
        's3://my-bucket?endpoint=http://127.0.0.1:9000&region=eu-west-1&forcePathStyle=true',
      ),
    ).toEqual({
      bucket: 'my-bucket',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
      prefix: '',
    });
    expect(parseS3Url('s3://my-bucket?prefix=a/b').prefix).toBe('a/b/');
    expect(() => parseS3Url('http://my-bucket')).toThrow(/s3:/);
    expect(() => parseS3Url('s3://AKIA:secret@my-bucket')).toThrow(/credentials/);
    expect(() => parseS3Url('s3://my-bucket?endpoint=x&bogus=1')).toThrow(/bogus/);
    expect(() => parseS3Url('s3://ab')).toThrow(/bucket/);
  });
});
