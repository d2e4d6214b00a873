/** The WebhookStore port: subscriptions, delivery state and leases, the delivery log. */
import type { DeliveryAttempt, DeliveryProgress, WebhookRecord } from '../../domain/webhooks.js';
import type { ChangeEntry } from './change-entry.js';

/** What one delivery attempt leaves: its row in the log and where the webhook stands after it. */
export interface AttemptRecord {
  readonly attempt: Omit<DeliveryAttempt, 'id' | 'webhookId'>;
  readonly progress: DeliveryProgress;
}

/** A dispatcher's claim of due webhooks (`WebhookStore.claimWebhooks`); times in ms. */
export interface WebhookClaim {
  readonly owner: string;
  readonly now: number;
  readonly leaseUntil: number;
  readonly latestEventId: number;
  readonly limit: number;
}

/**
 * Webhooks (SPEC §10) and their delivery state: the cursor, the next attempt, the failures — in
 * the database, so that a restart or another node continues. A node delivers a webhook only while
 * it holds the webhook's lease (`claimWebhooks`): exactly one node at a time. Every write of a
 * dispatcher names its lease owner and changes nothing once the lease is another's.
 */
export interface WebhookStore {
  /** Stores a new webhook; its `bucket.webhook.created` event and allow entry in the same change. */
  insertWebhook(record: WebhookRecord, entry?: ChangeEntry): Promise<void>;
  getWebhook(id: string): Promise<WebhookRecord | null>;
  /** Every webhook, oldest first. */
  listWebhooks(): Promise<WebhookRecord[]>;
  /** Deletes a webhook and its delivery log; returns what it was, or null when it did not exist. */
  deleteWebhook(id: string, entry?: ChangeEntry): Promise<WebhookRecord | null>;
  /**
   * Leases, to `owner` until `leaseUntil` (ms), up to `limit` enabled webhooks that are due at
   * `now` and behind `latestEventId`, whose lease is free, expired or already `owner`'s.
   */
  claimWebhooks(claim: WebhookClaim): Promise<WebhookRecord[]>;
  /** Moves the webhook past events it does not want; false when the lease is not `owner`'s. */
  advanceWebhook(id: string, owner: string, progress: DeliveryProgress): Promise<boolean>;
  /** Logs an attempt and moves the webhook's state; false (nothing written) without the lease. */
  recordAttempt(id: string, owner: string, record: AttemptRecord): Promise<boolean>;
  /** Disables the webhook with its `bucket.webhook.disabled` event; false without the lease. */
  disableWebhook(id: string, owner: string, at: string, reason: string): Promise<boolean>;
  /** Gives the lease back (the webhook has nothing due, or the node stops). */
  releaseWebhook(id: string, owner: string): Promise<void>;
  /** The webhook's attempts after the attempt id `after`, oldest first. */
  webhookDeliveries(id: string, after: number, limit: number): Promise<DeliveryAttempt[]>;
}
