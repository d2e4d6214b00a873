/**
 * The embedded store's webhooks (migration 11, SPEC §10): subscriptions, their delivery state and
 * log — the WebhookStore port. Creating, deleting and disabling are changes with their events
 * (SqliteChanges); an attempt is on disk before the dispatcher goes on. The lease is kept as in
 * the shared store, though only this process delivers.
 */
import type Database from 'better-sqlite3';
import { webhookEvent, webhookEventsOf } from '../../domain/events.js';
import type { DeliveryAttempt, DeliveryProgress, WebhookRecord } from '../../domain/webhooks.js';
import type { AttemptRecord, ChangeEntry, WebhookClaim, WebhookStore } from '../ports.js';
import { toDelivery, toWebhook, webhookRow, type DeliveryRow, type WebhookRow } from '../rows.js';
import type { SqliteChanges } from './changes.js';

/** Every state write names the lease owner: nothing changes once the lease is another's. */
const OWNED = 'WHERE id = @id AND lease_owner = @owner';

export class SqliteWebhooks implements WebhookStore {
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    private readonly changes: SqliteChanges,
  ) {
    this.statements = {
      insert: db.prepare(
        'INSERT INTO webhooks (id, url, types, product, secret, created_at, created_by, cursor, ' +
          'next_attempt_at, failures, failing_since, disabled_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      byId: db.prepare<[string], WebhookRow>('SELECT * FROM webhooks WHERE id = ?'),
      list: db.prepare<[], WebhookRow>('SELECT * FROM webhooks ORDER BY created_at, id'),
      delete: db.prepare('DELETE FROM webhooks WHERE id = ?'),
      claim: db.prepare<[WebhookClaim], WebhookRow>(
        'UPDATE webhooks SET lease_owner = @owner, lease_until = @leaseUntil WHERE id IN (' +
          'SELECT id FROM webhooks WHERE disabled_at IS NULL AND next_attempt_at <= @now ' +
          'AND cursor < @latestEventId ' +
          'AND (lease_until IS NULL OR lease_until < @now OR lease_owner = @owner) ' +
          'ORDER BY next_attempt_at LIMIT @limit) RETURNING *',
      ),
      progress: db.prepare(
        'UPDATE webhooks SET cursor = @cursor, next_attempt_at = @nextAttemptAt, ' +
          `failures = @failures, failing_since = @failingSince ${OWNED}`,
      ),
      attempt: db.prepare(
        'INSERT INTO webhook_deliveries (webhook_id, event_id, attempt, at, status, error, ' +
          'duration_ms) VALUES (@id, @eventId, @attempt, @at, @status, @error, @durationMs)',
      ),
      disable: db.prepare(
        `UPDATE webhooks SET disabled_at = @at, lease_owner = NULL, lease_until = NULL ${OWNED}`,
      ),
      release: db.prepare(`UPDATE webhooks SET lease_owner = NULL, lease_until = NULL ${OWNED}`),
      deliveries: db.prepare<[string, number, number], DeliveryRow>(
        'SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND id > ? ORDER BY id LIMIT ?',
      ),
    };
  }

  async insertWebhook(record: WebhookRecord, entry?: ChangeEntry): Promise<void> {
    await this.changes.applyChange(() => this.statements.insert.run(...webhookRow(record)), {
      entry,
      stamp: false,
      events: () => [webhookEvent('created', record)],
    });
  }

  async getWebhook(id: string): Promise<WebhookRecord | null> {
    const row = this.statements.byId.get(id);
    return row ? toWebhook(row) : null;
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    return this.statements.list.all().map(toWebhook);
  }

  async deleteWebhook(id: string, entry?: ChangeEntry): Promise<WebhookRecord | null> {
    return this.changes.applyChange(
      () => {
        const row = this.statements.byId.get(id);
        if (!row) return null;
        this.statements.delete.run(id);
        return toWebhook(row);
      },
      {
        entry,
        stamp: false,
        changed: (webhook) => webhook !== null,
        events: webhookEventsOf('deleted'),
      },
    );
  }

  async claimWebhooks(claim: WebhookClaim): Promise<WebhookRecord[]> {
    // Not waited for: a lease lost with the process is no one else's to honour (this process is
    // the only writer), and the next acknowledged write's sync covers it.
    return (await this.changes.write(() => this.statements.claim.all(claim))).map(toWebhook);
  }

  async advanceWebhook(id: string, owner: string, progress: DeliveryProgress): Promise<boolean> {
    // Not waited for: passing events it does not want again after a crash changes nothing.
    const advanced = await this.changes.write(() =>
      this.statements.progress.run({ id, owner, ...progress }),
    );
    return advanced.changes > 0;
  }

  async recordAttempt(id: string, owner: string, record: AttemptRecord): Promise<boolean> {
    return this.changes.writeDurably(() =>
      this.db
        .transaction(() => {
          if (this.statements.progress.run({ id, owner, ...record.progress }).changes === 0) {
            return false;
          }
          this.statements.attempt.run({ id, ...record.attempt });
          return true;
        })
        .immediate(),
    );
  }

  async disableWebhook(id: string, owner: string, at: string, reason: string): Promise<boolean> {
    const disabled = await this.changes.applyChange(
      () => {
        const row = this.statements.byId.get(id);
        if (!row || this.statements.disable.run({ id, owner, at }).changes === 0) return null;
        return toWebhook(row);
      },
      {
        stamp: false,
        changed: (webhook) => webhook !== null,
        events: webhookEventsOf('disabled', reason),
      },
    );
    return disabled !== null;
  }

  async releaseWebhook(id: string, owner: string): Promise<void> {
    await this.changes.write(() => this.statements.release.run({ id, owner }));
  }

  async webhookDeliveries(id: string, after: number, limit: number): Promise<DeliveryAttempt[]> {
    return this.statements.deliveries.all(id, after, limit).map(toDelivery);
  }
}
