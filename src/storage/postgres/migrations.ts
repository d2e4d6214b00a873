/**
 * Versioned schema of the PostgreSQL metadata store. Append new migrations; never edit old ones.
 * Every text column that is compared or ordered uses the "C" collation: byte order, as in SQLite,
 * whatever the database's default collation.
 */
import type pg from 'pg';
import { SchemaTooNewError } from '../errors.js';
import { MIGRATIONS } from './migration-steps.js';

export { MIGRATIONS } from './migration-steps.js';
/** Any constant shared by every node: the advisory lock that serializes migrations. */
const MIGRATION_LOCK = 0x6275636b6574; // "bucket"

async function schemaVersion(client: pg.PoolClient): Promise<number | null> {
  const table = await client.query<{ found: string | null }>(
    "SELECT to_regclass('schema_version')::text AS found",
  );
  if (table.rows[0]?.found == null) return null;
  const row = await client.query<{ version: number }>(
    'SELECT version FROM schema_version WHERE id = 1',
  );
  return row.rows[0]?.version ?? 0;
}

/**
 * Brings the schema to this code's version in one transaction, under a transaction-scoped
 * advisory lock so that nodes starting together apply each migration once; refuses a newer one.
 */
export async function migrate(client: pg.PoolClient): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    let current = await schemaVersion(client);
    if (current === null) {
      await client.query(
        'CREATE TABLE schema_version (id int PRIMARY KEY CHECK (id = 1), version int NOT NULL); ' +
          'INSERT INTO schema_version (id, version) VALUES (1, 0)',
      );
      current = 0;
    }
    if (current > MIGRATIONS.length) throw new SchemaTooNewError(current, MIGRATIONS.length);
    for (let version = current; version < MIGRATIONS.length; version++) {
      await client.query(MIGRATIONS[version] ?? '');
    }
    if (current < MIGRATIONS.length) {
      await client.query('UPDATE schema_version SET version = $1 WHERE id = 1', [
        MIGRATIONS.length,
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** For a read-only store: the schema must be exactly this code's; nothing is changed. */
export async function checkSchema(client: pg.PoolClient, where: string): Promise<void> {
  const current = await schemaVersion(client);
  if (current === null) {
    throw new Error(
      `the database ${where} has no Bucket schema; a Bucket creates it on its first start`,
    );
  }
  if (current > MIGRATIONS.length) throw new SchemaTooNewError(current, MIGRATIONS.length);
  if (current !== MIGRATIONS.length) {
    throw new Error(
      `the database ${where} has schema version ${current}, this Bucket expects ` +
        `${MIGRATIONS.length}; start the server once on it to migrate, then verify`,
    );
  }
}
