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
import { canonicalJson } from '../domain/canonical.js';

export const FACTS_SALT_BYTES = 16;

/** A fresh salt for a new version's facts. */
function newFactsSalt(): Buffer {
  return randomBytes(FACTS_SALT_BYTES);
}

/**
 * The facts a version's entry commits to, named one by one: a member added to versions later
 * joins only with a new construction, so the hashes of stored versions never change. Where the
 * bytes are held (`storage`: inline, blob, none) is left out: it is the store's choice and changes
 * when content is purged; the content itself is `sha256` and `size`.
 */
export function versionFacts(v: ArtifactVersion) {
  return {
    product: v.product,
    class: v.class,
    name: v.name,
    version: v.version,
    sha256: v.sha256,
    size: v.size,
    contentType: v.contentType,
    meta: v.meta,
    createdAt: v.createdAt,
    createdBy: v.createdBy,
    retention: { mode: v.retention.mode, until: v.retention.until },
    tombstone: v.tombstone,
  };
}

/** The `facts` member of the entry that allowed `version` (hex). */
export function factsHash(salt: Buffer, version: ArtifactVersion): string {
  const text = canonicalJson(versionFacts(version));
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
