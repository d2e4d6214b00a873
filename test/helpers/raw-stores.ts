/**
 * Every byte a Bucket keeps at rest, read past the Bucket: the data directory's files (SQLite
 * database and WAL, blob files) and, in a scale-out run, every row of every PostgreSQL table as
 * text and every object of the S3 bucket. For tests that some value never reaches the stores.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import type { TestServer } from './server.js';

/** Where each stored byte sequence came from, with its bytes. */
export interface RawBlob {
  readonly where: string;
  readonly bytes: Buffer;
}

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(path)));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}

async function postgresRows(url: string): Promise<RawBlob[]> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const { rows: tables } = await db.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    const found: RawBlob[] = [];
    for (const { name } of tables) {
      // A row as text: bytea columns as \x hex, which the caller looks for too.
      const { rows } = await db.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t`);
      found.push({
        where: `postgres ${name}`,
        bytes: Buffer.from(rows.map((r) => r.row).join('\n')),
      });
    }
    return found;
  } finally {
    await db.end();
  }
}

async function s3Objects(blobUrl: string): Promise<RawBlob[]> {
  const url = new URL(blobUrl);
  const s3 = new S3Client({
    endpoint: url.searchParams.get('endpoint') ?? undefined,
    region: 'us-east-1',
    forcePathStyle: true,
  });
  try {
    const found: RawBlob[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: url.host, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const got = await s3.send(new GetObjectCommand({ Bucket: url.host, Key: object.Key }));
        const bytes = Buffer.from(await got.Body!.transformToByteArray());
        found.push({ where: `s3 ${object.Key}`, bytes });
      }
      token = page.NextContinuationToken;
    } while (token);
    return found;
  } finally {
    s3.destroy();
  }
}

/** Everything the server keeps at rest. */
export async function rawStores(server: TestServer): Promise<RawBlob[]> {
  const found: RawBlob[] = [];
  for (const file of await filesUnder(server.dataDir)) {
    found.push({ where: file, bytes: await readFile(file) });
  }
  const env = server.backend?.env;
  if (env?.['BUCKET_DATABASE_URL']) found.push(...(await postgresRows(env['BUCKET_DATABASE_URL'])));
  if (env?.['BUCKET_BLOB_URL']) found.push(...(await s3Objects(env['BUCKET_BLOB_URL'])));
  return found;
}

/** Where `needle` (as bytes, or as the hex a bytea shows) occurs at rest. */
export async function whereStored(server: TestServer, needle: Buffer): Promise<string[]> {
  const hex = Buffer.from(needle.toString('hex'));
  return (await rawStores(server))
    .filter(({ bytes }) => bytes.includes(needle) || bytes.includes(hex))
    .map(({ where }) => where);
}
