/**
 * Issue 21, `BUCKET_WORKERS=2`: a governance change waits for SQLite's write lock off the event
 * loop (decision 0054). Another process holds the lock in a long write transaction; a worker
 * given a governance change meanwhile must keep answering the requests the cluster hands it —
 * while it waited in SQLite's busy handler, its loop stopped, and so did its answers.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SCALE_OUT } from '../helpers/scaleout.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { fresh, type Answer } from '../helpers/workers.js';

/** How long the lock is held while requests go on (not a bound on any answer). */
const HOLD_MS = 1500;

const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const server of servers) await server.dispose();
});

describe.skipIf(SCALE_OUT)('BUCKET_WORKERS=2 while another process holds the write lock', () => {
  it('answers health and reads on every worker while a governance change waits for the lock', async () => {
    const server = await startServerProcess({ env: { BUCKET_WORKERS: '2' } });
    servers.push(server);
    const db = new Database(join(server.dataDir, 'bucket.db'));
    db.pragma('busy_timeout = 5000');
    db.exec('BEGIN IMMEDIATE');
    let change: Answer | null = null;
    const changed = fresh(server, server.ownerKey, 'POST', '/v1/keys', {
      kind: 'auditor',
      name: 'made while the lock was held',
    }).then((answer) => (change = answer));
    // New connections go to each worker in turn, the one waiting for the lock included: each
    // round's requests must all be answered before the next round goes. (Reads of artifacts and
    // of governance state append their audit entry, which needs the lock: they wait for it.)
    const answers: Answer[] = [];
    const until = Date.now() + HOLD_MS;
    while (Date.now() < until) {
      answers.push(
        ...(await Promise.all([
          fresh(server, null, 'GET', '/health'),
          fresh(server, server.ownerKey, 'GET', '/metrics'),
          fresh(server, null, 'GET', '/health'),
          fresh(server, server.ownerKey, 'GET', '/metrics'),
        ])),
      );
    }
    // Everything was answered while the lock was held, before the change could be made.
    expect(change).toBeNull();
    expect(answers.length).toBeGreaterThanOrEqual(4);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    db.exec('COMMIT');
    db.close();
    const made = await changed;
    expect(made.status).toBe(201);
    const keys = await fresh(server, server.ownerKey, 'GET', '/v1/keys');
    expect(JSON.stringify(keys.json)).toContain(made.json.id);
  }, 60_000);
});
