/** Rows of the event outbox, webhooks and their delivery log (SPEC §10), both adapters. */
import type { EventType, StoredEvent } from '../../domain/events.js';
import type { DeliveryAttempt, WebhookRecord } from '../../domain/webhooks.js';

export interface EventRow {
  id: number;
  time: string;
  type: string;
  subject: string;
  product: string | null;
  data: string;
  audit_index: number | null;
}

export function toEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    time: row.time,
    type: row.type as EventType,
    subject: row.subject,
    product: row.product,
    data: JSON.parse(row.data) as Record<string, unknown>,
    auditIndex: row.audit_index,
  };
}

export interface WebhookRow {
  id: string;
  url: string;
  types: string;
  product: string | null;
  secret: string;
  created_at: string;
  created_by: string;
  cursor: number;
  next_attempt_at: number;
  failures: number;
  failing_since: number | null;
  disabled_at: string | null;
}

export function toWebhook(row: WebhookRow): WebhookRecord {
  return {
    id: row.id,
    url: row.url,
    types: JSON.parse(row.types) as string[],
    product: row.product,
    secret: row.secret,
    createdAt: row.created_at,
    createdBy: row.created_by,
    cursor: row.cursor,
    nextAttemptAt: row.next_attempt_at,
    failures: row.failures,
    failingSince: row.failing_since,
    disabledAt: row.disabled_at,
  };
}

/** A new webhook's row, in the column order of both stores' inserts. */
export function webhookRow(record: WebhookRecord): unknown[] {
  return [
    record.id,
    record.url,
    JSON.stringify(record.types),
    record.product,
    record.secret,
    record.createdAt,
    record.createdBy,
    record.cursor,
    record.nextAttemptAt,
    record.failures,
    record.failingSince,
    record.disabledAt,
  ];
}

export interface DeliveryRow {
  id: number;
  webhook_id: string;
  event_id: number;
  attempt: number;
  at: string;
  status: number | null;
  error: string | null;
  duration_ms: number;
}

export function toDelivery(row: DeliveryRow): DeliveryAttempt {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    attempt: row.attempt,
    at: row.at,
    status: row.status,
    error: row.error,
    durationMs: row.duration_ms,
  };
}
