/**
 * Webhook deliveries (SPEC §10): each node's dispatcher leases the webhooks that are due and
 * behind the newest event (one node per webhook at a time), and delivers each one's events in
 * cursor order, one at a time — the cursor moves only after a 2xx; a failure is tried again after
 * the backoff (domain/webhooks.ts), and an event failing for the whole retry window disables the
 * webhook. Everything it knows is in the database, so a restart or another node continues. It
 * wakes on committed events (on PostgreSQL, other nodes' too, through LISTEN/NOTIFY), when a
 * retry is due, and on a poll that catches what another node left due.
 */
import { randomBytes } from 'node:crypto';
import { cloudEvent, type StoredEvent } from '../domain/events.js';
import { webhookHeaders } from '../domain/standard-webhooks.js';
import {
  delivered,
  failed,
  wantsEvent,
  type DeliveryProgress,
  type RetrySchedule,
  type WebhookRecord,
} from '../domain/webhooks.js';
import type { MetadataStore } from '../storage/ports.js';
import { EgressRefused, postOut, type Resolver } from './egress.js';

export type DeliveryOutcome = 'delivered' | 'failed' | 'refused';

export interface DispatchOptions {
  /** The CloudEvents `source` of the installation. */
  readonly source: string;
  readonly retry: RetrySchedule;
  /** The policy's `egress.allow`, as it stands at each attempt. */
  readonly egressAllow: () => readonly string[];
  /** The secret of a webhook, in clear. */
  readonly secretOf: (webhook: WebhookRecord) => string;
  /** How often to look for webhooks another node left due (default 1 s). */
  readonly pollMs?: number | undefined;
  /** How long a claimed webhook is this node's (default 30 s): a dead node's lease runs out. */
  readonly leaseMs?: number | undefined;
  /** One delivery's time limit (default 10 s). */
  readonly timeoutMs?: number | undefined;
  readonly resolver?: Resolver | undefined;
  /** Each attempt's outcome; `lagSeconds` from the event's time, for a delivered one. */
  readonly observe?: ((outcome: DeliveryOutcome, lagSeconds: number | null) => void) | undefined;
}

/** Webhooks leased per look; more wait for the next one (at once). */
const CLAIM = 16;
/** Events read per page while looking for the next wanted one. */
const PAGE = 100;
/** Deliveries to one webhook before its lease is given back for others' turn. */
const TURN = 100;

export class WebhookDispatcher {
  private readonly owner = randomBytes(8).toString('hex');
  private readonly abort = new AbortController();
  private poll: NodeJS.Timeout | null = null;
  private readonly retries = new Set<NodeJS.Timeout>();
  private unwatch: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** Whether any webhook exists (looked at on each poll and change): events wake nothing else. */
  private anyWebhook = false;

  constructor(
    private readonly metadata: MetadataStore,
    private readonly options: DispatchOptions,
  ) {}

  async start(): Promise<void> {
    await this.look();
    this.unwatch = this.metadata.watchEvents(() => {
      if (this.anyWebhook) this.wake();
    });
    this.poll = setInterval(
      () => void this.look().then(() => this.wake()),
      this.options.pollMs ?? 1000,
    );
    this.poll.unref();
    this.wake();
  }

  /** Webhooks were created or deleted on this node. */
  changed(): void {
    void this.look().then(() => this.wake());
  }

  private async look(): Promise<void> {
    try {
      this.anyWebhook = (await this.metadata.listWebhooks()).some((w) => w.disabledAt === null);
    } catch {
      // The next poll looks again; /health reports a store that does not answer.
    }
  }

  /** Runs a round now, or right after the one running. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.rounds().finally(() => {
      this.running = null;
    });
  }

  private async rounds(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.round();
      } catch {
        // A store that failed is tried again on the next wake or poll.
      }
    } while (this.again && !this.stopped);
  }

  private async round(): Promise<void> {
    if (!this.anyWebhook) return;
    const latestEventId = await this.metadata.latestEventId();
    const now = Date.now();
    const claimed = await this.metadata.claimWebhooks({
      owner: this.owner,
      now,
      leaseUntil: now + (this.options.leaseMs ?? 30_000),
      latestEventId,
      limit: CLAIM,
    });
    await Promise.all(claimed.map((webhook) => this.deliverAll(webhook, latestEventId)));
    if (claimed.length === CLAIM) this.again = true;
  }

  /** Delivers a leased webhook's events in order until one fails, none is left, or its turn ends. */
  private async deliverAll(webhook: WebhookRecord, latestEventId: number): Promise<void> {
    let state: WebhookRecord | null = webhook;
    try {
      const secret = this.options.secretOf(webhook);
      let sent = 0;
      for (; state && sent < TURN && !this.stopped; sent++) {
        const next = await this.nextWanted(state, latestEventId);
        if (!next) break;
        state = await this.attempt(next.state, secret, next.event);
      }
      // Its turn ended with events left: another round, after the other webhooks'.
      if (sent === TURN) this.again = true;
    } finally {
      await this.metadata.releaseWebhook(webhook.id, this.owner).catch(() => {});
    }
  }

