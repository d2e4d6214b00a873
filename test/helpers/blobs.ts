/** Writing and reading whole contents through a BlobStore, for the blob stores' tests. */
import type { Readable } from 'node:stream';
import type { BlobStore } from '../../src/storage/ports.js';
import { sha256 } from './hash.js';

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Streams `bytes` into `store` in chunks and commits them under their SHA-256 (returned). */
export async function putBytes(
  store: BlobStore,
  bytes: Buffer,
  chunkSize = 64 * 1024,
): Promise<string> {
  const writer = await store.createWriter();
  for (let offset = 0; offset < bytes.length; offset += chunkSize) {
    await writer.write(bytes.subarray(offset, offset + chunkSize));
  }
  const digest = sha256(bytes);
  await writer.commit(digest);
  return digest;
}
