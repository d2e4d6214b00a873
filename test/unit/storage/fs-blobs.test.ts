import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../../src/storage/fs/blobs.js';
import { putBytes, readAll } from '../../helpers/blobs.js';
import { sha256 } from '../../helpers/hash.js';

let root: string;
let store: FileBlobStore;

beforeEach(async () => {
  root = join(await mkdtemp(join(tmpdir(), 'bucket-blobs-')), 'blobs');
  store = new FileBlobStore(root);
  await store.init();
});

afterEach(async () => {
  await store.close();
  await rm(join(root, '..'), { recursive: true, force: true });
});

const put = (bytes: Buffer, chunkSize?: number) => putBytes(store, bytes, chunkSize);

const temporaries = async () => readdir(join(root, 'tmp'));

describe('FileBlobStore', () => {
  it('stores a committed content at its content address, byte for byte', async () => {
    const bytes = randomBytes(300_000);
    const digest = await put(bytes);
    const path = join(root, 'sha256', digest.slice(0, 2), digest.slice(2, 4), digest);
    expect(store.pathOf(digest)).toBe(path);
    expect(sha256(await readFile(path))).toBe(digest);
    expect(await store.exists(digest)).toBe(true);
    expect(sha256(await readAll(await store.read(digest)))).toBe(digest);
    expect(await temporaries()).toEqual([]);
  });

  it('joins stored contents in a worker: the whole hashed as written, committed by a rename', async () => {
    const parts = [randomBytes(3 * 1024 * 1024 + 5), randomBytes(1000), randomBytes(0)];
    const digests = [];
    for (const part of parts) digests.push(await put(part));
    const joined = await store.join(digests);
    const whole = Buffer.concat(parts);
    expect(joined).toMatchObject({ sha256: sha256(whole), size: whole.length });
    if ('mismatch' in joined) throw new Error('joined');
    expect(await store.exists(joined.sha256)).toBe(false);
    await joined.writer.commit(joined.sha256);
    expect((await readAll(await store.read(joined.sha256))).equals(whole)).toBe(true);
    expect(await temporaries()).toEqual([]);
    // An abort leaves nothing; a source changed since it was stored is named, nothing kept.
    const again = await store.join(digests.slice(1));
    if ('mismatch' in again) throw new Error('joined');
    await again.writer.abort();
    await writeFile(store.pathOf(digests[1]!), 'changed');
    expect(await store.join(digests)).toEqual({ mismatch: digests[1] });
    expect(await temporaries()).toEqual([]);
  });

  it('stores an empty content', async () => {
    const digest = await put(Buffer.alloc(0));
    expect(await readAll(await store.read(digest))).toEqual(Buffer.alloc(0));
  });

  it('keeps the bytes in a temporary until commit, and nowhere after an abort', async () => {
    const writer = await store.createWriter();
    await writer.write(Buffer.from('half an upload'));
    expect(await temporaries()).toHaveLength(1);
    expect(await store.exists(sha256(Buffer.from('half an upload')))).toBe(false);
    await writer.abort();
    await writer.abort(); // idempotent
    expect(await temporaries()).toEqual([]);
    expect(await readdir(join(root, 'sha256'))).toEqual([]);
  });

  it('does not let an abort after commit remove the committed content', async () => {
    const writer = await store.createWriter();
    const bytes = Buffer.from('committed');
    await writer.write(bytes);
    await writer.commit(sha256(bytes));
    await writer.abort();
    expect(await store.exists(sha256(bytes))).toBe(true);
  });

  it('refuses a second commit of the same writer', async () => {
    const writer = await store.createWriter();
    await writer.write(Buffer.from('x'));
    await writer.commit(sha256(Buffer.from('x')));
    await expect(writer.commit(sha256(Buffer.from('x')))).rejects.toThrow();
  });

  it('removes its temporary when a commit fails, leaving nothing behind', async () => {
    const writer = await store.createWriter();
    await writer.write(Buffer.from('x'));
    await expect(writer.commit('not-a-digest')).rejects.toThrow();
    expect(await temporaries()).toEqual([]);
    await writer.abort();
  });

  it('stores the same content twice under one address, still intact', async () => {
    const bytes = randomBytes(70_000);
    const [first, second] = await Promise.all([put(bytes), put(bytes, 4096)]);
    expect(first).toBe(second);
    expect(sha256(await readAll(await store.read(first)))).toBe(first);
    expect(await temporaries()).toEqual([]);
  });

  it('removes temporaries left by a previous process on init, keeping committed contents', async () => {
    const kept = await put(Buffer.from('kept'));
    const abandoned = await store.createWriter();
    await abandoned.write(randomBytes(1000));
    await writeFile(join(root, 'tmp', 'left-over'), 'partial upload');
    await mkdir(join(root, 'tmp', 'nested'));
    await writeFile(join(root, 'tmp', 'nested', 'file'), 'x');
    expect((await temporaries()).length).toBe(3);

    const restarted = new FileBlobStore(root);
    await restarted.init();
    expect(await temporaries()).toEqual([]);
    expect(await restarted.exists(kept)).toBe(true);
    expect((await readAll(await restarted.read(kept))).toString()).toBe('kept');
    await abandoned.abort();
  });

  it("keeps a live process's temporaries on init: a worker starting cuts no other's upload", async () => {
    // The parent process (the test runner) stands for another live worker; a finished child's
    // id for a worker that died.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    await writeFile(join(root, 'tmp', `${process.ppid}-in-flight`), 'another worker uploading');
    await writeFile(join(root, 'tmp', `${dead}-abandoned`), 'a dead worker upload');
    const own = await store.createWriter();
    await own.write(Buffer.from('this process, starting again'));
    const restarted = new FileBlobStore(root);
    await restarted.init();
    expect(await temporaries()).toEqual([`${process.ppid}-in-flight`]);
    await own.abort();
  });

  it('reads inclusive byte ranges', async () => {
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const digest = await put(bytes);
    expect(await readAll(await store.read(digest, { start: 0, end: 0 }))).toEqual(
      bytes.subarray(0, 1),
    );
    expect(await readAll(await store.read(digest, { start: 10, end: 19 }))).toEqual(
      bytes.subarray(10, 20),
    );
    expect(await readAll(await store.read(digest, { start: 990, end: 999 }))).toEqual(
      bytes.subarray(990),
    );
  });

  it('rejects reading a content it does not have, before streaming anything', async () => {
    await expect(store.read('0'.repeat(64))).rejects.toThrow();
    expect(await store.exists('0'.repeat(64))).toBe(false);
    expect(() => store.pathOf('../../etc/passwd')).toThrow();
    expect(() => store.pathOf('A'.repeat(64))).toThrow();
  });

  it.each([
    ['3,000 chunks of 1 KiB (more chunks than one write takes)', 3_000 * 1024, 1024],
    ['40 MiB in 64 KiB chunks (background flushes to the disk on the way)', 40 << 20, 64 << 10],
    ['one 5 MiB chunk', 5 << 20, 5 << 20],
    ['chunks of 1 MiB and 1 byte', (1 << 20) + 1, 1 << 20],
  ])('writes %s byte for byte, gathered into larger writes', async (_what, size, chunk) => {
    const bytes = randomBytes(size);
    const digest = await put(bytes, chunk);
    expect(sha256(await readFile(store.pathOf(digest)))).toBe(sha256(bytes));
    expect(await temporaries()).toEqual([]);
  });

  it('reports a failing write at the next write or the commit, and leaves no temporary', async () => {
    for (const failAt of ['write', 'commit'] as const) {
      const writer = await store.createWriter();
      // The file handle fails like a full disk (ENOSPC) from its first write on.
      const file = (writer as unknown as { file: { writev: () => Promise<never> } }).file;
      file.writev = () => Promise.reject(Object.assign(new Error('no space'), { code: 'ENOSPC' }));
      // Gathered, then handed to the file in the background: the failure comes later.
      await writer.write(randomBytes(1 << 20));
      const next =
        failAt === 'write'
          ? writer.write(randomBytes(1 << 20))
          : writer.commit(sha256(Buffer.alloc(0)));
      await expect(next).rejects.toThrow('no space');
      await writer.abort();
      expect(await temporaries()).toEqual([]);
    }
  });

  it('creates its temporaries readable by the owner only', async () => {
    const writer = await store.createWriter();
    const [name] = await temporaries();
    const mode = (await stat(join(root, 'tmp', name ?? ''))).mode & 0o777;
    expect(mode).toBe(0o600);
    await writer.abort();
  });
});
