import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ContentDamagedError } from '../../../src/storage/errors.js';
import { FileBlobStore } from '../../../src/storage/fs/blobs.js';
import type { BlobStore } from '../../../src/storage/ports.js';
import { putBytes, readAll } from '../../helpers/blobs.js';
import { sha256 } from '../../helpers/hash.js';

/** Set by a test to make hard links fail as on a file system without them. */
const refuseLinks = vi.hoisted(() => ({ code: null as string | null }));
vi.mock('node:fs/promises', async (original) => {
  const real = await original<typeof import('node:fs/promises')>();
  return {
    ...real,
    link: (from: string, to: string) =>
      refuseLinks.code
        ? Promise.reject(Object.assign(new Error('no links here'), { code: refuseLinks.code }))
        : real.link(from, to),
  };
});

let root: string;
let store: FileBlobStore;

beforeEach(async () => {
  refuseLinks.code = null;
  root = join(await mkdtemp(join(tmpdir(), 'bucket-composite-')), 'blobs');
  store = new FileBlobStore(root);
  await store.init();
});

afterEach(async () => {
  await store.close();
  await rm(join(root, '..'), { recursive: true, force: true });
});

const temporaries = () => readdir(join(root, 'tmp'));

/** Stores `parts` and joins them; answers the joined content's address and its bytes. */
async function joined(parts: readonly Buffer[]): Promise<{ digest: string; whole: Buffer }> {
  const digests: string[] = [];
  for (const part of parts) digests.push(await putBytes(store, part));
  const outcome = await store.join(digests);
  if ('mismatch' in outcome) throw new Error(`mismatch ${outcome.mismatch}`);
  await outcome.writer.commit(outcome.sha256);
  const whole = Buffer.concat(parts);
  expect(outcome).toMatchObject({ sha256: sha256(whole), size: whole.length });
  return { digest: outcome.sha256, whole };
}

async function hashedDigest(blobs: BlobStore, digest: string): Promise<string> {
  const read = await blobs.readHashed!(digest);
  await readAll(read.stream);
  return read.digest;
}

