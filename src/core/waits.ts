/**
 * Waiting for runs to finish (the seed's routes, SPEC §11). Every final transition of a run is an
 * event (`bucket.run.succeeded|failed|cancelled|timed_out`, subject: the run id), so waits follow
 * the event outbox instead of polling each run: woken by the store when events commit (this node
 * at once, other nodes through the shared database), they read the run events since their cursor —
 * one query however many waits — and a run is read again only once its final event is there. A
 * slow timer stands in for a lost wake-up. A wait ends when its run finishes, at its time limit
 * (the run read once more), when its signal aborts (the client went away), or when the waits are
 * closed (the server stops).
 */
import { isFinished, type RunRecord } from '../domain/runs.js';
import type { MetadataStore } from '../storage/ports.js';

type Store = Pick<MetadataStore, 'getRun' | 'events' | 'latestEventId' | 'watchEvents'>;

const FINAL_EVENTS = new Set(
  ['succeeded', 'failed', 'cancelled', 'timed_out'].map((verb) => `bucket.run.${verb}`),
);
/** Events read per query while catching up. */
const PAGE = 500;
/** How often the events are read without a wake-up (a lost notification costs at most this). */
const FALLBACK_MS = 1000;

interface Waiter {
  readonly id: string;
  /** The run as last read. */
  last: RunRecord;
  end(run: RunRecord): void;
}

export class RunWaits {
  private readonly waiters = new Set<Waiter>();
  /** Every run event up to it has been looked at (while anyone waits). */
  private cursor: Promise<number> | null = null;
  private unwatch: (() => void) | null = null;
  private fallback: NodeJS.Timeout | null = null;
  private scanning = false;
  private again = false;
  private closed = false;

  constructor(private readonly store: Store) {}

  /** The run once finished, or as it stands when `ms` have passed or `signal` aborts. */
  async wait(id: string, ms: number, signal?: AbortSignal): Promise<RunRecord | null> {
    const run = await this.store.getRun(id);
    if (!run || isFinished(run.status) || ms <= 0 || this.closed || signal?.aborted) return run;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        id,
        last: run,
        end: (result) => {
          if (!this.waiters.delete(waiter)) return;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (this.waiters.size === 0) this.stopWatching();
          resolve(result);
        },
      };
      const onAbort = () => waiter.end(waiter.last);
      const timer = setTimeout(() => this.endAsItStands(waiter), ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
      if (this.waiters.size === 1) this.startWatching();
      // A final event committed before the cursor was read is found by reading the run itself.
      void (this.cursor ?? Promise.resolve()).then(() => this.finishIfDone(waiter));
    });
  }

  /** Ends every wait with its run as it stands, and every later one at once (the server stops). */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters) this.endAsItStands(waiter);
  }

  /** Ends a wait with its run read once more (as it was last read, should that fail). */
  private endAsItStands(waiter: Waiter): void {
    void this.store.getRun(waiter.id).then(
      (latest) => waiter.end(latest ?? waiter.last),
      () => waiter.end(waiter.last),
    );
  }

  private startWatching(): void {
    this.cursor = this.store.latestEventId().catch(() => 0);
    this.unwatch = this.store.watchEvents(() => this.scan());
    this.fallback = setInterval(() => this.scan(), FALLBACK_MS);
    this.fallback.unref();
  }

  private stopWatching(): void {
    this.unwatch?.();
    this.unwatch = null;
    if (this.fallback) clearInterval(this.fallback);
    this.fallback = null;
    this.cursor = null;
  }

  private async finishIfDone(waiter: Waiter): Promise<void> {
    try {
      const run = await this.store.getRun(waiter.id);
      if (!run) return;
      waiter.last = run;
      if (isFinished(run.status)) waiter.end(run);
    } catch {
      // The store failed: the next event or the fallback timer looks again.
    }
  }

  /** Reads the run events since the cursor; ends the waits whose run's final event is there. */
  private scan(): void {
    if (this.scanning) {
      this.again = true;
      return;
    }
    this.scanning = true;
    void (async () => {
      try {
        do {
          this.again = false;
          await this.readEvents();
        } while (this.again && this.waiters.size > 0);
      } catch {
        // The store failed: the next event or the fallback timer reads again.
      } finally {
        this.scanning = false;
      }
    })();
  }

  private async readEvents(): Promise<void> {
    for (;;) {
      const cursor = this.cursor;
      if (!cursor || this.waiters.size === 0) return;
      const since = await cursor;
      const page = await this.store.events({ since, limit: PAGE, typePrefix: 'bucket.run.' });
      const ended = new Set<string>();
      for (const event of page) if (FINAL_EVENTS.has(event.type)) ended.add(event.subject);
      const last = page.at(-1);
      if (last && this.cursor === cursor) this.cursor = Promise.resolve(last.id);
      const done = [...this.waiters].filter((waiter) => ended.has(waiter.id));
      await Promise.all(done.map((waiter) => this.finishIfDone(waiter)));
      if (page.length < PAGE) return;
    }
  }
}
