/**
 * The PostgreSQL store's runs (migration 13, SPEC §11) — the RunStore port, shared by every node.
 * Claims are serialized by a transaction-scoped advisory lock (so that the count of live leases
 * and the claim agree across nodes) and take rows with `FOR UPDATE SKIP LOCKED`; every state
 * write names the lease owner, with its events in the same transaction (PgWriter).
 */
import type pg from 'pg';
import type { EventDraft } from '../../domain/events.js';
import {
  isFinished,
  runEvent,
  type ArtifactRef,
  type RunFilter,
  type RunRecord,
} from '../../domain/runs.js';
import type { ChangeEntry, RunClaim, RunLease, RunStore } from '../ports.js';
import { RUN_COLUMNS, runValues, toRun, type RunRow } from '../rows/runs.js';
import type { Queryable } from './connection.js';
import type { PgWriter } from './writer.js';

/** Any constant shared by every node: the advisory lock of run claims ("runs"). */
const CLAIM_LOCK = 0x72756e73;
const PLACEHOLDERS = Array.from({ length: 12 }, (_, i) => `$${i + 1}`).join(', ');

export class PgRuns implements RunStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly db: () => Queryable,
    private readonly writer: PgWriter,
  ) {}

  insertRun(run: RunRecord, maxQueued: number, entry?: ChangeEntry): Promise<boolean> {
    return this.writer.applyChange(
      async (client) => {
        const db = client ?? this.pool;
        const { rows } = await db.query<{ n: string }>(
          "SELECT count(*) AS n FROM runs WHERE status = 'queued'",
        );
        if (Number(rows[0]?.n ?? 0) >= maxQueued) return false;
        await db.query(`INSERT INTO runs (${RUN_COLUMNS}) VALUES (${PLACEHOLDERS})`, [
          ...runValues(run),
        ]);
        return true;
      },
      { entry, changed: (inserted) => inserted, events: () => [runEvent(run, 'queued')] },
    );
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const { rows } = await this.db().query<RunRow>('SELECT * FROM runs WHERE id = $1', [id]);
    return rows[0] ? toRun(rows[0]) : null;
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (condition: (n: number) => string, ...given: unknown[]) => {
      where.push(condition(values.length + 1));
      values.push(...given);
    };
    if (filter.kind !== undefined) add((n) => `kind = $${n}`, filter.kind);
    if (filter.name !== undefined) add((n) => `name = $${n}`, filter.name);
    if (filter.status !== undefined) add((n) => `status = $${n}`, filter.status);
    if (filter.product !== undefined) add((n) => `product = $${n}`, filter.product);
    if (filter.before) {
      add(
        (n) => `(created_at < $${n} OR (created_at = $${n} AND id < $${n + 1}))`,
        filter.before.createdAt,
        filter.before.id,
      );
    }
    values.push(filter.limit);
    const { rows } = await this.db().query<RunRow>(
      'SELECT * FROM runs' +
        (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
        ` ORDER BY created_at DESC, id DESC LIMIT $${values.length}`,
      values,
    );
    return rows.map(toRun);
  }

  async claimRuns(claim: RunClaim): Promise<RunRecord[]> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK]);
      const { rows: counted } = await client.query<{ n: string }>(
        "SELECT count(*) AS n FROM runs WHERE status IN ('queued', 'running') " +
          'AND lease_until >= $1',
        [claim.now],
      );
      const limit = Math.min(claim.limit, claim.maxActive - Number(counted[0]?.n ?? 0));
      let rows: RunRow[] = [];
      if (limit > 0) {
        ({ rows } = await client.query<RunRow>(
          "WITH due AS (SELECT id FROM runs WHERE status IN ('queued', 'running') " +
            'AND (lease_until IS NULL OR lease_until < $2) ' +
            "ORDER BY status = 'running' DESC, created_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) " +
            'UPDATE runs r SET lease_owner = $1, lease_until = $3 FROM due WHERE r.id = due.id ' +
            'RETURNING r.*',
          [claim.owner, claim.now, claim.leaseUntil, limit],
        ));
      }
      await client.query('COMMIT');
      return rows.map(toRun);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  saveRun(run: RunRecord, owner: string, events: readonly EventDraft[]): Promise<boolean> {
    const values = runValues(run);
    return this.writer.applyChange(
      async (client) => {
        const result = await (client ?? this.pool).query(
          'UPDATE runs SET status = $1, started_at = $2, finished_at = $3, deadline = $4, ' +
            'body = $5 WHERE id = $6 AND lease_owner = $7',
          [run.status, run.startedAt, run.finishedAt, run.deadline, values[11], run.id, owner],
        );
        return (result.rowCount ?? 0) > 0;
      },
      { changed: (saved) => saved, events: () => events },
    );
  }

  async renewRuns(owner: string, ids: readonly string[], leaseUntil: number): Promise<RunLease[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<{ id: string; cancel_requested: number }>(
      'UPDATE runs SET lease_until = $1 WHERE id = ANY($2) AND lease_owner = $3 ' +
        "AND status IN ('queued', 'running') RETURNING id, cancel_requested",
      [leaseUntil, ids, owner],
    );
    return rows.map((row) => ({ id: row.id, cancelRequested: Number(row.cancel_requested) === 1 }));
  }

  requestCancel(id: string, at: string, entry?: ChangeEntry): Promise<RunRecord | null> {
    let cancelledNow = false;
    return this.writer.applyChange(
      async (client) => {
        const db = client ?? this.pool;
        const queued = await db.query<RunRow>(
          "UPDATE runs SET status = 'cancelled', finished_at = $2, cancel_requested = 1, " +
            "lease_owner = NULL, lease_until = NULL WHERE id = $1 AND status = 'queued' " +
            'AND (lease_until IS NULL OR lease_until < $3) RETURNING *',
          [id, at, Date.parse(at)],
        );
        if (queued.rows[0]) {
          cancelledNow = true;
          return toRun(queued.rows[0]);
        }
        await db.query(
          "UPDATE runs SET cancel_requested = 1 WHERE id = $1 AND status IN ('queued', 'running')",
          [id],
        );
        const { rows } = await db.query<RunRow>('SELECT * FROM runs WHERE id = $1', [id]);
        return rows[0] ? toRun(rows[0]) : null;
      },
      {
        entry,
        changed: (run) => run !== null,
        events: (run) =>
          run && cancelledNow && isFinished(run.status) ? [runEvent(run, 'cancelled')] : [],
      },
    );
  }

  async attachRecord(id: string, record: ArtifactRef): Promise<RunRecord | null> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<RunRow>('SELECT * FROM runs WHERE id = $1 FOR UPDATE', [
        id,
      ]);
      const run = rows[0] ? toRun(rows[0]) : null;
      if (!run || !isFinished(run.status) || run.record !== null) {
        await client.query('COMMIT');
        return run;
      }
      const attached = { ...run, record };
      await client.query('UPDATE runs SET body = $1 WHERE id = $2', [runValues(attached)[11], id]);
      await client.query('COMMIT');
      return attached;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async releaseRuns(owner: string | null): Promise<void> {
    await this.pool.query(
      'UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE $1::text IS NULL OR lease_owner = $1',
      [owner],
    );
  }
}