describe('FileBlobStore: joined contents kept as their parts', () => {
  it('keeps a joined content as links to its parts: no byte written again', async () => {
    const parts = [randomBytes(5 * 1024 * 1024 + 3), randomBytes(70_000), randomBytes(1)];
    const { digest, whole } = await joined(parts);
    const path = store.pathOf(digest);
    expect((await stat(path)).isDirectory()).toBe(true);
    // The content's files are the parts' files (one inode each), not copies of them.
    const linked = (await readdir(path)).sort();
    // Named by place and size: a range finds its files from the listing alone.
    expect(linked).toEqual([`00001-${5 * 1024 * 1024 + 3}`, '00002-70000', '00003-1']);
    const first = await stat(join(path, linked[0]!));
    expect(first.ino).toBe((await stat(store.pathOf(sha256(parts[0]!)))).ino);
    expect((await readAll(await store.read(digest))).equals(whole)).toBe(true);
    expect(await hashedDigest(store, digest)).toBe(digest);
    expect(await temporaries()).toEqual([]);
  });

  it('syncs the links before the commit renames them, and the rename before it resolves', async () => {
    const parts = [randomBytes(60_000), randomBytes(60_000)];
    const digests = [await putBytes(store, parts[0]!), await putBytes(store, parts[1]!)];
    const synced: string[] = [];
    const sync = store.syncDirectory.bind(store);
    vi.spyOn(store, 'syncDirectory').mockImplementation(async (path) => {
      synced.push(path);
      await sync(path);
    });
    const outcome = await store.join(digests);
    if ('mismatch' in outcome) throw new Error('mismatch');
    const [temporary] = await temporaries();
    expect(synced).toEqual([join(root, 'tmp', temporary!)]);
    await outcome.writer.commit(outcome.sha256);
    expect(synced.at(-1)).toBe(join(store.pathOf(outcome.sha256), '..'));
  });

  it('reads ranges within a part and across part boundaries', async () => {
    const parts = [randomBytes(100_000), randomBytes(50_000), randomBytes(30_000)];
    const { digest, whole } = await joined(parts);
    for (const [start, end] of [
      [0, 0],
      [99_990, 100_009], // across the first boundary
      [99_999, 150_000], // the last byte of the first part to the first of the third
      [120_000, 129_999], // inside the second part only
      [0, whole.length - 1],
      [whole.length - 1, whole.length - 1],
    ] as const) {
      const bytes = await readAll(await store.read(digest, { start, end }));
      expect(bytes.equals(whole.subarray(start, end + 1))).toBe(true);
    }
  });

  it('stays whole when its parts are removed, until it is removed itself', async () => {
    const parts = [randomBytes(200_000), randomBytes(10)];
    const { digest, whole } = await joined(parts);
    for (const part of parts) {
      expect(await store.removeIfOlder(sha256(part), Date.now() + 60_000)).toBe(true);
    }
    expect((await readAll(await store.read(digest))).equals(whole)).toBe(true);
    expect(await hashedDigest(store, digest)).toBe(digest);
    const listed = [];
    for await (const content of store.contentsBefore(Date.now() + 60_000)) listed.push(content);
    expect(listed.map((content) => content.sha256)).toEqual([digest]);
    expect(await store.removeIfOlder(digest, Date.now() + 60_000)).toBe(true);
    expect(await store.exists(digest)).toBe(false);
  });

  it('shows a part changed on disk since the join as a content that no longer hashes', async () => {
    const parts = [randomBytes(100_000), randomBytes(100_000)];
    const { digest } = await joined(parts);
    // Bit rot in a part's file (its inode is the content's too): integrity on read names it.
    await writeFile(store.pathOf(sha256(parts[1]!)), randomBytes(100_000));
    expect(await hashedDigest(store, digest)).not.toBe(digest);
  });

  it('stores the same content as a file and as a composite, whichever comes first', async () => {
    const parts = [randomBytes(80_000), randomBytes(80_000)];
    const whole = Buffer.concat(parts);
    // A file first: the composite's commit keeps it and drops its own links.
    const digest = await putBytes(store, whole);
    await joined(parts);
    expect((await stat(store.pathOf(digest))).isFile()).toBe(true);
    expect((await readAll(await store.read(digest))).equals(whole)).toBe(true);
    // A composite first: a write of the same bytes keeps it.
    await store.removeIfOlder(digest, Date.now() + 60_000);
    await joined(parts);
    await joined(parts);
    expect(await putBytes(store, whole)).toBe(digest);
    expect((await stat(store.pathOf(digest))).isDirectory()).toBe(true);
    expect(await hashedDigest(store, digest)).toBe(digest);
    expect(await temporaries()).toEqual([]);
  });

  it('writes the joined bytes into a new file where the file system refuses hard links', async () => {
    refuseLinks.code = 'EXDEV';
    const parts = [randomBytes(90_000), randomBytes(90_000)];
    const { digest, whole } = await joined(parts);
    expect((await stat(store.pathOf(digest))).isFile()).toBe(true);
    expect((await readAll(await store.read(digest))).equals(whole)).toBe(true);
    expect(await temporaries()).toEqual([]);
  });

  it('refuses a join from a part changed since it was stored, keeping nothing', async () => {
    const parts = [randomBytes(50_000), randomBytes(50_000)];
    const digests = [await putBytes(store, parts[0]!), await putBytes(store, parts[1]!)];
    await writeFile(store.pathOf(digests[0]!), 'changed');
    expect(await store.join(digests)).toEqual({ mismatch: digests[0] });
    expect(await temporaries()).toEqual([]);
    expect(await store.exists(sha256(Buffer.concat(parts)))).toBe(false);
  });

  it('joins a source kept as its parts from its files, in order, numbered on', async () => {
    for (const refused of [null, 'EPERM']) {
      refuseLinks.code = null;
      const inner = [randomBytes(70_000), randomBytes(20_000)];
      const { digest: composite, whole: middle } = await joined(inner);
      const first = randomBytes(30_000);
      const last = randomBytes(5);
      // A part whose bytes equal a stored composite: its address is that directory.
      expect(await putBytes(store, middle)).toBe(composite);
      expect((await stat(store.pathOf(composite))).isDirectory()).toBe(true);
      refuseLinks.code = refused;
      const digests = [await putBytes(store, first), composite, await putBytes(store, last)];
      const outcome = await store.join(digests);
      if ('mismatch' in outcome) throw new Error(`mismatch ${outcome.mismatch}`);
      await outcome.writer.commit(outcome.sha256);
      const whole = Buffer.concat([first, middle, last]);
      expect(outcome).toMatchObject({ sha256: sha256(whole), size: whole.length });
      if (!refused) {
        expect((await readdir(store.pathOf(outcome.sha256))).sort()).toEqual([
          '00001-30000',
          '00002-70000',
          '00003-20000',
          '00004-5',
        ]);
      }
      expect((await readAll(await store.read(outcome.sha256))).equals(whole), `${refused}`).toBe(
        true,
      );
      expect(await hashedDigest(store, outcome.sha256)).toBe(outcome.sha256);
      // A one-part join of the composite is the composite itself, kept as it is.
      const again = await store.join([composite]);
      if ('mismatch' in again) throw new Error(`mismatch ${again.mismatch}`);
      await again.writer.commit(again.sha256);
      expect(again).toMatchObject({ sha256: composite, size: middle.length });
      expect(await hashedDigest(store, composite)).toBe(composite);
      expect(await temporaries()).toEqual([]);
    }
  });

  it('refuses a join from a source kept as its parts that lost one of them', async () => {
    const { digest } = await joined([randomBytes(40_000), randomBytes(40_000)]);
    await rm(join(store.pathOf(digest), '00002-40000'));
    expect(await store.join([digest])).toEqual({ mismatch: digest });
    expect(await temporaries()).toEqual([]);
  });

  it('refuses a read of a content that lost a link as damaged, whatever the range', async () => {
    const { digest } = await joined([randomBytes(40_000), randomBytes(40_000), randomBytes(10)]);
    await rm(join(store.pathOf(digest), '00002-40000'));
    for (const range of [undefined, { start: 0, end: 9 }, { start: 79_995, end: 80_005 }]) {
      await expect(store.read(digest, range)).rejects.toBeInstanceOf(ContentDamagedError);
    }
    for (const name of ['00001-40000', '00003-10']) await rm(join(store.pathOf(digest), name));
    await expect(store.readHashed(digest)).rejects.toBeInstanceOf(ContentDamagedError);
  });
});
