/**
 * Removing a content kept as its parts (decision record 0064) against a crash and against a write
 * of the same bytes: the address holds the whole content or nothing, never a part of it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, unlink, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileBlobStore } from '../../../src/storage/fs/blobs.js';
import { putBytes, readAll } from '../../helpers/blobs.js';

/** Set by a test: the next recursive removal stops after one entry, as a process killed in it. */
const cut = vi.hoisted(() => ({ next: false }));
/**
 * Set by a test: the next rename, removal or renewal of this path waits for `go` (see `pausedAt`).
 */
const gate = vi.hoisted(() => ({
  path: null as string | null,
  reached: () => undefined as void,
  go: Promise.resolve(),
}));
vi.mock('node:fs/promises', async (original) => {
  const real = await original<typeof import('node:fs/promises')>();
  const wait = async (path: string) => {
    if (path !== gate.path) return;
    gate.path = null;
    gate.reached();
    await gate.go;
  };
  return {
    ...real,
    rename: async (from: string, to: string) => {
      await wait(from);
      return real.rename(from, to);
    },
    utimes: async (path: string, atime: Date, mtime: Date) => {
      await wait(path);
      return real.utimes(path, atime, mtime);
    },
    rm: async (path: string, options?: Parameters<typeof real.rm>[1]) => {
      await wait(path);
      if (!cut.next || !(await real.stat(path)).isDirectory()) return real.rm(path, options);
      cut.next = false;
      const [first] = (await real.readdir(path)).sort();
      await real.unlink(join(path, first!));
      throw new Error('killed in the middle of the removal');
    },
  };
});

let root: string;
let store: FileBlobStore;

beforeEach(async () => {
  cut.next = false;
  root = join(await mkdtemp(join(tmpdir(), 'bucket-composite-removal-')), 'blobs');
  store = new FileBlobStore(root);
  await store.init();
});

afterEach(async () => {
  await store.close();
  await rm(join(root, '..'), { recursive: true, force: true });
});

/**
 * The next rename, removal or renewal of `path` waits: answers a promise of that moment, and the function
 * that lets it go on.
 */
function pausedAt(path: string): { reached: Promise<void>; go: () => void } {
  let go!: () => void;
  gate.go = new Promise((resolve) => (go = resolve));
  const reached = new Promise<void>((resolve) => (gate.reached = resolve));
  gate.path = path;
  return { reached, go };
}

const PARTS = () => [randomBytes(100_000), randomBytes(60_000), randomBytes(30_000)];
const LATER = () => Date.now() + 60_000;

/** Stores `parts` and joins them, kept as a composite: answers its address. */
async function joined(blobs: FileBlobStore, parts: readonly Buffer[]): Promise<string> {
  const digests: string[] = [];
  for (const part of parts) digests.push(await putBytes(blobs, part));
  const outcome = await blobs.join(digests);
  if ('mismatch' in outcome) throw new Error(`mismatch ${outcome.mismatch}`);
  await outcome.writer.commit(outcome.sha256);
  return outcome.sha256;
}

/** Reads the content at `digest` whole (hashed), and by ranges across its parts' boundaries. */
async function expectWhole(digest: string, whole: Buffer): Promise<void> {
  const hashed = await store.readHashed(digest);
  expect((await readAll(hashed.stream)).equals(whole)).toBe(true);
  expect(await hashed.digest).toBe(digest);
  for (const [start, end] of [
    [99_990, 100_009],
    [150_000, whole.length - 1],
  ] as const) {
    const bytes = await readAll(await store.read(digest, { start, end }));
    expect(bytes.equals(whole.subarray(start, end + 1))).toBe(true);
  }
}

