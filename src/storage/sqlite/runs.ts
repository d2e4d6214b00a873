/**
 * The embedded store's runs (migration 16, SPEC §11) — the RunStore port. Every transition is a
 * change with its events (SqliteChanges), on disk before the engine goes on. Leases are kept as
 * in the shared store; only this process runs (one process per data directory), so its start
 * releases every lease a killed process left.
 */
import type Database from 'better-sqlite3';
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
import type { SqliteChanges } from './changes.js';

/** Queued or running with a lease that is live at @now. */
const ACTIVE = "status IN ('queued', 'running') AND lease_until >= @now";
const CLAIMABLE = "status IN ('queued', 'running') AND (lease_until IS NULL OR lease_until < @now)";

export class SqliteRuns implements RunStore {
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    private readonly changes: SqliteChanges,
  ) {
    this.statements = {
      insert: db.prepare(`INSERT INTO runs (${RUN_COLUMNS}) VALUES (${'?, '.repeat(11)}?)`),
      queued: db.prepare<[], { n: number }>(
        "SELECT count(*) AS n FROM runs WHERE status = 'queued'",
      ),
      byId: db.prepare<[string], RunRow>('SELECT * FROM runs WHERE id = ?'),
      setBody: db.prepare<[string, string]>('UPDATE runs SET body = ? WHERE id = ?'),
      anyClaimable: db.prepare<{ now: number }, { found: number }>(
        `SELECT 1 AS found FROM runs WHERE ${CLAIMABLE} LIMIT 1`,
      ),
      active: db.prepare<{ now: number }, { n: number }>(
        `SELECT count(*) AS n FROM runs WHERE ${ACTIVE}`,
      ),
      claim: db.prepare<{ owner: string; now: number; leaseUntil: number; limit: number }, RunRow>(
        'UPDATE runs SET lease_owner = @owner, lease_until = @leaseUntil WHERE id IN (' +
          `SELECT id FROM runs WHERE ${CLAIMABLE} ` +
          "ORDER BY status = 'running' DESC, created_at, id LIMIT @limit) RETURNING *",
      ),
      save: db.prepare(
        'UPDATE runs SET status = ?, started_at = ?, finished_at = ?, deadline = ?, body = ? ' +
          'WHERE id = ? AND lease_owner = ?',
      ),
      renew: db.prepare<[number, string, string], { id: string; cancel_requested: number }>(
        'UPDATE runs SET lease_until = ? WHERE id = ? AND lease_owner = ? ' +
          "AND status IN ('queued', 'running') RETURNING id, cancel_requested",
      ),
      cancelQueued: db.prepare(
        "UPDATE runs SET status = 'cancelled', finished_at = ?, cancel_requested = 1, " +
          "lease_owner = NULL, lease_until = NULL WHERE id = ? AND status = 'queued' " +
          'AND (lease_until IS NULL OR lease_until < ?)',
      ),
      cancelRunning: db.prepare(
        "UPDATE runs SET cancel_requested = 1 WHERE id = ? AND status IN ('queued', 'running')",
      ),
      release: db.prepare(
        'UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?',
      ),
      releaseAll: db.prepare('UPDATE runs SET lease_owner = NULL, lease_until = NULL'),
    };
  }

  async insertRun(run: RunRecord, maxQueued: number, entry?: ChangeEntry): Promise<boolean> {
    return this.changes.applyChange(
      () => {
        if ((this.statements.queued.get()?.n ?? 0) >= maxQueued) return false;
        this.statements.insert.run(...runValues(run));
        return true;
      },
      {
        entry,
        stamp: false,
        changed: (inserted) => inserted,
        events: () => [runEvent(run, 'queued')],
      },
    );
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const row = this.statements.byId.get(id);
    return row ? toRun(row) : null;
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (condition: string, value: unknown) => {
      where.push(condition);
      values.push(value);
    };
    if (filter.kind !== undefined) add('kind = ?', filter.kind);
    if (filter.name !== undefined) add('name = ?', filter.name);
    if (filter.status !== undefined) add('status = ?', filter.status);
    if (filter.product !== undefined) add('product = ?', filter.product);
    if (filter.before) {
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      values.push(filter.before.createdAt, filter.before.createdAt, filter.before.id);
    }
    const sql =
      'SELECT * FROM runs' +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY created_at DESC, id DESC LIMIT ?';
    return this.db
      .prepare<unknown[], RunRow>(sql)
      .all(...values, filter.limit)
      .map(toRun);
  }

  async claimRuns(claim: RunClaim): Promise<RunRecord[]> {
    // Most polls find nothing: a read, which never waits for the write lock, tells so. Only with
    // a run to claim does the poll take the lock (which another process, a backup or the sqlite3
    // shell, may hold for seconds: the engine's poll every 500 ms must not wait for it each time).
    if (this.statements.anyClaimable.get({ now: claim.now }) === undefined) return [];
    // Not waited for: a lease lost with the process is released at the next start.
    const claimed = this.db.transaction(() => {
      const active = this.statements.active.get({ now: claim.now })?.n ?? 0;
      const limit = Math.min(claim.limit, claim.maxActive - active);
      if (limit <= 0) return [];
      return this.statements.claim
        .all({ owner: claim.owner, now: claim.now, leaseUntil: claim.leaseUntil, limit })
        .map(toRun);
    });
    // Read, then written: no other process's commit may come between.
    return this.changes.write(() => claimed.immediate());
  }

  async saveRun(run: RunRecord, owner: string, events: readonly EventDraft[]): Promise<boolean> {
    const values = runValues(run);
    const save = () =>
      this.statements.save.run(
        run.status,
        run.startedAt,
        run.finishedAt,
        run.deadline,
        values[11],
        run.id,
        owner,
      ).changes > 0;
    const options = { stamp: false, changed: (saved: boolean) => saved, events: () => events };
    // A transition without an event (a step marked running) is not waited for on disk: lost in
    // a crash, the step is found queued instead, and runs the same way. The WAL is written in
    // order, so the next transition's sync covers it.
    if (events.length === 0) return this.changes.inTransaction(save, options);
    return this.changes.applyChange(save, options);
  }

  async renewRuns(owner: string, ids: readonly string[], leaseUntil: number): Promise<RunLease[]> {
    const renewed = this.db.transaction(() =>
      ids.flatMap((id) => {
        const row = this.statements.renew.get(leaseUntil, id, owner);
        return row ? [{ id: row.id, cancelRequested: row.cancel_requested === 1 }] : [];
      }),
    );
    return this.changes.write(() => renewed.immediate());
  }

  async requestCancel(id: string, at: string, entry?: ChangeEntry): Promise<RunRecord | null> {
    const now = Date.parse(at);
    let cancelledNow = false;
    return this.changes.applyChange(
      () => {
        const before = this.statements.byId.get(id);
        if (!before) return null;
        if (this.statements.cancelQueued.run(at, id, now).changes > 0) cancelledNow = true;
        else this.statements.cancelRunning.run(id);
        const row = this.statements.byId.get(id);
        return row ? toRun(row) : null;
      },
      {
        entry,
        stamp: false,
        changed: (run) => run !== null,
        events: (run) =>
          run && cancelledNow && isFinished(run.status) ? [runEvent(run, 'cancelled')] : [],
      },
    );
  }

  async attachRecord(id: string, record: ArtifactRef): Promise<RunRecord | null> {
    return this.changes.writeDurably(() => {
      const row = this.statements.byId.get(id);
      if (!row) return null;
      const run = toRun(row);
      if (!isFinished(run.status) || run.record !== null) return run;
      const attached = { ...run, record };
      this.statements.setBody.run(runValues(attached)[11], id);
      return attached;
    });
  }

  async releaseRuns(owner: string | null): Promise<void> {
    await this.changes.writeDurably(() =>
      owner === null ? this.statements.releaseAll.run() : this.statements.release.run(owner),
    );
  }
}
