/**
 * The PostgreSQL store's event outbox (SPEC §10). The newest cursor lives in the audit tree's head
 * row (`audit_head.events`), which every writing transaction of every node locks first: a
 * transaction numbers its events from it, and the next one cannot read it before this one commits,
 * so cursors are consecutive in commit order and a reader never sees n+1 before n. `EventColumns`
 * collects a transaction's events for the tree's write statement; `PgEvents` is the EventStore
 * port.
 */
import type { EventDraft, StoredEvent } from '../../domain/events.js';
import type { EventQuery, EventStore } from '../ports.js';
import { toEvent, type EventRow } from '../rows.js';
import { notifyAll } from '../sqlite/events.js';
import type { Queryable } from './connection.js';

/** How often a node with subscribers looks for events other nodes committed. */
const POLL_MS = 250;

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
    for (const column of [
      this.id,
      this.time,
      this.type,
      this.subject,
      this.product,
      this.data,
      this.auditIndex,
    ]) {
      column.length = length;
    }
  }

  /** The parameters of `eventWriteCte`, then the new newest cursor. */
  params(): unknown[] {
    return [
      this.id,
      this.time,
      this.type,
      this.subject,
      this.product,
      this.data,
      this.auditIndex,
      this.lastId,
    ];
  }
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
 * The EventStore port: reads through whichever client the caller's snapshot designates; listeners
 * hear of this node's commits at once and of other nodes' within POLL_MS (polled only while some
 * listener exists).
 */
export class PgEvents implements EventStore {
  private readonly listeners = new Set<() => void>();
  private poller: NodeJS.Timeout | null = null;
  private seen = 0;

  constructor(private readonly db: () => Queryable) {}

  async events(query: EventQuery): Promise<StoredEvent[]> {
    const { rows } = await this.db().query<EventRow>({
      name: 'events-page',
      text:
        'SELECT * FROM events WHERE id > $1 AND ($2::text IS NULL OR starts_with(type, $2)) ' +
        'AND ($3::text IS NULL OR product = $3) ORDER BY id LIMIT $4',
      values: [query.since, query.typePrefix ?? null, query.product ?? null, query.limit],
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
    this.poller ??= setInterval(() => void this.poll(), POLL_MS);
    this.poller.unref();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.poller) {
        clearInterval(this.poller);
        this.poller = null;
      }
    };
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

  close(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
  }
}
