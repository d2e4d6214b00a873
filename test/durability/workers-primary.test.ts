/**
 * Issue 21, `BUCKET_WORKERS=2`: the primary killed (kill -9) with writes in flight. Its workers
 * notice at once (the IPC channel's `disconnect`) and stop gracefully — no new connections, the
 * requests in flight answered, the stores closed — and every write they acknowledged is there
 * after a restart (decision 0054). Node's cluster alone would have exited them on the spot,
 * cutting what was in flight.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SCALE_OUT } from '../helpers/scaleout.js';
import { client, createKey } from '../helpers/server.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { fresh, isRunning, verifyLog, waitFor, workersOf } from '../helpers/workers.js';

/** Writes in flight when the primary dies. */
const IN_FLIGHT = 6;
/** How long the workers may take to notice, then to stop (they used to be cut off at once). */
const WITHIN_MS = 10_000;

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const server of servers) await server.dispose();
});

/** The write slots held across the workers, as the primary's limiter counts them (/metrics). */
async function writesInFlight(server: ServerProcess, key: string): Promise<number> {
  const metrics = await fresh(server, key, 'GET', '/metrics');
  return Number(/^bucket_writes_in_flight (\d+)$/m.exec(String(metrics.json))?.[1] ?? -1);
}

describe.skipIf(SCALE_OUT)('BUCKET_WORKERS=2 when the primary dies', () => {
  it('stops every worker at once, answering the writes in flight, losing nothing acknowledged', async () => {
    const server = await startServerProcess({ env: { BUCKET_WORKERS: '2' } });
    servers.push(server);
    const primary = server.process.pid ?? 0;
    const workers = await workersOf(primary);
    expect(workers).toHaveLength(2);
    const { key } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const pathOf = (n: number) => `/v1/artifacts/ai_avatar/avatar_config/primary/${n}.json`;
    expect((await fresh(server, key, 'PUT', pathOf(0), { n: 0 })).status).toBe(201);

    // Another process holds the database's write lock: the writes sent now take their write
    // slots from the primary, then wait for the lock in their workers.
    const db = new Database(join(server.dataDir, 'bucket.db'));
    db.pragma('busy_timeout = 5000');
    db.exec('BEGIN IMMEDIATE');
    const writes = Array.from({ length: IN_FLIGHT }, (_, i) =>
      fresh(server, key, 'PUT', pathOf(i + 1), { n: i + 1 }).catch((error: Error) => error),
    );
    await waitFor(async () => (await writesInFlight(server, key)) === IN_FLIGHT, WITHIN_MS);

    process.kill(primary, 'SIGKILL');
    await waitFor(
      async () => (server.output().match(/primary process is gone/g) ?? []).length === 2,
      WITHIN_MS,
    );
    // The workers wait for their writes in flight; the lock free, those are made and answered.
    db.exec('COMMIT');
    db.close();
    const answers = await Promise.all(writes);
    expect(answers.map((a) => (a instanceof Error ? a.message : a.status))).toEqual(
      answers.map(() => 201),
    );
    await waitFor(
      async () => (await Promise.all(workers.map(isRunning))).every((alive) => !alive),
      WITHIN_MS,
    );
    // Each closed its stores and said so; neither crashed.
    expect((server.output().match(/: stopped$/gm) ?? []).length).toBe(2);
    expect(server.output()).not.toMatch(/ERR_IPC_CHANNEL_CLOSED|Unhandled|uncaught/i);

    // A restart on the directory takes over the lock the dead primary left, with every write.
    const restarted = await startServerProcess({
      dataDir: server.dataDir,
      env: { BUCKET_WORKERS: '2' },
    });
    servers.push(restarted);
    const api = client(restarted.url, key);
    for (let n = 0; n <= IN_FLIGHT; n++) {
      const read = await api('GET', pathOf(n));
      expect(read.status).toBe(200);
      expect(read.json).toEqual({ n });
    }
    await restarted.stop();
    expect(await verifyLog(server.dataDir)).toMatch(/ok|verified/i);
  }, 120_000);
});
