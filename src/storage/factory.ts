/**
 * The adapters a configuration names (SPEC §12): the embedded default (SQLite + files + memory),
 * or PostgreSQL, S3 and Redis for any of the three set. Network adapters are imported only when
 * configured, so the embedded default never loads their clients.
 */
import { join } from 'node:path';
import type { BucketConfig } from '../config.js';
import type { BlobStore, Limiter, MetadataStore } from './ports.js';

export interface StorageOptions {
  /** Open the metadata store without migrating or writing (`bucket audit verify`). */
  readonly readonly?: boolean;
}

export async function metadataStoreFor(
  config: BucketConfig,
  options: StorageOptions = {},
): Promise<MetadataStore> {
  if (config.databaseUrl !== undefined) {
    const { PostgresMetadataStore } = await import('./postgres/metadata.js');
    return new PostgresMetadataStore(config.databaseUrl, { readonly: options.readonly ?? false });
  }
  const { SqliteMetadataStore } = await import('./sqlite/metadata.js');
  return new SqliteMetadataStore(join(config.dataDir, 'bucket.db'), {
    readonly: options.readonly ?? false,
  });
}

export async function blobStoreFor(config: BucketConfig): Promise<BlobStore> {
  if (config.blobUrl !== undefined) {
    const { S3BlobStore } = await import('./s3/blobs.js');
    return S3BlobStore.fromUrl(config.blobUrl);
  }
  const { FileBlobStore } = await import('./fs/blobs.js');
  return new FileBlobStore(join(config.dataDir, 'blobs'));
}

export async function limiterFor(config: BucketConfig): Promise<Limiter> {
  if (config.redisUrl !== undefined) {
    const { RedisLimiter } = await import('./redis/limiter.js');
    // The key prefix travels in the URL (`?keyPrefix=`): several installations may share Redis.
    const url = new URL(config.redisUrl);
    const keyPrefix = url.searchParams.get('keyPrefix') ?? 'bucket:';
    url.searchParams.delete('keyPrefix');
    return RedisLimiter.fromUrl(url.toString(), { keyPrefix });
  }
  const { MemoryLimiter } = await import('./memory/limiter.js');
  return new MemoryLimiter();
}
