/** The read-only SQLite store of `bucket audit verify`: no creation, no migration, one snapshot. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditDraft } from '../../../src/audit/entry.js';
import { MIGRATIONS } from '../../../src/storage/sqlite/migrations.js';
import { SchemaTooNewError, SqliteMetadataStore } from '../../../src/storage/sqlite/metadata.js';

let dir: string;
let file: string;
let writer: SqliteMetadataStore;

function draft(): AuditDraft {
  return {
    decision: {
      id: randomUUID(),
      allow: true,
      status: 200,
      operation: 'READ',
      principal: { id: 'key-1', kind: 'product', product: 'gurukul' },
      target: { product: 'gurukul', class: 'user_progress', name: 'a.json' },
      reasons: [],
      threats: [],
      policyVersion: 1,
    },
    requestId: randomUUID(),
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const list: T[] = [];
  for await (const item of items) list.push(item);
  return list;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bucket-sqlite-ro-'));
  file = join(dir, 'bucket.db');
  writer = new SqliteMetadataStore(file);
  await writer.init();
});

afterEach(async () => {
  await writer.close();
  await rm(dir, { recursive: true, force: true });
});

describe('SqliteMetadataStore { readonly: true }', () => {
  it('refuses a missing database without creating it or its directory', () => {
    const missing = join(dir, 'nowhere', 'bucket.db');
    expect(() => new SqliteMetadataStore(missing, { readonly: true })).toThrow(
      /cannot open the metadata database .* read-only/,
    );
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
  });

  it('refuses a schema version other than its own instead of migrating', async () => {
    await writer.close();
    const db = new Database(file);
    db.pragma(`user_version = ${MIGRATIONS.length - 1}`);
    db.close();
    expect(() => new SqliteMetadataStore(file, { readonly: true })).toThrow(
      `has schema version ${MIGRATIONS.length - 1}, this Bucket expects ${MIGRATIONS.length}`,
    );
    const newer = new Database(file);
    newer.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    newer.close();
    expect(() => new SqliteMetadataStore(file, { readonly: true })).toThrow(SchemaTooNewError);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1);
    check.close();
    writer = new SqliteMetadataStore(':memory:');
  });

  it('cannot write', async () => {
    const reader = new SqliteMetadataStore(file, { readonly: true });
    try {
      await expect(reader.setSettingOnce('x', 'y')).rejects.toThrow(/readonly/i);
    } finally {
      await reader.close();
    }
  });

  it('reads one snapshot while another connection keeps appending', async () => {
    await writer.appendAudit([draft(), draft(), draft()]);
    const reader = new SqliteMetadataStore(file, { readonly: true });
    try {
      const seen = await reader.withReadSnapshot(async () => {
        const size = await reader.auditSize();
        await writer.appendAudit([draft(), draft()]);
        const entries = await collect(reader.auditRange(0, Number.MAX_SAFE_INTEGER));
        return { size, entries: entries.length, after: await reader.auditSize() };
      });
      expect(seen).toEqual({ size: 3, entries: 3, after: 3 });
      // A new snapshot sees the appends.
      expect(await reader.withReadSnapshot(() => reader.auditSize())).toBe(5);
    } finally {
      await reader.close();
    }
  });

  it('offers snapshots only on read-only stores', async () => {
    await expect(writer.withReadSnapshot(async () => 1)).rejects.toThrow(/readonly: true/);
  });
});
