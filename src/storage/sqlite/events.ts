/**
 * The embedded store's event outbox (migration 5, SPEC §10): `EventTables` appends inside the
 * writer's transactions (the store's one connection serializes them, so the cursor is the next
 * integer, kept in memory and reloaded after a rollback like the audit tree's edge), and
 * `SqliteEvents` is the EventStore port, reading only what is durable.
 */
import type Database from 'better-sqlite3';
import type { EventDraft, StoredEvent } from '../../domain/events.js';
import type { EventQuery, EventStore } from '../ports.js';
import { notifyAll } from '../listeners.js';
import { toEvent, type EventRow } from '../rows.js';

interface PageParams {
  since: number;
  through: number;
  type: string | null;
  product: string | null;
  limit: number;
}

export class EventTables {
  private last: number | null = null;
  private readonly statements;

  /** `outbox` false writes no rows: the bench's "without" (SqliteStoreOptions.outbox). */
  constructor(
    db: Database.Database,
    private readonly outbox = true,
  ) {
    this.statements = {
      last: db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM events'),
      insert: db.prepare(
        'INSERT INTO events (id, time, type, subject, product, data, audit_index) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      // A type prefix compared with substr (no LIKE: its wildcards are not a prefix's).
      page: db.prepare<[PageParams], EventRow>(
        'SELECT * FROM events WHERE id > @since AND id <= @through ' +
          'AND (@type IS NULL OR substr(type, 1, length(@type)) = @type) ' +
          'ORDER BY id LIMIT @limit',
      ),
      // One product's events (every read of a product key) through events_by_product: a rare
      // product on a long history costs its own rows, not a scan of everyone's.
      productPage: db.prepare<[PageParams], EventRow>(
        'SELECT * FROM events WHERE product = @product AND id > @since AND id <= @through ' +
          'AND (@type IS NULL OR substr(type, 1, length(@type)) = @type) ' +
          'ORDER BY id LIMIT @limit',
      ),
    };
  }

  /** The newest cursor written, committed or in the open transaction. */
  get lastId(): number {
    this.last ??= this.statements.last.get()?.id ?? 0;
    return this.last;
  }

  /** Appends inside the caller's open transaction; after its rollback, call reload(). */
  append(draft: EventDraft, time: string, auditIndex: number | null): void {
    if (!this.outbox) return;
    const id = this.lastId + 1;
    this.statements.insert.run(
      id,
      time,
      draft.type,
      draft.subject,
      draft.product,
      JSON.stringify(draft.data),
      auditIndex,
    );
    this.last = id;
  }

  reload(): void {
    this.last = null;
  }

  page(query: EventQuery, through: number): StoredEvent[] {
    const statement =
      query.product === undefined ? this.statements.page : this.statements.productPage;
    return statement
      .all({
        since: query.since,
        through,
        type: query.typePrefix ?? null,
        product: query.product ?? null,
        limit: query.limit,
      })
      .map(toEvent);
  }
}

/** The EventStore port of the embedded store. */
export class SqliteEvents implements EventStore {
  readonly listeners = new Set<() => void>();

  constructor(
    private readonly tables: EventTables,
    /** The newest cursor on disk (the writer's, after its last sync). */
    private readonly durableId: () => number,
  ) {}

  async events(query: EventQuery): Promise<StoredEvent[]> {
    return this.tables.page(query, this.durableId());
  }

  async latestEventId(): Promise<number> {
    return this.durableId();
  }

  watchEvents(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Told by the writer once new events are on disk. */
  durable(): void {
    notifyAll(this.listeners);
  }
}
