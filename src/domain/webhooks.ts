/**
 * Webhooks (SPEC §10): what a subscription is, which events it wants, and when a failed delivery
 * is tried again — exponential backoff from the first failure (1 s, doubling, at most 1 h apart)
 * for 24 h, after which the webhook is disabled. Pure.
 */
import type { StoredEvent } from './events.js';

/** A webhook as stored; `secret` is wrapped by the key-encryption key, never in clear. */
export interface WebhookRecord {
  readonly id: string;
  readonly url: string;
  /** Event type prefixes (SPEC §10 `type` filters); an event matching any one is delivered. */
  readonly types: readonly string[];
  /** Only this product's events, when set. */
  readonly product: string | null;
  readonly secret: string;
  readonly createdAt: string;
  readonly createdBy: string;
  /** The newest event id delivered (or passed over as not wanted): deliveries resume after it. */
  readonly cursor: number;
  /** When the next attempt is due (ms since the epoch). */
  readonly nextAttemptAt: number;
  /** Consecutive failed attempts of the event at `cursor + …`; 0 after a success. */
  readonly failures: number;
  /** When the first of those failures happened (ms), or null. */
  readonly failingSince: number | null;
  readonly disabledAt: string | null;
}

/** One attempt to deliver one event, as the delivery log shows it. */
export interface DeliveryAttempt {
  /** Increasing with every attempt: the page cursor of the log. */
  readonly id: number;
  readonly webhookId: string;
  readonly eventId: number;
  /** 1 for the first attempt of this event, 2 for its first retry… */
  readonly attempt: number;
  readonly at: string;
  /** The HTTP status the target answered, or null when there was no answer. */
  readonly status: number | null;
  /** What went wrong without an answer (refused by the egress rules, timeout, connection). */
  readonly error: string | null;
  readonly durationMs: number;
}

/** Where a webhook stands after an attempt (or after passing events it does not want). */
export interface DeliveryProgress {
  readonly cursor: number;
  readonly nextAttemptAt: number;
  readonly failures: number;
  readonly failingSince: number | null;
}

export interface RetrySchedule {
  /** The first retry's delay (SPEC §10: 1 s); each next one doubles. */
  readonly baseMs: number;
  /** The longest delay between two attempts (1 h). */
  readonly maxMs: number;
  /** How long an event is retried before the webhook is disabled (24 h). */
  readonly windowMs: number;
}

export const RETRY_SCHEDULE: RetrySchedule = {
  baseMs: 1000,
  maxMs: 3_600_000,
  windowMs: 24 * 3_600_000,
};

export function wantsEvent(
  webhook: Pick<WebhookRecord, 'types' | 'product'>,
  event: StoredEvent,
): boolean {
  if (webhook.product !== null && event.product !== webhook.product) return false;
  return webhook.types.some((prefix) => event.type.startsWith(prefix));
}

/** After a 2xx: on to the next event at once. */
export function delivered(eventId: number, now: number): DeliveryProgress {
  return { cursor: eventId, nextAttemptAt: now, failures: 0, failingSince: null };
}

/**
 * After a failed attempt: the same event again after the backoff, or `disable` once the event
 * has been failing for the whole window.
 */
export function failed(
  webhook: Pick<WebhookRecord, 'cursor' | 'failures' | 'failingSince'>,
  now: number,
  schedule: RetrySchedule,
): DeliveryProgress & { readonly disable: boolean } {
  const failures = webhook.failures + 1;
  const failingSince = webhook.failingSince ?? now;
  const delay = Math.min(schedule.baseMs * 2 ** Math.min(failures - 1, 40), schedule.maxMs);
  return {
    cursor: webhook.cursor,
    nextAttemptAt: now + delay,
    failures,
    failingSince,
    disable: now - failingSince >= schedule.windowMs,
  };
}
