/**
 * The data directory holds inline contents, key hashes and the audit signing key: nothing in it
 * is readable by another user (issue 16, item 8) — every file 0600, every folder 0700, whatever
 * the process umask lets through, and an older installation's wider modes are narrowed at start.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../../src/config.js';
import { createLogger, startServer, type RunningServer } from '../../../src/server.js';
import { createKey, type TestServer } from '../../helpers/server.js';

/** `relative path → mode` of the directory itself and everything under it. */
async function modesUnder(root: string): Promise<Record<string, string>> {
  const modes: Record<string, string> = {};
  const visit = async (path: string): Promise<void> => {
    const info = await stat(path);
    modes[relative(root, path) || '.'] = (info.mode & 0o777).toString(8);
    if (!info.isDirectory()) return;
    for (const name of await readdir(path)) await visit(join(path, name));
  };
  await visit(root);
  return modes;
}

/** The entries of `modes` that are not `0600` files or `0700` folders. */
function tooOpen(modes: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(modes).filter(([, mode]) => mode !== '600' && mode !== '700'),
  );
}

describe('data directory modes', () => {
  let dataDir: string;
  let server: RunningServer | null = null;

  afterEach(async () => {
    await server?.close();
    server = null;
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = async () => {
    server = await startServer(
      configFromEnv({ BUCKET_DATA_DIR: dataDir, PORT: '0' }),
      // The loop is the test runner's: no shedding (SPEC §15).
      { eventLoopDelayMs: () => 0 },
      createLogger('silent'),
    );
    return server;
  };

  it('creates every file 0600 and every folder 0700', async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'bucket-modes-')), 'data');
    const running = await start();
    const ownerKey = (await readFile(join(dataDir, 'owner.key'), 'utf8')).trim();
    const { key } = await createKey({ url: running.url, ownerKey } as TestServer, {
      kind: 'product',
      product: 'ai_avatar',
    });
    for (const [name, size] of [
      ['inline.bin', 100],
      ['blob.bin', 200 * 1024],
    ] as const) {
      const answer = await running.app.inject({
        method: 'PUT',
        url: `/v1/artifacts/ai_avatar/model_checkpoint/${name}`,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
        payload: Buffer.alloc(size, 3),
      });
      expect(answer.statusCode).toBe(201);
    }
    const modes = await modesUnder(dataDir);
    expect(Object.keys(modes)).toEqual(
      expect.arrayContaining(['.', 'bucket.db', 'bucket.db-wal', 'owner.key', 'blobs/tmp']),
    );
    expect(Object.keys(modes).some((path) => path.startsWith('blobs/sha256/'))).toBe(true);
    expect(tooOpen(modes)).toEqual({});
  });

  it('narrows the modes of an older installation at start', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'bucket-modes-'));
    await chmod(dataDir, 0o755);
    await mkdir(join(dataDir, 'blobs'), { mode: 0o755 });
    await chmod(join(dataDir, 'blobs'), 0o755);
    // An empty file is a database SQLite initialises.
    await writeFile(join(dataDir, 'bucket.db'), '', { mode: 0o644 });
    await chmod(join(dataDir, 'bucket.db'), 0o644);
    await start();
    const modes = await modesUnder(dataDir);
    expect(modes['.']).toBe('700');
    expect(modes['bucket.db']).toBe('600');
    expect(tooOpen(modes)).toEqual({});
  });
});
