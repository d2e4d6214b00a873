/**
 * Issue 21: two embedded stores opened `shared` on one SQLite file — what two worker processes
 * do, with two connections in one test process. Each sees the other's commits: the audit tree's
 * edge, heads, the change stamp; and a batch waits for the other's write lock off the event loop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CompactRange, decompose } from '../../../src/audit/compact.js';
import { SqliteMetadataStore } from '../../../src/storage/sqlite/metadata.js';
import { writeDraft } from '../../helpers/audit.js';
import { commitNext, version } from '../../helpers/versions.js';
import type { RunRecord } from '../../../src/domain/runs.js';

function queuedRun(id: string): RunRecord {
  return {
    id,
    plan: {
      kind: 'agent',
      name: 'cashflow_analyzer',
      strategy: 'sequential',
      agents: ['cashflow_analyzer'],
      stepTimeoutMs: 1000,
      timeoutMs: 5000,
    },
    status: 'queued',
    input: {},
    error: null,
    steps: [{ agent: 'cashflow_analyzer', status: 'queued', startedAt: null, finishedAt: null }],
    product: null,
    requestedBy: 'key_owner',
    createdAt: '2026-12-05T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    deadline: null,
    cancelRequested: false,
    record: null,
  };
}

const opened: SqliteMetadataStore[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function twoStores(): Promise<[SqliteMetadataStore, SqliteMetadataStore]> {
  const dir = await mkdtemp(join(tmpdir(), 'bucket-shared-'));
  dirs.push(dir);
  const file = join(dir, 'bucket.db');
  const a = new SqliteMetadataStore(file, { shared: true });
  const b = new SqliteMetadataStore(file, { shared: true });
  opened.push(a, b);
  await a.init();
  await b.init();
  return [a, b];
}

/** The root from the stored subtrees equals the root of the stored leaves, appended in order. */
async function expectOneTree(store: SqliteMetadataStore, size: number): Promise<void> {
  const stored = CompactRange.fromHashes(size, await store.auditSubtrees(decompose(0, size)));
  const recomputed = CompactRange.empty();
  let index = 0;
  for await (const entry of store.auditRange(0, size)) {
    expect(entry.index).toBe(index++);
    recomputed.append(entry.leafHash);
  }
  expect(index).toBe(size);
  expect(recomputed.root().equals(stored.root())).toBe(true);
}

/** Takes the database's write lock on `store`'s connection, as another process's write would. */
function holdWriteLock(store: SqliteMetadataStore): { release(): void } {
  const db = (store as unknown as { db: import('better-sqlite3').Database }).db;
  db.exec('BEGIN IMMEDIATE');
  return { release: () => db.exec('COMMIT') };
}

/**
 * What `writes` have come to once the event loop has run a timer: each still `waiting` for the
 * lock, or `failed` — as a write that waited in SQLite's busy handler would have, the loop and
 * the timer held for its 5 s.
 */
async function afterATimer(writes: readonly Promise<unknown>[]): Promise<string[]> {
  const states = writes.map(() => 'waiting');
  writes.forEach((write, i) =>
    write.then(
      () => (states[i] = 'done'),
      () => (states[i] = 'failed'),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  return states;
}

describe('SqliteMetadataStore shared by two processes', () => {
  it('appends to one tree from both, each append after the other', async () => {
    const [a, b] = await twoStores();
    const leaves: number[] = [];
    for (let i = 0; i < 9; i++) {
      const store = i % 3 === 0 ? b : a;
      const drafts = Array.from({ length: 1 + (i % 2) }, () =>
        writeDraft(version({ name: `n${i}`, version: 1 })),
      );
      for (const receipt of await store.appendAudit(drafts)) leaves.push(receipt.leafIndex);
    }
    expect(leaves).toEqual(leaves.map((_, i) => i));
    await expectOneTree(a, leaves.length);
  });

  it('commits versions of one name from both, and each reads the head the other wrote', async () => {
    const [a, b] = await twoStores();
    await commitNext(a, version({ name: 'x', version: 1 }));
    const key = { product: 'gurukul', class: 'user_progress', name: 'x' };
    expect((await b.getForRead(key))?.version.version).toBe(1);
    await commitNext(b, version({ name: 'x', version: 2 }));
    // a's head cache held version 1: the other's commit is seen at once.
    expect((await a.getForRead(key))?.version.version).toBe(2);
    await commitNext(a, version({ name: 'x', version: 3 }));
    expect((await b.getForRead(key))?.version.version).toBe(3);
    await expectOneTree(b, 3);
  });

  it("streams the other process's events without a commit of its own", async () => {
    const [a, b] = await twoStores();
    const before = await b.latestEventId();
    await commitNext(a, version({ name: 'e', version: 1 }));
    let notified = false;
    const stop = b.watchEvents(() => (notified = true));
    const until = Date.now() + 2000;
    while ((await b.latestEventId()) === before && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    stop();
    expect(await b.latestEventId()).toBeGreaterThan(before);
    expect(notified).toBe(true);
    const events = await b.events({ since: before, limit: 10 });
    expect(events.map((event) => event.subject)).toContainEqual(expect.stringContaining('e'));
  });

  it("tells the other store's watch, and only it, that something was committed", async () => {
    const [a, b] = await twoStores();
    const watchA = a.watchOtherWriters();
    const watchB = b.watchOtherWriters();
    await a.appendAudit([writeDraft(version({ name: 'w', version: 1 }))]);
    expect(watchA()).toBe(false);
    expect(watchB()).toBe(true);
    expect(watchB()).toBe(false);
  });

  it('waits for a write lock the other connection holds without blocking the event loop', async () => {
    const [a, b] = await twoStores();
    const lock = holdWriteLock(b);
    const append = a.appendAudit([writeDraft(version({ name: 'l', version: 1 }))]);
    expect(await afterATimer([append])).toEqual(['waiting']);
    lock.release();
    const [receipt] = await append;
    expect(receipt?.leafIndex).toBe(0);
  });

  it('makes governance changes, leases and settings wait for the lock off the event loop too', async () => {
    const [a, b] = await twoStores();
    // A run to claim: with none, a claim is a read and takes no lock.
    expect(await a.insertRun(queuedRun('run_locked'), 10)).toBe(true);
    const lock = holdWriteLock(b);
    const writes = [
      a.insertKey({
        id: 'key_locked',
        hash: 'cd'.repeat(32),
        kind: 'auditor',
        product: null,
        integrationId: null,
        name: 'made once the lock is free',
        createdAt: '2026-01-01T00:00:00.000Z',
        expiresAt: null,
        revokedAt: null,
      }),
      a.claimRuns({ owner: 'worker-a', now: 1, leaseUntil: 2, limit: 1, maxActive: 1 }),
      a.setSettingOnce('locked', 'yes'),
    ];
    expect(await afterATimer(writes)).toEqual(['waiting', 'waiting', 'waiting']);
    lock.release();
    await Promise.all(writes);
    expect((await b.getKey('key_locked'))?.name).toBe('made once the lock is free');
    expect(await b.getSetting('locked')).toBe('yes');
  });
});
