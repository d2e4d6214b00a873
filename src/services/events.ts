/**
 * Reading the event bus (SPEC §10): pages of CloudEvents after a cursor, and Server-Sent Event
 * streams that follow the outbox as it grows — woken by the store when events commit (this node
 * at once, others through the shared database), never fed from memory. A product key sees its own
 * product's events; owner, executor, auditor and workflow_engine keys see all.
 */
import type { Readable } from 'node:stream';
import { cloudEvent, type CloudEvent, type StoredEvent } from '../domain/events.js';
import type { Principal } from '../domain/principal.js';
import { eventScope } from '../gate/access.js';
import type { EventStore } from '../storage/ports.js';
import { EventStreams } from './event-streams.js';

export interface EventServiceOptions {
  /** `bhiv-bucket/<installation id>`. */
  readonly source: string;
  /** Between comment lines on an idle stream (SPEC §10: 15 s). */
  readonly heartbeatMs?: number;
  /** Bytes a stream may hold for a client that does not read before it is disconnected. */
  readonly maxBufferedBytes?: number;
  /** Told of every stream opened (+1) and closed (−1). */
  readonly onSubscribers?: (delta: 1 | -1) => void;
}

export interface EventPageQuery {
  readonly since: number;
  readonly limit: number;
  readonly type?: string | undefined;
  readonly product?: string | undefined;
}

export interface EventPage {
  readonly events: CloudEvent[];
  /** Where the next page starts (`since`): every event up to it has been looked at. */
  readonly nextCursor: string;
}

export class EventService {
  private readonly streams: EventStreams;

  constructor(
    private readonly store: EventStore,
    private readonly options: EventServiceOptions,
  ) {
    this.streams = new EventStreams(store, (event) => this.toCloud(event), {
      heartbeatMs: options.heartbeatMs ?? 15_000,
      maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
      onSubscribers: options.onSubscribers,
    });
  }

  /**
   * The product the principal's events are limited to, intersected with the one it asked for:
   * null when they exclude each other (nothing to see).
   */
  private productFilter(
    principal: Principal,
    asked: string | undefined,
  ): string | undefined | null {
    const scope = eventScope(principal);
    if (scope === undefined) return asked;
    return asked === undefined || asked === scope ? scope : null;
  }

  async page(principal: Principal, query: EventPageQuery): Promise<EventPage> {
    const product = this.productFilter(principal, query.product);
    // Read first: every event up to it is visible to the query below, so a short page has looked
    // at all of them, and the next page may start there.
    const latest = await this.store.latestEventId();
    const stored =
      product === null
        ? []
        : await this.store.events({
            since: query.since,
            limit: query.limit,
            typePrefix: query.type,
            product,
          });
    const last = stored[stored.length - 1]?.id ?? query.since;
    const next = stored.length < query.limit ? Math.max(last, latest, query.since) : last;
    return { events: stored.map((event) => this.toCloud(event)), nextCursor: String(next) };
  }

  private toCloud(event: StoredEvent): CloudEvent {
    return cloudEvent(event, this.options.source);
  }

  /**
   * A text/event-stream of the events after `since` that the principal may see, then of every
   * new one as it commits, until the client goes. A client that does not read is disconnected once
   * `maxBufferedBytes` wait for it (it resumes with Last-Event-ID).
   */
  stream(
    principal: Principal,
    query: {
      since: number;
      type?: string | undefined;
      stillAllowed?: (() => Promise<boolean>) | undefined;
    },
  ): Readable {
    return this.streams.stream({ ...query, product: this.productFilter(principal, undefined) });
  }

  /** Ends every open stream (a server closing: clients resume elsewhere from their cursor). */
  close(): void {
    this.streams.close();
  }
}
