/** The embedded store's keys (hashes only): the KeyStore port. */
import type Database from 'better-sqlite3';
import { keyEvent } from '../../domain/events.js';
import type { KeyRecord } from '../../domain/principal.js';
import type { ChangeEntry, KeyStore } from '../ports.js';
import { toKey, type KeyRow } from '../rows.js';
import type { SqliteChanges } from './changes.js';

export class SqliteKeys implements KeyStore {
  private readonly statements;

  constructor(
    db: Database.Database,
    private readonly changes: SqliteChanges,
  ) {
    this.statements = {
      insert: db.prepare(
        'INSERT INTO keys (id, hash, kind, product, integration_id, name, created_at, expires_at, revoked_at) ' +
          'VALUES (@id, @hash, @kind, @product, @integrationId, @name, @createdAt, @expiresAt, @revokedAt)',
      ),
      byHash: db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE hash = ?'),
      byId: db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE id = ?'),
      list: db.prepare<[], KeyRow>('SELECT * FROM keys ORDER BY created_at, id'),
      revoke: db.prepare('UPDATE keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?'),
      setHash: db.prepare('UPDATE keys SET hash = ? WHERE id = ?'),
    };
  }

  /** A key read inside the caller's transaction (an integration's revocation). */
  byId(id: string): KeyRecord | null {
    const row = this.statements.byId.get(id);
    return row ? toKey(row) : null;
  }

  async insertKey(key: KeyRecord, entry?: ChangeEntry): Promise<void> {
    await this.changes.applyChange(() => this.statements.insert.run(key), {
      entry,
      events: () => [keyEvent('created', key)],
    });
  }

  async findKeyByHash(hash: string): Promise<KeyRecord | null> {
    const row = this.statements.byHash.get(hash);
    return row ? toKey(row) : null;
  }

  async getKey(id: string): Promise<KeyRecord | null> {
    return this.byId(id);
  }

  async listKeys(): Promise<KeyRecord[]> {
    return this.statements.list.all().map(toKey);
  }

  async revokeKey(id: string, at: string, entry?: ChangeEntry): Promise<KeyRecord | null> {
    return this.changes.applyChange(
      () => (this.statements.revoke.run(at, id).changes > 0 ? this.byId(id) : null),
      {
        entry,
        changed: (key) => key !== null,
        // A key revoked earlier keeps its time (and had its event then).
        events: (key) => (key?.revokedAt === at ? [keyEvent('revoked', key)] : []),
      },
    );
  }

  async setKeyHash(id: string, hash: string): Promise<void> {
    await this.changes.applyChange(() => this.statements.setHash.run(hash, id));
  }
}
