/** Errors every metadata (or blob) adapter raises the same way. */
import type { CommitRefusal } from '../domain/commit.js';

/** The database was migrated by a newer Bucket: starting on it could corrupt what it wrote. */
export class SchemaTooNewError extends Error {
  constructor(found: number, known: number) {
    super(
      `the database schema is version ${found}, newer than this Bucket knows (${known}); ` +
        'upgrade the Bucket before starting it on this data',
    );
  }
}

/**
 * The disk did not confirm a sync of committed writes (`sqlite/wal-sync.ts`): nothing committed
 * since the last good sync is acknowledged, and the store refuses every later write. Answered as
 * 503 `storage_unavailable`; the message, which names a server path, goes only to the log.
 */
export class DurabilityError extends Error {
  constructor(file: string, cause: unknown) {
    super(
      `the metadata database's write-ahead log ${file} could not be synced to disk ` +
        `(${(cause as Error).message ?? String(cause)}); writes stop until the disk is checked ` +
        'and the server restarted',
      { cause },
    );
    this.name = 'DurabilityError';
  }
}

/** Thrown inside an atomic commit's transaction to roll all of it back (both stores). */
export class AtomicRefusal extends Error {
  constructor(
    readonly index: number,
    readonly refusal: CommitRefusal,
  ) {
    super(`commit ${index} of an atomic batch was refused`);
  }
}

/**
 * A stored content is there but not whole (a composite missing some of its links, decision record
 * 0064): its bytes would be served shifted or short. Readers answer it as the integrity failure
 * it is (SPEC §9), never as a store that does not answer.
 */
export class ContentDamagedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContentDamagedError';
  }
}