describe('FileBlobStore: a composite removed, cut short or raced', () => {
  it('stores the same bytes whole again over a composite left with some of its links', async () => {
    for (const writer of ['a file', 'a composite'] as const) {
      const parts = PARTS();
      const whole = Buffer.concat(parts);
      const digest = await joined(store, parts);
      // A removal killed after its first unlink (`rm -r` is no single step).
      await unlink(join(store.pathOf(digest), '00001-100000'));
      if (writer === 'a file') await putBytes(store, whole);
      else await joined(store, parts);
      await expectWhole(digest, whole);
      expect(await readdir(join(root, 'tmp')), writer).toEqual([]);
    }
  });

  it('stores the same bytes whole again over an empty composite directory', async () => {
    const parts = PARTS();
    const whole = Buffer.concat(parts);
    const digest = await joined(store, parts);
    // Killed after every link was removed, before the directory was.
    for (const name of await readdir(store.pathOf(digest))) {
      await unlink(join(store.pathOf(digest), name));
    }
    await putBytes(store, whole);
    expect((await stat(store.pathOf(digest))).isFile()).toBe(true);
    await expectWhole(digest, whole);
  });

  it('never answers a range of a composite that lost a link with shifted bytes', async () => {
    const digest = await joined(store, PARTS());
    await unlink(join(store.pathOf(digest), '00002-60000'));
    await expect(store.read(digest, { start: 120_000, end: 129_999 })).rejects.toThrow(/parts/);
  });

  it('leaves nothing at the address when a removal is killed midway', async () => {
    const parts = PARTS();
    const whole = Buffer.concat(parts);
    const digest = await joined(store, parts);
    cut.next = true;
    await expect(store.removeIfOlder(digest, LATER())).rejects.toThrow(/killed/);
    expect(cut.next).toBe(false);
    expect(await store.exists(digest)).toBe(false);
    // What the killed removal left is a temporary: the next start removes it.
    const restarted = new FileBlobStore(root);
    await restarted.init();
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    expect(await putBytes(restarted, whole)).toBe(digest);
    await expectWhole(digest, whole);
  });

  it('keeps a content stored again, here or by another process, while it is removed', async () => {
    // A second store over the same root: another worker process (BUCKET_WORKERS > 1).
    const others = { here: store, 'another process': new FileBlobStore(root) };
    for (const [where, other] of Object.entries(others)) {
      for (const writer of [`a file ${where}`, `a composite ${where}`]) {
        const parts = PARTS();
        const whole = Buffer.concat(parts);
        const digest = await joined(store, parts);
        await utimes(store.pathOf(digest), new Date(2020, 0), new Date(2020, 0));
        // The removal found it older than its cutoff, and is about to take it away…
        const paused = pausedAt(store.pathOf(digest));
        const removal = store.removeIfOlder(digest, Date.now());
        await paused.reached;
        // …when the other process stores the same bytes: it finds them stored, renews them and
        // commits a version on them.
        if (writer.startsWith('a file')) await putBytes(other, whole);
        else await joined(other, parts);
        paused.go();
        expect(await removal, writer).toBe(false);
        await expectWhole(digest, whole);
        expect(await readdir(join(root, 'tmp')), writer).toEqual([]);
      }
    }
  });

  it('stores a content again that a removal took between its check and its renewal', async () => {
    const parts = PARTS();
    const whole = Buffer.concat(parts);
    const digest = await joined(store, parts);
    // The write finds the bytes stored, whole; before it renews them, a removal takes them.
    const paused = pausedAt(store.pathOf(digest));
    const write = putBytes(store, whole);
    await paused.reached;
    expect(await store.removeIfOlder(digest, LATER())).toBe(true);
    paused.go();
    await write;
    await expectWhole(digest, whole);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });
});

describe('a content installed while a removal of it is on its way', () => {
  it('is installed as renewed, so a removal with a later cutoff leaves it', async () => {
    // Whole writes' worth: written to the temporary before the commit, not gathered until it.
    const bytes = randomBytes(4 * 1024 * 1024);
    const writer = await store.createWriter();
    for (let offset = 0; offset < bytes.length; offset += 256 * 1024) {
      await writer.write(bytes.subarray(offset, offset + 256 * 1024));
    }
    // The temporary's last write is older than the cutoff of a removal racing the install (a
    // part of the same bytes stored meanwhile, then dropped: removePartBlobs).
    await new Promise((resolve) => setTimeout(resolve, 20));
    const cutoff = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const digest = createHash('sha256').update(bytes).digest('hex');
    await writer.commit(digest);
    expect(await store.removeIfOlder(digest, cutoff + 1)).toBe(false);
    expect((await readAll(await store.read(digest))).equals(bytes)).toBe(true);
  });
});
