/**
 * The metadata adapters the contract suite runs against: the embedded SQLite store and the
 * PostgreSQL store (a fresh database per test; skipped when PostgreSQL is unreachable, except
 * under CI=true).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { MetadataStore } from '../../src/storage/ports.js';
import { PostgresMetadataStore } from '../../src/storage/postgres/metadata.js';
import { MIGRATIONS as PG_MIGRATIONS } from '../../src/storage/postgres/migrations.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/metadata.js';
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../../src/storage/sqlite/migrations.js';
import { createTestDatabase, serviceAvailable } from './services.js';

/** One store on fresh storage, and how to reopen that storage or make its schema newer. */
export interface OpenedStore {
  readonly store: MetadataStore;
  /** A new, initialized store on the same storage. */
  reopen(): Promise<MetadataStore>;
  /** Marks the stored schema as one version newer than this code knows. */
  makeSchemaNewer(): Promise<void>;
  /** Runs a statement on the storage from outside the store, as an operator would. */
  exec(sql: string): Promise<void>;
  cleanup(): Promise<void>;
}

export interface MetadataAdapter {
  readonly name: string;
  readonly available: boolean;
  open(): Promise<OpenedStore>;
}

/**
 * A store that `reopen` opens again on the same database, however many times; `cleanup` closes
 * every one, then removes the database.
 */
async function reopenable(
  make: () => MetadataStore,
  backend: {
    makeSchemaNewer(): Promise<void>;
    exec(sql: string): Promise<void>;
    remove(): Promise<void>;
  },
): Promise<OpenedStore> {
  const opened: MetadataStore[] = [];
  const reopen = async () => {
    const store = make();
    opened.push(store);
    await store.init();
    return store;
  };
  return {
    store: await reopen(),
    reopen,
    makeSchemaNewer: () => backend.makeSchemaNewer(),
    exec: (sql) => backend.exec(sql),
    async cleanup() {
      for (const store of opened) await store.close();
      await backend.remove();
    },
  };
}

async function openSqlite(): Promise<OpenedStore> {
  const dir = await mkdtemp(join(tmpdir(), 'bucket-contract-'));
  const file = join(dir, 'bucket.db');
  return reopenable(() => new SqliteMetadataStore(file), {
    async makeSchemaNewer() {
      const db = new Database(file);
      db.pragma(`user_version = ${SQLITE_MIGRATIONS.length + 1}`);
      db.close();
    },
    async exec(sql) {
      const db = new Database(file);
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  });
}

async function openPostgres(): Promise<OpenedStore> {
  const database = await createTestDatabase();
  return reopenable(() => new PostgresMetadataStore(database.url), {
    async makeSchemaNewer() {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        await client.query('UPDATE schema_version SET version = $1', [PG_MIGRATIONS.length + 1]);
      } finally {
        await client.end();
      }
    },
    async exec(sql) {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
    remove: () => database.drop(),
  });
}

export async function metadataAdapters(): Promise<MetadataAdapter[]> {
  return [
    { name: 'sqlite', available: true, open: openSqlite },
    { name: 'postgres', available: await serviceAvailable('postgres'), open: openPostgres },
  ];
}
