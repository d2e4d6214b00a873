/**
 * EventService (SPEC §10) over a store held in memory: pages with a cursor that misses nothing,
 * visibility per key kind, streams that follow the store, and a client that does not read
 * disconnected instead of buffered without bound.
 */
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { EventType, StoredEvent } from '../../../src/domain/events.js';
import type { Principal } from '../../../src/domain/principal.js';
import { EventService } from '../../../src/services/events.js';
import type { EventQuery, EventStore } from '../../../src/storage/ports.js';

class MemoryEvents implements EventStore {
  readonly rows: StoredEvent[] = [];
  private readonly watchers = new Set<() => void>();

  add(type: EventType, product: string | null, data: Record<string, unknown> = {}): void {
    this.rows.push({
      id: this.rows.length + 1,
      time: '2026-12-04T18:00:00.000Z',
      type,
      subject: `${product}/x`,
      product,
      data,
      auditIndex: this.rows.length,
    });
    for (const watcher of this.watchers) watcher();
  }

  async events(query: EventQuery): Promise<StoredEvent[]> {
    return this.rows
      .filter(
        (e) =>
          e.id > query.since &&
          (query.typePrefix === undefined || e.type.startsWith(query.typePrefix)) &&
          (query.product === undefined || e.product === query.product),
      )
      .slice(0, query.limit);
  }

  async latestEventId(): Promise<number> {
    return this.rows.length;
  }

