/**
 * Issue 21: `BUCKET_WORKERS=2` — a primary and two worker processes over one data directory and
 * one SQLite database (decision 0046). Every request here goes over a connection of its own, which
 * the cluster hands to the workers in turn, so consecutive requests reach both processes.
 */
import { access, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLimits } from '../helpers/limits.js';
import { SCALE_OUT } from '../helpers/scaleout.js';
import { client, createKey } from '../helpers/server.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { presignedUrl } from '../helpers/s3-sign.js';
import { fresh, verifyLog, waitFor, workersOf } from '../helpers/workers.js';

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const server of servers) await server.dispose();
});

/** One request to `url` on a connection of its own (the cluster gives it to the next worker). */
function freshUrl(url: string, method: string, body?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json' };
    const req = request(url, { method, agent: false, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function startWorkers(env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await startServerProcess({ env: { BUCKET_WORKERS: '2', ...env } });
  servers.push(server);
  return server;
}

// Workers are the embedded configuration's (a scale-out Bucket runs more nodes instead).
describe.skipIf(SCALE_OUT)('BUCKET_WORKERS=2', () => {
  // One primary and its two workers for the tests up to the clean stop (each works on names and
  // keys of its own); the kill test starts its own.
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startWorkers({ BUCKET_S3_PORT: '0' });
  }, 60_000);

  it('serves concurrent writes of one artifact from both workers: one version each, one log', async () => {
    expect(server.output()).toContain('2 worker processes');
    expect(await workersOf(server.process.pid ?? 0)).toHaveLength(2);
    const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const path = '/v1/artifacts/ai_avatar/avatar_config/shared/one.json';
    const writes = await Promise.all(
      Array.from({ length: 40 }, (_, n) => fresh(server, key, 'PUT', path, { n })),
    );
    // One creates the artifact (201), others add a version (200); a write that lost the race
    // past its retries answers 409 version_conflict, as it does in one process.
    const done = writes.filter((w) => w.status === 200 || w.status === 201);
    const conflicts = writes.filter((w) => w.status === 409);
    expect(
      writes
        .filter((w) => w.status !== 200 && w.status !== 201 && w.status !== 409)
        .map((w) => [w.status, w.json]),
    ).toEqual([]);
    expect(done.length + conflicts.length).toBe(40);
    expect(conflicts.every((w) => w.json.error.code === 'version_conflict')).toBe(true);
    expect(writes.filter((w) => w.status === 201)).toHaveLength(1);
    expect(done.length).toBeGreaterThanOrEqual(20);
    const versions = done.map((w) => w.json.version as number).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: done.length }, (_, i) => i + 1));
    const leaves = new Set(done.map((w) => w.json.audit.leafIndex as number));
    expect(leaves.size).toBe(done.length);
    // Every process reads the head the other wrote.
    for (let i = 0; i < 4; i++) {
      const read = await fresh(server, key, 'GET', `${path}/versions`);
      expect(read.json.versions).toHaveLength(done.length);
    }
  });

  it('refuses a key revoked through one worker on the other at once', async () => {
    const { key, id } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const path = '/v1/artifacts/ai_avatar/avatar_config/revoked/one.json';
    // Both workers have authenticated the key (and cached it).
    for (let i = 0; i < 4; i++) {
      expect([200, 201]).toContain((await fresh(server, key, 'PUT', path, { i })).status);
    }
    const revoked = await fresh(server, server.ownerKey, 'DELETE', `/v1/keys/${id}`);
    expect(revoked.status).toBe(200);
    const after = await Promise.all(
      Array.from({ length: 6 }, () => fresh(server, key, 'GET', path)),
    );
    expect(after.map((a) => a.status)).toEqual(after.map(() => 401));
  });

  it('refuses an S3 credential on the other worker at once when its key is revoked', async () => {
    // Printed right after the listening line the helper waits for.
    await waitFor(async () => server.output().includes('S3 front door at'), 5_000);
    const s3Url = /S3 front door at (http:\/\/\S+)/.exec(server.output())?.[1] ?? '';
    expect(s3Url).not.toBe('');
    const { id } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const created = await fresh(server, server.ownerKey, 'POST', `/v1/keys/${id}/s3-credentials`);
    expect(created.status).toBe(201);
    const credential = {
      accessKeyId: created.json.accessKeyId as string,
      secretAccessKey: created.json.secretAccessKey as string,
    };
    const path = '/ai_avatar/avatar_config/revoked/s3.json';
    const url = (method: string) =>
      presignedUrl(s3Url, credential, { method, path, expiresIn: 600 });
    // Both workers have resolved the credential (and cached it) a moment ago.
    for (let i = 0; i < 4; i++) {
      expect((await freshUrl(await url('PUT'), 'PUT', JSON.stringify({ i }))).status).toBe(200);
    }
    expect((await fresh(server, server.ownerKey, 'DELETE', `/v1/keys/${id}`)).status).toBe(200);
    const get = await url('GET');
    const after = await Promise.all(Array.from({ length: 6 }, () => freshUrl(get, 'GET')));
    expect(after.map((a) => a.status)).toEqual(after.map(() => 403));
    expect(after.every((a) => a.body.includes('InvalidAccessKeyId'))).toBe(true);
  });

  it('keeps the read rate global across the workers', async () => {
    const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const path = '/v1/artifacts/ai_avatar/avatar_config/rated/one.json';
    expect((await fresh(server, key, 'PUT', path, { rated: true })).status).toBe(201);
    await setLimits(server, { readsPerSecond: 10 });
    const started = Date.now();
    const reads = await Promise.all(
      Array.from({ length: 30 }, () => fresh(server, key, 'GET', path)),
    );
    const seconds = Math.ceil((Date.now() - started) / 1000);
    const ok = reads.filter((r) => r.status === 200).length;
    expect(reads.every((r) => r.status === 200 || r.status === 429)).toBe(true);
    // One window of 10 a second for the whole Bucket; per process it would be 10 each.
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThanOrEqual(10 * seconds);
    if (seconds === 1) expect(ok).toBeLessThanOrEqual(10);
  }, 60_000);

  it('stops cleanly: exit 0, its pid file gone, every write in a log that verifies', async () => {
    await server.stop();
    expect(server.process.exitCode).toBe(0);
    await expect(access(join(server.dataDir, 'bucket.pid'))).rejects.toThrow();
    expect(await verifyLog(server.dataDir)).toMatch(/ok|verified/i);
  });

  it('starts another worker when one is killed under load, with nothing acknowledged lost', async () => {
    const server = await startWorkers(); // its own: one of its workers dies
    const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const [victim] = await workersOf(server.process.pid ?? 0);
    const acknowledged: { path: string; version: number; n: number }[] = [];
    let n = 0;
    let killed = false;
    const writer = async () => {
      while (n < 200) {
        const mine = n++;
        const path = `/v1/artifacts/ai_avatar/avatar_config/kill/${mine % 10}.json`;
        if (mine === 60 && victim !== undefined) {
          process.kill(victim, 'SIGKILL');
          killed = true;
        }
        const answer = await fresh(server, key, 'PUT', path, { mine }).catch(() => null);
        if (answer?.status === 200 || answer?.status === 201)
          acknowledged.push({ path, version: answer.json.version, n: mine });
      }
    };
    await Promise.all(Array.from({ length: 8 }, writer));
    expect(killed).toBe(true);
    expect(acknowledged.length).toBeGreaterThan(100);
    await waitFor(async () => {
      const now = await workersOf(server.process.pid ?? 0);
      return now.length === 2 && !now.includes(victim ?? -1);
    }, 30_000);
    expect(server.output()).toContain('starting another');
    const api = client(server.url, key);
    for (const write of acknowledged) {
      const read = await api('GET', `${write.path}?version=${write.version}`);
      expect(read.status).toBe(200);
      expect(read.json).toEqual({ mine: write.n });
    }
    await server.stop();
    expect(await verifyLog(server.dataDir)).toMatch(/ok|verified/i);
    await rm(server.dataDir, { recursive: true, force: true });
  }, 180_000);
});
