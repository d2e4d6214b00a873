/**
 * A bounded LRU of artifact heads (and their inline bytes) for the embedded store. Every read of a
 * head otherwise costs a SQLite read transaction; the process is the only writer of its database,
 * and the only place that moves a head (`applyCommit`) deletes the entry inside the commit, so an
 * entry is never staler than the database.
 */
import type { ArtifactKey } from '../../domain/artifact.js';
import type { VersionForRead } from '../ports.js';

export interface HeadCacheLimits {
  readonly maxEntries: number;
  /** Inline bytes held at most (contents are ≤ the inline threshold each). */
  readonly maxBytes: number;
}

export const DEFAULT_HEAD_CACHE: HeadCacheLimits = { maxEntries: 50_000, maxBytes: 64 << 20 };

function keyOf(key: ArtifactKey): string {
  return `${key.product}\u0000${key.class}\u0000${key.name}`;
}

export class HeadCache {
  private readonly entries = new Map<string, VersionForRead>();
  private bytes = 0;

  constructor(
    private readonly limits: HeadCacheLimits = DEFAULT_HEAD_CACHE,
    /**
     * Called, inside the transaction, whenever a head or its version's row moves (`moved`): a
     * store shared with other processes counts it where they can see it (issue 21).
     */
    private readonly onMove: () => void = () => {},
  ) {}

  /** The head of `key` (or its version's row) moves in the open transaction. */
  moved(key: ArtifactKey): void {
    this.onMove();
    this.delete(key);
  }

  get(key: ArtifactKey): VersionForRead | undefined {
    const id = keyOf(key);
    const found = this.entries.get(id);
    if (found) {
      // Most recently used last: the first entries are evicted first.
      this.entries.delete(id);
      this.entries.set(id, found);
    }
    return found;
  }

  set(key: ArtifactKey, head: VersionForRead): void {
    const size = head.inline?.length ?? 0;
    if (size > this.limits.maxBytes) return;
    this.delete(key);
    this.entries.set(keyOf(key), head);
    this.bytes += size;
    while (this.entries.size > this.limits.maxEntries || this.bytes > this.limits.maxBytes) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.bytes -= this.entries.get(oldest)?.inline?.length ?? 0;
      this.entries.delete(oldest);
    }
  }

  delete(key: ArtifactKey): void {
    const id = keyOf(key);
    const found = this.entries.get(id);
    if (!found) return;
    this.bytes -= found.inline?.length ?? 0;
    this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }
}