  watchEvents(listener: () => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  get watching(): number {
    return this.watchers.size;
  }
}

const owner: Principal = { id: 'owner', kind: 'owner', product: null, integrationId: null };
const avatar: Principal = { id: 'k1', kind: 'product', product: 'ai_avatar', integrationId: 'i' };
const workflow: Principal = {
  id: 'k2',
  kind: 'product',
  product: 'workflow_engine',
  integrationId: 'i',
};

/** The ids of the frames `stream` carries, once `count` have arrived. */
async function ids(stream: Readable, count: number): Promise<number[]> {
  let text = '';
  const found = () => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  for await (const chunk of stream) {
    text += String(chunk);
    if (found().length >= count) break;
  }
  return found();
}

describe('EventService', () => {
  it('pages after a cursor; a short page’s nextCursor skips what its filter left out', async () => {
    const store = new MemoryEvents();
    store.add('bucket.key.created', 'ai_avatar');
    store.add('bucket.artifact.created', 'gurukul');
    store.add('bucket.artifact.created', 'ai_avatar');
    store.add('bucket.key.revoked', 'gurukul');
    const service = new EventService(store, { source: 'bhiv-bucket/test' });
    const first = await service.page(owner, { since: 0, limit: 2 });
    expect(first.events.map((e) => e.id)).toEqual(['1', '2']);
    expect(first.nextCursor).toBe('2');
    const artifacts = await service.page(owner, { since: 0, limit: 10, type: 'bucket.artifact.' });
    expect(artifacts.events.map((e) => e.id)).toEqual(['2', '3']);
    expect(artifacts.nextCursor).toBe('4');
    expect(artifacts.events[0]).toMatchObject({ source: 'bhiv-bucket/test', auditindex: 1 });
  });

  it('shows a product key its own product, workflow_engine and the owner everything', async () => {
    const store = new MemoryEvents();
    store.add('bucket.key.created', 'ai_avatar');
    store.add('bucket.key.created', 'gurukul');
    store.add('bucket.policy.changed', null);
    const service = new EventService(store, { source: 's' });
    const products = async (principal: Principal) =>
      (await service.page(principal, { since: 0, limit: 10 })).events.map((e) => e.bucketproduct);
    expect(await products(avatar)).toEqual(['ai_avatar']);
    expect(await products(workflow)).toEqual(['ai_avatar', 'gurukul', null]);
    expect(await products(owner)).toEqual(['ai_avatar', 'gurukul', null]);
    const asked = await service.page(avatar, { since: 0, limit: 10, product: 'gurukul' });
    expect(asked.events).toEqual([]);
  });

  it('streams the backlog, then each event as the store announces it', async () => {
    const store = new MemoryEvents();
    store.add('bucket.key.created', 'ai_avatar');
    const service = new EventService(store, { source: 's' });
    const stream = service.stream(owner, { since: 0 });
    const received = ids(stream, 3);
    store.add('bucket.key.revoked', 'ai_avatar');
    store.add('bucket.policy.changed', null);
    // Reading stops (the client went): the stream closes and stops watching the store.
    expect(await received).toEqual([1, 2, 3]);
    // (the 'close' event follows `closed` on a later tick)
    while (!stream.closed) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.watching).toBe(0);
  });

  it('starts a cursor beyond the newest event from the newest, and later streams still follow', async () => {
    // A store answering at once, like SQLite: a stream that waited for an id the store never
    // gave used to spin and hold the event loop.
    const store = new MemoryEvents();
    store.add('bucket.key.created', 'ai_avatar');
    const service = new EventService(store, { source: 's' });
    const far = service.stream(owner, { since: 999_999_999_999 });
    const farReceived = ids(far, 1);
    store.add('bucket.key.revoked', 'ai_avatar');
    expect(await farReceived).toEqual([2]);
    while (!far.closed) await new Promise((resolve) => setImmediate(resolve));
    const next = service.stream(owner, { since: 0 });
    const received = ids(next, 3);
    store.add('bucket.policy.changed', null);
    expect(await received).toEqual([1, 2, 3]);
  });

  it('gives each of many streams exactly its events, in order, while events keep coming', async () => {
    const store = new MemoryEvents();
    const types: EventType[] = ['bucket.key.created', 'bucket.artifact.created'];
    const add = (n: number) =>
      store.add(types[n % 2] as EventType, n % 3 === 0 ? 'gurukul' : 'ai_avatar');
    for (let n = 0; n < 30; n++) add(n);
    const service = new EventService(store, { source: 's' });
    const queries = [
      { principal: owner, since: 0, type: undefined },
      { principal: owner, since: 25, type: undefined },
      { principal: owner, since: 5, type: 'bucket.artifact.' },
      { principal: avatar, since: 0, type: undefined },
      { principal: avatar, since: 10, type: 'bucket.key.' },
    ];
    const expected = (q: (typeof queries)[number]) =>
      store.rows
        .filter(
          (e) =>
            e.id > q.since &&
            (q.type === undefined || e.type.startsWith(q.type)) &&
            (q.principal === owner || e.product === 'ai_avatar'),
        )
        .map((e) => e.id);
    const streams = queries.map((q) => service.stream(q.principal, q));
    // More events while the streams catch up and after they joined the tail.
    for (let n = 30; n < 90; n++) {
      add(n);
      if (n % 7 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    for (const [i, q] of queries.entries()) {
      const want = expected(q);
      expect(await ids(streams[i] as Readable, want.length), `stream ${i}`).toEqual(want);
    }
  });

  it('writes a comment line while idle', async () => {
    const service = new EventService(new MemoryEvents(), { source: 's', heartbeatMs: 10 });
    const stream = service.stream(owner, { since: 0 });
    let text = '';
    for await (const chunk of stream) {
      text += String(chunk);
      if (text.includes(': keep-alive\n\n')) break;
    }
    expect(text).toContain(': keep-alive\n\n');
  });

  it('ends a stream at the heartbeat after its key loses the right to it', async () => {
    const store = new MemoryEvents();
    const service = new EventService(store, { source: 's', heartbeatMs: 10 });
    let allowed = true;
    const stream = service.stream(owner, { since: 0, stillAllowed: async () => allowed });
    let text = '';
    stream.on('data', (chunk) => (text += String(chunk)));
    const ended = once(stream, 'end');
    store.add('bucket.key.created', 'ai_avatar');
    while (!text.includes('id: 1\n')) await new Promise((resolve) => setTimeout(resolve, 5));
    // Revoked (or suspended): the next heartbeat ends the stream, and nothing more is sent.
    allowed = false;
    await ended;
    store.add('bucket.key.revoked', 'ai_avatar');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual([1]);
  });

  it('disconnects a client that does not read instead of buffering for it', async () => {
    const store = new MemoryEvents();
    let opened = 0;
    const service = new EventService(store, {
      source: 's',
      maxBufferedBytes: 64 * 1024,
      onSubscribers: (delta) => (opened += delta),
    });
    const stream = service.stream(owner, { since: 0 });
    expect(opened).toBe(1);
    const closed = once(stream, 'close');
    // Nothing reads the stream: each event waits in it, until the bound is passed.
    const big = { note: 'x'.repeat(1000) };
    for (let i = 0; i < 200 && !stream.destroyed; i++) {
      store.add('bucket.key.created', 'ai_avatar', big);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await closed;
    expect(stream.destroyed).toBe(true);
    expect(opened).toBe(0);
    expect(store.watching).toBe(0);
  });
});
