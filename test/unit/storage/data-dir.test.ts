/**
 * The data directory is created like `mkdir -p` (mode 0700), and a path where that cannot work
 * fails at once with a message — under procfs, Node's own recursive mkdir spins at full CPU for
 * ever, and `bucket serve` with such a BUCKET_DATA_DIR hung instead of exiting.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDir } from '../../../src/storage/data-dir-lock.js';

describe('makeDataDir', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'bucket-data-dir-'));
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it('creates missing parents, each readable by its owner only, and accepts one that exists', async () => {
    const nested = join(root, 'a', 'b', 'data');
    await makeDataDir(nested);
    for (const dir of [join(root, 'a'), join(root, 'a', 'b'), nested]) {
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
    }
    await expect(makeDataDir(nested)).resolves.toBeUndefined();
    await expect(makeDataDir(`${nested}/`)).resolves.toBeUndefined();
  });

  it('refuses a path that is a file, or under a file', async () => {
    const file = join(root, 'plain-file');
    await writeFile(file, 'x');
    await expect(makeDataDir(file)).rejects.toThrow('exists and is not a directory');
    await expect(makeDataDir(join(file, 'data'))).rejects.toThrow(/ENOTDIR/);
  });

  it.runIf(existsSync('/proc/self'))(
    'fails at once where mkdir answers ENOENT under an existing parent (procfs)',
    async () => {
      await expect(makeDataDir('/proc/bucket-data')).rejects.toThrow(
        'cannot create the data directory /proc/bucket-data: mkdir answers ENOENT',
      );
    },
  );
});
