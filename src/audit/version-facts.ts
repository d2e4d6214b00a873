/**
 * A version's recorded facts, committed to by the audit entry that allowed it (SPEC §8: "an entry
 * commits to a version's other recorded facts … only through a salted hash whose salt is stored
 * with the version and destroyed by its erasure"). The entry's `facts` member is
 *
 *     hex SHA-256( salt ‖ RFC 8785 canonical JSON of versionFacts(version) )
 *
 * with a random 16-byte salt of the version's own, kept in its row. Without the salt, the log
 * says nothing about a version's content type, metadata or creator that could be guessed and
 * checked; with it, `bucket audit verify` recomputes the hash from the row (docs/decisions/0026).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ArtifactVersion } from '../domain/artifact.js';

export const FACTS_SALT_BYTES = 16;

/**
 * Salts are drawn from one buffer of random bytes, as `randomUUID` caches its randomness: one
 * `randomBytes` call per write cost more (15 µs) than the rest of the facts hash.
 */
const SALTS_PER_DRAW = 256;
let pool = Buffer.alloc(0);
let offset = 0;

/** A fresh salt for a new version's facts. */
function newFactsSalt(): Buffer {
  if (offset + FACTS_SALT_BYTES > pool.length) {
    pool = randomBytes(FACTS_SALT_BYTES * SALTS_PER_DRAW);
    offset = 0;
  }
  const salt = Buffer.from(pool.subarray(offset, offset + FACTS_SALT_BYTES));
  offset += FACTS_SALT_BYTES;
  return salt;
}

/**
 * The facts a version's entry commits to, named one by one: a member added to versions later
 * joins only with a new construction, so the hashes of stored versions never change. Where the
 * bytes are held (`storage`: inline, blob, none) is left out: it is the store's choice and changes
 * when content is purged; the content itself is `sha256` and `size`.
 */
export function versionFacts(v: ArtifactVersion) {
  // Members in code-unit order (and the metadata's too), so that JSON.stringify gives the RFC
  // 8785 form directly: JCS serializes strings and numbers as JSON.stringify does (RFC 8785 §3.2).
  return {
    class: v.class,
    contentType: v.contentType,
    createdAt: v.createdAt,
    createdBy: v.createdBy,
    meta: sortedMembers(v.meta),
    name: v.name,
    product: v.product,
    retention: { mode: v.retention.mode, until: v.retention.until },
    sha256: v.sha256,
    size: v.size,
    tombstone: v.tombstone,
    version: v.version,
  };
}

function sortedMembers(record: Readonly<Record<string, string>>): Record<string, string> {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(record).sort()) {
    Object.defineProperty(sorted, key, { value: record[key], enumerable: true });
  }
  return sorted;
}

/** The `facts` member of the entry that allowed `version` (hex). */
export function factsHash(salt: Buffer, version: ArtifactVersion): string {
  const text = JSON.stringify(versionFacts(version));
  return createHash('sha256').update(salt).update(text, 'utf8').digest('hex');
}

/** A new version's salt and the `facts` its entry carries. */
export function sealFacts(version: ArtifactVersion): {
  readonly salt: Buffer;
  readonly facts: string;
} {
  const salt = newFactsSalt();
  return { salt, facts: factsHash(salt, version) };
}