  /**
   * The next event the webhook wants, moving its cursor past those it does not (up to
   * `latestEventId`, every event of which was readable before the pages were read); null: none.
   */
  private async nextWanted(
    state: WebhookRecord,
    latestEventId: number,
  ): Promise<{ state: WebhookRecord; event: StoredEvent } | null> {
    for (;;) {
      const page = await this.metadata.events({
        since: state.cursor,
        limit: PAGE,
        product: state.product ?? undefined,
      });
      const event = page.find((candidate) => wantsEvent(state, candidate));
      if (event) return { state, event };
      const passed = page.at(-1)?.id ?? latestEventId;
      if (passed <= state.cursor) return null;
      const progress = { ...progressOf(state), cursor: passed };
      if (!(await this.metadata.advanceWebhook(state.id, this.owner, progress))) return null;
      state = { ...state, ...progress };
      if (page.length === 0) return null;
    }
  }

  /** One attempt; the webhook's new state, or null when it must stop (failed, lost, disabled). */
  private async attempt(
    state: WebhookRecord,
    secret: string,
    event: StoredEvent,
  ): Promise<WebhookRecord | null> {
    const body = JSON.stringify(cloudEvent(event, this.options.source));
    const started = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    let outcome: DeliveryOutcome = 'failed';
    try {
      const answer = await postOut({
        url: state.url,
        body,
        headers: webhookHeaders(secret, String(event.id), Math.floor(started / 1000), body),
        allow: this.options.egressAllow(),
        timeoutMs: this.options.timeoutMs,
        resolver: this.options.resolver,
        signal: this.abort.signal,
      });
      status = answer.status;
      if (status >= 200 && status < 300) outcome = 'delivered';
      else if (status >= 300 && status < 400) error = 'redirect not followed (SPEC §11)';
    } catch (failure) {
      outcome = failure instanceof EgressRefused ? 'refused' : 'failed';
      error = describe(failure);
    }
    // Stopping cut the attempt short: it is the next start's to make.
    if (this.stopped) return null;
    const now = Date.now();
    const next =
      outcome === 'delivered' ? delivered(event.id, now) : failed(state, now, this.options.retry);
    const recorded = await this.metadata.recordAttempt(state.id, this.owner, {
      attempt: {
        eventId: event.id,
        attempt: state.failures + 1,
        at: new Date(started).toISOString(),
        status,
        error,
        durationMs: now - started,
      },
      progress: progressOf(next),
    });
    this.options.observe?.(
      outcome,
      outcome === 'delivered' ? Math.max(0, now - Date.parse(event.time)) / 1000 : null,
    );
    if (!recorded) return null;
    if (outcome === 'delivered') return { ...state, ...progressOf(next) };
    if ('disable' in next && next.disable) {
      const hours = this.options.retry.windowMs / 3_600_000;
      await this.metadata.disableWebhook(
        state.id,
        this.owner,
        new Date(now).toISOString(),
        `event ${event.id} was not delivered within the retry window (${hours} h): ${error ?? `HTTP ${status}`}`,
      );
      return null;
    }
    this.retryAt(next.nextAttemptAt);
    return null;
  }

  private retryAt(at: number): void {
    const timer = setTimeout(
      () => {
        this.retries.delete(timer);
        this.wake();
      },
      Math.max(0, at - Date.now()),
    );
    timer.unref();
    this.retries.add(timer);
  }

  /** Stops delivering: cuts attempts in flight short and gives every lease back. */
  async close(): Promise<void> {
    this.stopped = true;
    this.unwatch?.();
    if (this.poll) clearInterval(this.poll);
    for (const timer of this.retries) clearTimeout(timer);
    this.abort.abort();
    await this.running;
  }
}

function progressOf(state: DeliveryProgress): DeliveryProgress {
  return {
    cursor: state.cursor,
    nextAttemptAt: state.nextAttemptAt,
    failures: state.failures,
    failingSince: state.failingSince,
  };
}

/** What went wrong, without the request's headers or body (the signature stays ours). */
function describe(failure: unknown): string {
  if (failure instanceof EgressRefused) return failure.message;
  const error = failure as NodeJS.ErrnoException;
  return error.code ? `${error.code}: ${error.message}` : (error.message ?? 'error');
}
