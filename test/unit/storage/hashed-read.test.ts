/**
 * Whole blob reads hashed off the event loop (storage/fs/hashed-read.ts): the stream gives every
 * byte of the file and the digest is the SHA-256 of exactly those bytes; a missing content is
 * refused before any stream exists; a read stopped midway closes its files in the worker; many
 * reads at once each get their own bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../../src/storage/fs/blobs.js';
import { hashingReader } from '../../../src/storage/fs/hashed-read.js';
import { sha256 } from '../../helpers/hash.js';

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Open descriptors of this process pointing into `dir`. */
async function openIn(dir: string): Promise<number> {
  const { readlink } = await import('node:fs/promises');
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.startsWith(dir)) count += 1;
  }
  return count;
}

describe('whole reads hashed in a worker', () => {
  let dir: string;
  let store: FileBlobStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bucket-hashed-'));
    store = new FileBlobStore(dir);
    await store.init();
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function stored(bytes: Buffer): Promise<string> {
    const digest = sha256(bytes);
    const writer = await store.createWriter();
    await writer.write(bytes);
    await writer.commit(digest);
    return digest;
  }

  it('streams every byte, and the digest of exactly those bytes', async () => {
    for (const size of [0, 1, 256 * 1024, 256 * 1024 + 1, 3 * 1024 * 1024 + 17]) {
      const bytes = randomBytes(size);
      const digest = await stored(bytes);
      const read = await store.readHashed(digest);
      const got = await collect(read.stream);
      expect(got.equals(bytes), `size ${size}`).toBe(true);
      expect(await read.digest).toBe(digest);
    }
  });

  it('hashes what it read, not what the name says: a changed file answers its own digest', async () => {
    const bytes = randomBytes(600 * 1024);
    const path = join(dir, 'changed.bin');
    await writeFile(path, bytes);
    bytes.writeUInt8(bytes.readUInt8(300_000) ^ 0xff, 300_000);
    const read = hashingReader.read([path]);
    const got = await collect(read.stream);
    expect(await read.digest).toBe(createHash('sha256').update(got).digest('hex'));
    expect(await read.digest).not.toBe(sha256(bytes));
  });

  it('refuses a missing content before there is a stream', async () => {
    await expect(store.readHashed('0'.repeat(64))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('closes the file in the worker when the read is stopped midway', async () => {
    const digest = await stored(randomBytes(8 * 1024 * 1024));
    const read = await store.readHashed(digest);
    const first = await new Promise<Buffer>((resolve) => read.stream.once('data', resolve));
    expect(first.length).toBeGreaterThan(0);
    read.stream.destroy();
    await expect(read.digest).rejects.toThrow();
    for (let attempt = 0; attempt < 100 && (await openIn(dir)) > 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await openIn(dir)).toBe(0);
  });

  it('closes every file when a read of many files is stopped between two of them', async () => {
    const big = join(dir, 'big.bin');
    const empty = join(dir, 'empty.bin');
    await writeFile(big, randomBytes(100_000));
    await writeFile(empty, '');
    // Past the first chunk, the worker goes from file to file (a composite of empty parts): a
    // stop lands while it closes one and opens the next (in some of the rounds: many of them).
    for (let round = 0; round < 40; round++) {
      const read = hashingReader.read([big, ...Array<string>(20_000).fill(empty), big]);
      await new Promise((resolve) => read.stream.once('data', resolve));
      read.stream.destroy();
      await expect(read.digest).rejects.toThrow();
    }
    for (let attempt = 0; attempt < 100 && (await openIn(dir)) > 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await openIn(dir)).toBe(0);
  });

  it('finishes a long read taken slowly, holding only a few chunks ahead of its consumer', async () => {
    const bytes = randomBytes(24 * 1024 * 1024 + 3);
    const digest = await stored(bytes);
    const read = await store.readHashed(digest);
    const chunks: Buffer[] = [];
    let mostBuffered = 0;
    for await (const chunk of read.stream) {
      chunks.push(chunk as Buffer);
      mostBuffered = Math.max(mostBuffered, read.stream.readableLength);
      // A slow client: the worker must wait for it, and must carry on once it asks again.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    expect(await read.digest).toBe(digest);
    // Never the whole file in memory: at most the worker's window of 1 MiB chunks.
    expect(mostBuffered).toBeLessThanOrEqual(5 * 1024 * 1024);
  });

  it('refills its whole window of chunks once a paused consumer has taken them', async () => {
    const MiB = 1024 * 1024;
    const digest = await stored(randomBytes(24 * MiB));
    const read = await store.readHashed(digest);
    const buffered = async (bytes: number) => {
      for (let attempt = 0; attempt < 200; attempt++) {
        if (read.stream.readableLength >= bytes) return true;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return false;
    };
    // Nobody reads: the worker sends its window (4 chunks of 1 MiB), then waits.
    expect(await buffered(4 * MiB)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(read.stream.readableLength).toBe(4 * MiB);
    // Taken all at once: every chunk is acknowledged, and the whole window comes again.
    while (read.stream.read() !== null);
    expect(await buffered(4 * MiB)).toBe(true);
    read.stream.destroy();
    await read.digest.catch(() => undefined);
  });

  it('keeps many reads at once apart', async () => {
    const contents = Array.from({ length: 12 }, (_, i) => randomBytes(200 * 1024 + i * 4099));
    const digests = await Promise.all(contents.map(stored));
    const reads = await Promise.all(digests.map((digest) => store.readHashed(digest)));
    const got = await Promise.all(reads.map((read) => collect(read.stream)));
    got.forEach((bytes, i) => expect(bytes.equals(contents[i] as Buffer)).toBe(true));
    expect(await Promise.all(reads.map((read) => read.digest))).toEqual(digests);
  });
});
