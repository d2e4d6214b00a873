/** The PostgreSQL store's keys (hashes only): the KeyStore port. */
import type pg from 'pg';
import { keyEvent } from '../../domain/events.js';
import type { KeyRecord } from '../../domain/principal.js';
import type { ChangeEntry, KeyStore } from '../ports.js';
import { toKey, type KeyRow } from '../rows.js';
import { BUMP } from './change-stamp.js';
import type { Queryable } from './connection.js';
import type { PgWriter } from './writer.js';

export class PgKeys implements KeyStore {
  constructor(
    private readonly pool: pg.Pool,
    /** Where reads go (the snapshot's client inside withReadSnapshot). */
    private readonly db: () => Queryable,
    private readonly writer: PgWriter,
  ) {}

  insertKey(key: KeyRecord, entry?: ChangeEntry): Promise<void> {
    return this.writer.applyChange(
      async (client) => {
        await (client ?? this.pool).query(
          BUMP +
            'INSERT INTO keys (id, hash, kind, product, integration_id, name, created_at, ' +
            'expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
          [
            key.id,
            key.hash,
            key.kind,
            key.product,
            key.integrationId,
            key.name,
            key.createdAt,
            key.expiresAt,
            key.revokedAt,
          ],
        );
      },
      { entry, events: () => [keyEvent('created', key)] },
    );
  }

  async findKeyByHash(hash: string): Promise<KeyRecord | null> {
    const { rows } = await this.db().query<KeyRow>('SELECT * FROM keys WHERE hash = $1', [hash]);
    return rows[0] ? toKey(rows[0]) : null;
  }

  async getKey(id: string): Promise<KeyRecord | null> {
    const { rows } = await this.db().query<KeyRow>('SELECT * FROM keys WHERE id = $1', [id]);
    return rows[0] ? toKey(rows[0]) : null;
  }

  async listKeys(): Promise<KeyRecord[]> {
    const { rows } = await this.db().query<KeyRow>('SELECT * FROM keys ORDER BY created_at, id');
    return rows.map(toKey);
  }

  revokeKey(id: string, at: string, entry?: ChangeEntry): Promise<KeyRecord | null> {
    return this.writer.applyChange(
      async (client) => {
        const { rows } = await (client ?? this.pool).query<KeyRow>(
          BUMP + 'UPDATE keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2 RETURNING *',
          [at, id],
        );
        return rows[0] ? toKey(rows[0]) : null;
      },
      {
        entry,
        changed: (key) => key !== null,
        // A key revoked earlier keeps its time (and had its event then).
        events: (key) => (key?.revokedAt === at ? [keyEvent('revoked', key)] : []),
      },
    );
  }

  async setKeyHash(id: string, hash: string): Promise<void> {
    await this.pool.query(BUMP + 'UPDATE keys SET hash = $1 WHERE id = $2', [hash, id]);
  }
}
