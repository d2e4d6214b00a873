/**
 * Reading the event bus (SPEC §10): pages of CloudEvents after a cursor, and Server-Sent Event
 * streams that follow the outbox as it grows — woken by the store when events commit (this node
 * at once, others through the shared database), never fed from memory. A product key sees its own
 * product's events; owner, executor, auditor and workflow_engine keys see all.
 */
import { PassThrough, type Readable } from 'node:stream';
import { cloudEvent, type CloudEvent, type StoredEvent } from '../domain/events.js';
import type { Principal } from '../domain/principal.js';
import { eventScope } from '../gate/access.js';
import type { EventStore } from '../storage/ports.js';

/** Events a stream reads from the store at a time. */
const STREAM_PAGE = 200;

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

/** One Server-Sent Event (text/event-stream). */
export function sseFrame(event: CloudEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export class EventService {
  private readonly heartbeatMs: number;
  private readonly maxBufferedBytes: number;
  private readonly open = new Set<PassThrough>();

  constructor(
    private readonly store: EventStore,
    private readonly options: EventServiceOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
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
  stream(principal: Principal, query: { since: number; type?: string | undefined }): Readable {
    const product = this.productFilter(principal, undefined);
    const out = new PassThrough();
    let cursor = query.since;
    let pumping = false;
    let again = false;
    let closed = false;

    const tooSlow = () => out.writableLength + out.readableLength > this.maxBufferedBytes;
    const pump = async (): Promise<void> => {
      if (pumping) {
        again = true;
        return;
      }
      pumping = true;
      try {
        do {
          again = false;
          for (;;) {
            if (closed) return;
            const page = await this.store.events({
              since: cursor,
              limit: STREAM_PAGE,
              typePrefix: query.type,
              product: product ?? undefined,
            });
            for (const event of page) {
              if (closed) return;
              out.write(sseFrame(this.toCloud(event)));
              cursor = event.id;
              if (tooSlow()) {
                out.destroy();
                return;
              }
            }
            if (page.length < STREAM_PAGE) break;
          }
        } while (again);
      } catch (error) {
        out.destroy(error as Error);
      } finally {
        pumping = false;
      }
    };

    const stopWatching = this.store.watchEvents(() => void pump());
    const heartbeat = setInterval(() => {
      out.write(': keep-alive\n\n');
      if (tooSlow()) out.destroy();
    }, this.heartbeatMs);
    heartbeat.unref();
    this.options.onSubscribers?.(1);
    this.open.add(out);
    out.once('close', () => {
      closed = true;
      this.open.delete(out);
      stopWatching();
      clearInterval(heartbeat);
      this.options.onSubscribers?.(-1);
    });
    // Sent at once, so the client sees the stream open before the first event.
    out.write(': stream of bucket events\n\n');
    if (product !== null) void pump();
    return out;
  }

  /** Ends every open stream (a server closing: clients resume elsewhere from their cursor). */
  close(): void {
    for (const out of this.open) out.end();
  }
}
