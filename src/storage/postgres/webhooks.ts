/**
 * The PostgreSQL store's webhooks (migration 8, SPEC §10): subscriptions, their delivery state
 * and log — the WebhookStore port, shared by every node. A node delivers a webhook only while it
 * holds its lease, taken with `FOR UPDATE SKIP LOCKED` so that nodes claiming together never wait
 * on each other nor take the same webhook; every state write names the lease owner.
 */
import type pg from 'pg';
import { webhookEvent, webhookEventsOf } from '../../domain/events.js';
import type { DeliveryAttempt, DeliveryProgress, WebhookRecord } from '../../domain/webhooks.js';
import type { AttemptRecord, ChangeEntry, WebhookClaim, WebhookStore } from '../ports.js';
import { toDelivery, toWebhook, webhookRow, type DeliveryRow, type WebhookRow } from '../rows.js';
import type { Queryable } from './connection.js';
import type { PgWriter } from './writer.js';

const PROGRESS =
  'UPDATE webhooks SET cursor = $3, next_attempt_at = $4, failures = $5, failing_since = $6 ' +
  'WHERE id = $1 AND lease_owner = $2';

function progressValues(id: string, owner: string, progress: DeliveryProgress): unknown[] {
  return [
    id,
    owner,
    progress.cursor,
    progress.nextAttemptAt,
    progress.failures,
    progress.failingSince,
  ];
}

export class PgWebhooks implements WebhookStore {
  constructor(
    private readonly pool: pg.Pool,
    /** Where reads go (the snapshot's client inside withReadSnapshot). */
    private readonly db: () => Queryable,
    private readonly writer: PgWriter,
  ) {}

  insertWebhook(record: WebhookRecord, entry?: ChangeEntry): Promise<void> {
    return this.writer.applyChange(
      async (client) => {
        await (client ?? this.pool).query(
          'INSERT INTO webhooks (id, url, types, product, secret, created_at, created_by, cursor, ' +
            'next_attempt_at, failures, failing_since, disabled_at) ' +
            'VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
          webhookRow(record),
        );
      },
      { entry, events: () => [webhookEvent('created', record)] },
    );
  }

  async getWebhook(id: string): Promise<WebhookRecord | null> {
    const { rows } = await this.db().query<WebhookRow>('SELECT * FROM webhooks WHERE id = $1', [
      id,
    ]);
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    const { rows } = await this.db().query<WebhookRow>(
      'SELECT * FROM webhooks ORDER BY created_at, id',
    );
    return rows.map(toWebhook);
  }

  deleteWebhook(id: string, entry?: ChangeEntry): Promise<WebhookRecord | null> {
    return this.writer.applyChange(
      async (client) => {
        const { rows } = await (client ?? this.pool).query<WebhookRow>(
          'DELETE FROM webhooks WHERE id = $1 RETURNING *',
          [id],
        );
        return rows[0] ? toWebhook(rows[0]) : null;
      },
      {
        entry,
        changed: (webhook) => webhook !== null,
        events: webhookEventsOf('deleted'),
      },
    );
  }

  async claimWebhooks(claim: WebhookClaim): Promise<WebhookRecord[]> {
    const { rows } = await this.pool.query<WebhookRow>(
      'WITH due AS (SELECT id FROM webhooks WHERE disabled_at IS NULL AND next_attempt_at <= $2 ' +
        'AND cursor < $4 AND (lease_until IS NULL OR lease_until < $2 OR lease_owner = $1) ' +
        'ORDER BY next_attempt_at LIMIT $5 FOR UPDATE SKIP LOCKED) ' +
        'UPDATE webhooks w SET lease_owner = $1, lease_until = $3 FROM due WHERE w.id = due.id ' +
        'RETURNING w.*',
      [claim.owner, claim.now, claim.leaseUntil, claim.latestEventId, claim.limit],
    );
    return rows.map(toWebhook);
  }

  async advanceWebhook(id: string, owner: string, progress: DeliveryProgress): Promise<boolean> {
    const result = await this.pool.query(PROGRESS, progressValues(id, owner, progress));
    return (result.rowCount ?? 0) > 0;
  }

  async recordAttempt(id: string, owner: string, record: AttemptRecord): Promise<boolean> {
    const { attempt } = record;
    // One statement: the attempt is logged only if the state moved (the lease is still ours).
    const result = await this.pool.query(
      `WITH moved AS (${PROGRESS} RETURNING id) ` +
        'INSERT INTO webhook_deliveries (webhook_id, event_id, attempt, at, status, error, ' +
        'duration_ms) SELECT id, $7, $8, $9, $10, $11, $12 FROM moved',
      [
        ...progressValues(id, owner, record.progress),
        attempt.eventId,
        attempt.attempt,
        attempt.at,
        attempt.status,
        attempt.error,
        attempt.durationMs,
      ],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async disableWebhook(id: string, owner: string, at: string, reason: string): Promise<boolean> {
    const disabled = await this.writer.applyChange(
      async (client) => {
        const { rows } = await (client ?? this.pool).query<WebhookRow>(
          'UPDATE webhooks SET disabled_at = $3, lease_owner = NULL, lease_until = NULL ' +
            'WHERE id = $1 AND lease_owner = $2 RETURNING *',
          [id, owner, at],
        );
        return rows[0] ? toWebhook(rows[0]) : null;
      },
      {
        changed: (webhook) => webhook !== null,
        events: webhookEventsOf('disabled', reason),
      },
    );
    return disabled !== null;
  }

  async releaseWebhook(id: string, owner: string): Promise<void> {
    await this.pool.query(
      'UPDATE webhooks SET lease_owner = NULL, lease_until = NULL ' +
        'WHERE id = $1 AND lease_owner = $2',
      [id, owner],
    );
  }

  async webhookDeliveries(id: string, after: number, limit: number): Promise<DeliveryAttempt[]> {
    const { rows } = await this.db().query<DeliveryRow>(
      'SELECT * FROM webhook_deliveries WHERE webhook_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [id, after, limit],
    );
    return rows.map(toDelivery);
  }
}
