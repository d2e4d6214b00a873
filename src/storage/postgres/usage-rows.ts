/**
 * The PostgreSQL store's usage rows (`product_usage`, SPEC §2.3), read and moved under the audit
 * tree head's lock by the writer's jobs: every product's row, a product's move by the bytes an S3
 * part holds or releases, and what the parts of the uploads a batch completes hold (decision
 * record 0052).
 */
import type pg from 'pg';
import { UsageCounters } from '../../domain/usage.js';
import type { VersionCommit } from '../ports.js';
import type { Queryable } from './connection.js';

/** Moves a product's usage row by `bytes` (an S3 part held, or released when negative). */
export async function moveUsage(client: pg.PoolClient, product: string, bytes: number) {
  if (bytes === 0) return;
  await client.query(
    'INSERT INTO product_usage (product, bytes, artifacts) VALUES ($1, $2, 0) ' +
      'ON CONFLICT (product) DO UPDATE SET bytes = product_usage.bytes + excluded.bytes',
    [product, bytes],
  );
}

/**
 * The bytes the parts of each S3 upload the commits complete hold in their product's usage, read
 * under the tree head's lock (parts are stored and removed under it too).
 */
export async function heldBytesOf(
  client: pg.PoolClient,
  commits: readonly VersionCommit[],
): Promise<Map<string, number>> {
  const uploads = commits.flatMap((c) => (c.s3?.completesUpload ? [c.s3.completesUpload] : []));
  if (uploads.length === 0) return new Map();
  const { rows } = await client.query<{ upload_id: string; bytes: number }>(
    'SELECT upload_id, sum(size)::bigint AS bytes FROM s3_parts ' +
      'WHERE upload_id = ANY($1::text[]) GROUP BY upload_id',
    [uploads],
  );
  return new Map(rows.map((row) => [row.upload_id, Number(row.bytes)]));
}

/** Every product's usage row. */
export async function readUsageRows(db: Queryable): Promise<UsageCounters> {
  const { rows } = await db.query<{ product: string; bytes: number; artifacts: number }>({
    name: 'usage-rows',
    text: 'SELECT product, bytes, artifacts FROM product_usage',
  });
  return new UsageCounters(rows);
}
