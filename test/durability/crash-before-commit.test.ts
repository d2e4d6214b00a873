/**
 * A crash between the blob write and the metadata commit cannot create a visible version.
 *
 * The write path (src/services/artifacts.ts) is: receive into a temporary → gate → fsync + rename
 * the blob to its content address → one SQLite transaction that appends the version and moves the
 * head → answer. A version becomes visible only through that transaction, so a crash before it
 * leaves at most a content-addressed file that no version points to.
 *
 * To crash the real server exactly there, the test holds the metadata store's write lock from
 * outside (SQLite's; with PostgreSQL, the audit tree head row every commit locks — readers are
 * not blocked, so the gate's head lookup still works): the server stores the blob under its address
 * and then waits on the lock inside its commit. The test sees the blob appear, SIGKILLs the server,
 * releases the lock and restarts on the same data directory (and the same shared stores).
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import {
  contentStored,
  eventually,
  holdWriteLock,
  putObserved,
  temporariesOf,
} from '../helpers/durability.js';
import { sha256 } from '../helpers/hash.js';
import { client, createKey } from '../helpers/server.js';
import { startServerProcess } from '../helpers/server-process.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('a crash between blob write and metadata commit', () => {
  it('leaves no visible version, and the same content can be written again', async () => {
    let server = await startServerProcess();
    dirs.push(server.dataDir);
    const { dataDir } = server;
    const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const path = '/v1/artifacts/ai_avatar/model_checkpoint/crash/between.ckpt';
    const body = randomBytes(1 << 20);
    const digest = sha256(body);

    const lock = await holdWriteLock(server);
    let status: number | null = null;
    const write = putObserved(server.url, key, path, body, 'application/octet-stream', (s) => {
      status = s;
    });
    try {
      // The blob is durable under its address: the server is now inside its metadata commit.
      expect(await eventually(() => contentStored(server, digest), 15_000, 5)).toBe(true);
      await server.kill('SIGKILL');
    } finally {
      await lock.release();
    }
    await write;
    // Never acknowledged: cut off by the kill, or refused because the commit could not happen.
    expect(status === null || status >= 500, `status ${String(status)}`).toBe(true);

    server = await startServerProcess({ dataDir });
    try {
      const api = client(server.url, key);
      expect((await api('GET', `${path}/versions`)).status).toBe(404);
      expect((await api('GET', path)).status).toBe(404);
      const listing = await api('GET', '/v1/artifacts/ai_avatar?limit=1000');
      expect(listing.json.items).toEqual([]);
      if (!server.backend) expect(await temporariesOf(server)).toEqual([]);

      // Writing the same bytes again succeeds as a new artifact and reads back intact.
      const again = await api('PUT', path, {
        body,
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(again.status).toBe(201);
      expect(again.json).toMatchObject({ version: 1, sha256: digest, size: body.length });
      const read = await api('GET', path);
      expect(sha256(read.bytes)).toBe(digest);
    } finally {
      await server.kill('SIGKILL');
    }
  });

  it('answers a metadata commit that cannot happen with an error and no version', async () => {
    const server = await startServerProcess();
    dirs.push(server.dataDir);
    try {
      const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
      const path = '/v1/artifacts/ai_avatar/model_checkpoint/crash/locked.ckpt';
      const body = randomBytes(256 * 1024);
      const lock = await holdWriteLock(server);
      let answer;
      try {
        // The server gives up waiting for the lock (busy_timeout) and must say so.
        answer = await putObserved(
          server.url,
          key,
          path,
          body,
          'application/octet-stream',
          () => undefined,
        );
      } finally {
        await lock.release();
      }
      expect(answer?.status).toBeGreaterThanOrEqual(500);
      expect(answer?.json?.error?.code).toEqual(expect.any(String));
      const api = client(server.url, key);
      expect((await api('GET', `${path}/versions`)).status).toBe(404);
      expect(await temporariesOf(server)).toEqual([]);
      // Once the lock is gone, the same write goes through.
      const retry = await api('PUT', path, {
        body,
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(retry.status).toBe(201);
    } finally {
      await server.dispose();
    }
  });

  it('waits for a database write lock held briefly by another process instead of failing', async () => {
    // The lock timeout is 5 s (SQLite's busy_timeout, PostgreSQL's lock_timeout); a lock held for
    // 300 ms by another process (a storage-level command, a backup) delays the write, not fails it.
    const server = await startServerProcess();
    dirs.push(server.dataDir);
    try {
      const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
      const path = '/v1/artifacts/ai_avatar/avatar_config/locked/briefly.json';
      const body = Buffer.from(JSON.stringify({ style: 'calm' }));
      const lock = await holdWriteLock(server);
      const released = new Promise<void>((resolve) =>
        setTimeout(() => {
          void lock.release().then(resolve);
        }, 300),
      );
      const answer = await putObserved(
        server.url,
        key,
        path,
        body,
        'application/json',
        () => undefined,
      );
      await released;
      expect(answer?.status, answer?.body.toString()).toBe(201);
    } finally {
      await server.dispose();
    }
  });
});
