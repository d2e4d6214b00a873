/**
 * The PostgreSQL store's event outbox (SPEC §10). The newest cursor lives in the audit tree's head
 * row (`audit_head.events`), which every writing transaction of every node locks first: a
 * transaction numbers its events from it, and the next one cannot read it before this one commits,
 * so cursors are consecutive in commit order and a reader never sees n+1 before n. `EventColumns`
 * collects a transaction's events for the tree's write statement, which also NOTIFYs the other
 * nodes (delivered at COMMIT); `PgEvents` is the EventStore port, LISTENing while it has watchers.
 */
import pg from 'pg';
import type { EventDraft, StoredEvent } from '../../domain/events.js';
import type { EventQuery, EventStore } from '../ports.js';
import { toEvent, type EventRow } from '../rows.js';
import { notifyAll } from '../listeners.js';
import type { Queryable } from './connection.js';

/** The channel a transaction that wrote events notifies (SPEC §10: the database wakes the nodes). */
export const EVENTS_CHANNEL = 'bucket_events';
/** While the listening connection is down: how often to look for new events, and to reconnect. */
const POLL_MS = 250;
const RECONNECT_MS = 1000;

/** The events of one write transaction, one array per column (inserted with unnest). */
export class EventColumns {
  readonly id: number[] = [];
  readonly time: string[] = [];
  readonly type: string[] = [];
  readonly subject: string[] = [];
  readonly product: (string | null)[] = [];
  readonly data: string[] = [];
  readonly auditIndex: (number | null)[] = [];

  /** `start`: the newest cursor as the locked head row holds it. */
  constructor(private readonly start: number) {}

  get length(): number {
    return this.id.length;
  }

  /** The newest cursor, with this transaction's events. */
  get lastId(): number {
    return this.start + this.id.length;
  }

  append(draft: EventDraft, time: string, auditIndex: number | null): void {
    this.id.push(this.lastId + 1);
    this.time.push(time);
    this.type.push(draft.type);
    this.subject.push(draft.subject);
    this.product.push(draft.product);
    this.data.push(JSON.stringify(draft.data));
    this.auditIndex.push(auditIndex);
  }

  truncate(length: number): void {
    for (const column of this.columns()) column.length = length;
  }

  /** The parameters of `eventWriteCte`, then the new newest cursor. */
  params(): unknown[] {
    return [...this.columns(), this.lastId];
  }

  /** Every column, in the order of `eventWriteCte`'s parameters. */
  private columns(): unknown[][] {
    return [this.id, this.time, this.type, this.subject, this.product, this.data, this.auditIndex];
  }
}

/**
 * The end of the statement that writes a transaction's events (numbered by `p` as in
 * eventWriteCte): a NOTIFY when it wrote any, which PostgreSQL delivers only if it commits.
 */
export function eventNotify(p: (n: number) => string): string {
  return `SELECT pg_notify('${EVENTS_CHANNEL}', '') WHERE cardinality(${p(1)}::bigint[]) > 0`;
}

/** The insert of EventColumns.params() (its first seven), numbered by `p`. */
export function eventWriteCte(p: (n: number) => string): string {
  return (
    'events_in AS (INSERT INTO events (id, time, type, subject, product, data, audit_index) ' +
    `SELECT * FROM unnest(${p(1)}::bigint[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ` +
    `${p(5)}::text[], ${p(6)}::text[], ${p(7)}::bigint[]))`
  );
}

/**
 * The EventStore port: reads through whichever client the caller's snapshot designates. Watchers
 * hear of this node's commits at once, and of other nodes' through LISTEN on a connection of its
 * own, open while some watcher exists; while that connection is down, by polling the newest
 * cursor every POLL_MS, and reconnecting.
 */
export class PgEvents implements EventStore {
  private readonly listeners = new Set<() => void>();
  private listener: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private seen = 0;

  constructor(
    private readonly db: () => Queryable,
    /** Where LISTEN connects (the store's database). */
    private readonly url: string,
  ) {}

  async events(query: EventQuery): Promise<StoredEvent[]> {
    // One product's events (every read of a product key) through events_by_product; the
    // statements are apart so that each plan is the one its filter needs.
    const byProduct = query.product !== undefined;
    const { rows } = await this.db().query<EventRow>({
      name: byProduct ? 'events-page-product' : 'events-page',
      text:
        'SELECT * FROM events WHERE id > $1 AND ($2::text IS NULL OR starts_with(type, $2)) ' +
        `${byProduct ? 'AND product = $4 ' : ''}ORDER BY id LIMIT $3`,
      values: [
        query.since,
        query.typePrefix ?? null,
        query.limit,
        ...(byProduct ? [query.product] : []),
      ],
    });
    return rows.map(toEvent);
  }

  async latestEventId(): Promise<number> {
    const { rows } = await this.db().query<{ events: number }>(
      'SELECT events FROM audit_head WHERE id = 1',
    );
    return rows[0]?.events ?? 0;
  }

  watchEvents(listener: () => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.startWatching();
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.close();
    };
  }

  private startWatching(): void {
    this.timer ??= setInterval(() => {
      if (this.listener) return;
      void this.poll();
      this.reconnectSoon();
    }, POLL_MS);
    this.timer.unref();
    void this.listen();
  }

  private lastAttempt = 0;
  /** A LISTEN connection being opened: at most one at a time, however slow the database. */
  private connecting = false;

  private reconnectSoon(): void {
    if (Date.now() - this.lastAttempt >= RECONNECT_MS) void this.listen();
  }

  private async listen(): Promise<void> {
    if (this.listener || this.connecting || this.listeners.size === 0) return;
    this.connecting = true;
    try {
      await this.openListener();
    } finally {
      this.connecting = false;
    }
  }

  private async openListener(): Promise<void> {
    this.lastAttempt = Date.now();
    const client = new pg.Client({ connectionString: this.url });
    const drop = () => {
      if (this.listener === client) this.listener = null;
      client.removeAllListeners('notification');
      void client.end().catch(() => {});
    };
    client.on('error', drop);
    client.on('end', drop);
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch {
      // Polled meanwhile; the timer tries again.
      drop();
      return;
    }
    if (this.listeners.size === 0) {
      drop();
      return;
    }
    client.on('notification', () => notifyAll(this.listeners));
    this.listener = client;
    // Events committed before LISTEN took effect: look once.
    void this.poll();
  }

  /** Told by the writer once a batch that wrote events has committed. */
  committed(): void {
    notifyAll(this.listeners);
  }

  private async poll(): Promise<void> {
    try {
      const latest = await this.latestEventId();
      if (latest > this.seen) {
        this.seen = latest;
        notifyAll(this.listeners);
      }
    } catch {
      // The next poll tries again; /health reports a database that does not answer.
    }
  }

  /** Stops watching: the timer and the listening connection. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const client = this.listener;
    this.listener = null;
    if (client) {
      client.removeAllListeners('notification');
      void client.end().catch(() => {});
    }
  }
}
