/**
 * The partial files of `bucket get -o FILE`: `.<basename>.<sha256>.part` beside FILE holds a prefix
 * of the content with that SHA-256. It is kept when a download is cut off, so that the same
 * command continues it instead of starting again.
 */
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SHA256_HEX } from '../domain/sha256.js';

export interface PartialFile {
  readonly path: string;
  /** The SHA-256 of the whole content this file holds the beginning of. */
  readonly sha256: string;
  readonly size: number;
}

const SUFFIX = '.part';

/** Where the content with `sha256` is received before it becomes `output`. */
export function partialPath(output: string, sha256: string): string {
  return join(dirname(output), `.${basename(output)}.${sha256}${SUFFIX}`);
}

/** The partial files of `output` (regular files only), the largest first. */
export async function findPartials(output: string): Promise<PartialFile[]> {
  const prefix = `.${basename(output)}.`;
  const names = await readdir(dirname(output)).catch(() => [] as string[]);
  const found: PartialFile[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(SUFFIX)) continue;
    const sha256 = name.slice(prefix.length, -SUFFIX.length);
    if (!SHA256_HEX.test(sha256)) continue;
    const path = join(dirname(output), name);
    const stats = await lstat(path).catch(() => null);
    if (stats?.isFile()) found.push({ path, sha256, size: stats.size });
  }
  return found.sort((a, b) => b.size - a.size);
}

export async function removePartials(partials: readonly PartialFile[]): Promise<void> {
  await Promise.all(partials.map((partial) => unlink(partial.path).catch(() => undefined)));
}

/** Feeds the first `bytes` of `path` to `hash`, read as a stream. */
export async function hashPrefix(
  path: string,
  bytes: number,
  hash: Hash,
  signal: AbortSignal,
): Promise<void> {
  if (bytes === 0) return;
  const stream = createReadStream(path, { start: 0, end: bytes - 1, signal });
  for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
}
