/**
 * The Server-Sent Event streams of one node (SPEC §10). A new stream catches up on its own, with
 * its filters, from its cursor; once it has seen everything up to the shared tail's position it
 * joins the live streams, and the tail — woken by the store when events commit — reads each new
 * page of events once and hands every event to every live stream that has not seen it. So a burst
 * costs one read of the store per wake, whatever the number of streams, and every stream still
 * receives its events in cursor order without gaps or duplicates (`scanned` decides).
 */
import { PassThrough, type Readable } from 'node:stream';
import { typeMatches, type CloudEvent, type StoredEvent } from '../domain/events.js';
import type { EventStore } from '../storage/ports.js';

/** Events read from the store at a time. */
const PAGE = 200;

export interface EventStreamOptions {
  /** Between comment lines on an idle stream. */
  readonly heartbeatMs: number;
  /** Bytes a stream may hold for a client that does not read before it is disconnected. */
  readonly maxBufferedBytes: number;
  /** Told of every stream opened (+1) and closed (−1). */
  readonly onSubscribers?: ((delta: 1 | -1) => void) | undefined;
}

export interface StreamQuery {
  readonly since: number;
  readonly type?: string | undefined;
  /** Only this product's events; undefined for all; null for none (a principal that sees none). */
  readonly product: string | undefined | null;
  /**
   * Asked at every heartbeat: false (a key revoked, expired or suspended since the stream opened)
   * ends the stream, so an open stream outlives its key's rights by one heartbeat at most.
   */
  readonly stillAllowed?: (() => Promise<boolean>) | undefined;
}

interface Subscriber {
  readonly out: PassThrough;
  readonly type: string | undefined;
  readonly product: string | undefined;
  /** The newest cursor it has looked at, sent or filtered out. */
  scanned: number;
  closed: boolean;
}

/** One Server-Sent Event (text/event-stream). */
export function sseFrame(event: CloudEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export class EventStreams {
  private readonly open = new Set<Subscriber>();
  private readonly live = new Set<Subscriber>();
  /** Every event up to it has been handed to the live streams. */
  private tailAt = 0;
  private tailing = false;
  private tailAgain = false;
  private stopWatching: (() => void) | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly toCloud: (event: StoredEvent) => CloudEvent,
    private readonly options: EventStreamOptions,
  ) {}

  stream(query: StreamQuery): Readable {
    const out = new PassThrough();
    const sub: Subscriber = {
      out,
      type: query.type,
      product: query.product ?? undefined,
      scanned: query.since,
      closed: false,
    };
    const heartbeat = setInterval(() => {
      if (out.destroyed || out.writableEnded) return;
      out.write(': keep-alive\n\n');
      if (this.tooSlow(sub)) out.destroy();
      else if (query.stillAllowed) {
        query.stillAllowed().then(
          (allowed) => allowed || out.end(),
          () => out.end(),
        );
      }
    }, this.options.heartbeatMs);
    heartbeat.unref();
    this.open.add(sub);
    this.options.onSubscribers?.(1);
    out.once('close', () => {
      sub.closed = true;
      clearInterval(heartbeat);
      this.open.delete(sub);
      this.live.delete(sub);
      if (this.live.size === 0) {
        this.stopWatching?.();
        this.stopWatching = null;
      }
      this.options.onSubscribers?.(-1);
    });
    // Sent at once, so the client sees the stream open before the first event.
    out.write(': stream of bucket events\n\n');
    if (query.product !== null) void this.catchUp(sub);
    return out;
  }

  /** Ends every open stream (a server closing: clients resume elsewhere from their cursor). */
  close(): void {
    for (const sub of this.open) sub.out.end();
  }

  private tooSlow(sub: Subscriber): boolean {
    return sub.out.writableLength + sub.out.readableLength > this.options.maxBufferedBytes;
  }

  /** Hands `event` to `sub` (if its filters take it); false once the stream is gone. */
  private send(sub: Subscriber, event: StoredEvent, frame: () => string): boolean {
    if (sub.closed || sub.out.destroyed || sub.out.writableEnded) return false;
    sub.scanned = event.id;
    if (!typeMatches(event.type, sub.type)) return true;
    if (sub.product !== undefined && event.product !== sub.product) return true;
    sub.out.write(frame());
    if (this.tooSlow(sub)) {
      sub.out.destroy();
      return false;
    }
    return true;
  }

  /** Reads the stream's backlog with its filters, until it may join the live streams. */
  private async catchUp(sub: Subscriber): Promise<void> {
    try {
      // A cursor beyond the newest event (another installation's, a database restored from a
      // backup) starts from the newest: the stream must never wait for, nor move the shared tail
      // to, an id the store has not given.
      sub.scanned = Math.min(sub.scanned, await this.store.latestEventId());
      for (;;) {
        // Read first: every event up to it is visible to the query below.
        const latest = await this.store.latestEventId();
        const page = await this.store.events({
          since: sub.scanned,
          limit: PAGE,
          typePrefix: sub.type,
          product: sub.product,
        });
        for (const event of page) {
          if (!this.send(sub, event, () => sseFrame(this.toCloud(event)))) return;
        }
        if (sub.closed) return;
        if (page.length === PAGE) continue;
        sub.scanned = Math.max(sub.scanned, latest);
        if (this.live.size === 0) this.tailAt = Math.max(this.tailAt, sub.scanned);
        if (sub.scanned >= this.tailAt) {
          this.live.add(sub);
          this.stopWatching ??= this.store.watchEvents(() => void this.tail());
          // Events may have committed since `latest`, before anything watched.
          void this.tail();
          return;
        }
        // The tail has passed it meanwhile: read on, to where the tail is (yielding, so that a
        // store answering at once never holds the event loop).
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      sub.out.destroy(error as Error);
    }
  }

  /** Reads the events after the tail once, and hands each to every live stream. */
  private async tail(): Promise<void> {
    if (this.tailing) {
      this.tailAgain = true;
      return;
    }
    this.tailing = true;
    try {
      do {
        this.tailAgain = false;
        for (;;) {
          if (this.live.size === 0) return;
          const page = await this.store.events({ since: this.tailAt, limit: PAGE });
          for (const event of page) {
            let frame: string | null = null;
            const once = () => (frame ??= sseFrame(this.toCloud(event)));
            for (const sub of this.live) {
              if (event.id > sub.scanned) this.send(sub, event, once);
            }
          }
          const last = page[page.length - 1];
          if (last) this.tailAt = Math.max(this.tailAt, last.id);
          if (page.length < PAGE) break;
        }
      } while (this.tailAgain);
    } catch (error) {
      // The live streams end; their clients resume from their cursors.
      for (const sub of this.live) sub.out.destroy(error as Error);
    } finally {
      this.tailing = false;
    }
  }
}
