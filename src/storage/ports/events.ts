/** The EventStore port: reads of the event outbox (SPEC §10). */
import type { StoredEvent } from '../../domain/events.js';

/** The filters of `GET /v1/events` (SPEC §10), in cursor order. */
export interface EventQuery {
  /** Exclusive lower bound on the cursor. */
  readonly since: number;
  readonly limit: number;
  /** Only events whose type starts with it. */
  readonly typePrefix?: string | undefined;
  /** Only events whose `bucketproduct` is it. */
  readonly product?: string | undefined;
}

/**
 * The event outbox (SPEC §10). There is no append here: every change of the other ports writes its
 * events in its own transaction (so an event exists iff its change committed), numbered under the
 * lock that serializes audit appends — a reader never sees cursor n+1 before n.
 */
export interface EventStore {
  /** Events after `query.since`, oldest first, of those committed (and durable). */
  events(query: EventQuery): Promise<StoredEvent[]>;
  /** The newest readable cursor; 0 when there is none. */
  latestEventId(): Promise<number>;
  /**
   * Calls `listener` whenever events may have been committed (by this process at once, by other
   * nodes within a moment); returns the function that stops it. Listeners are isolated from each
   * other's failures.
   */
  watchEvents(listener: () => void): () => void;
}
