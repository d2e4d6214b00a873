/**
 * Stored artifact versions checked against the audit log (SPEC §6): each version's content against
 * its recorded digest, and each version against the one allowed write entry that claims it — its
 * digest and size in clear, every other recorded fact through the entry's salted facts hash.
 */
import type { ArtifactVersion } from '../domain/artifact.js';
import { EMPTY_SHA256 } from '../domain/sha256.js';
import { isJsonObject } from './entry.js';
import type { Problems } from './verify-report.js';
import { factsHash } from './version-facts.js';

export interface VerifyVersion {
  readonly version: ArtifactVersion;
  /** The bytes when the version is stored inline, else null. */
  readonly inline: Buffer | null;
  /**
   * The salt of the facts hash its entry carries (version-facts.ts); null for a version written
   * before entries carried one (docs/decisions/0026), and once an erasure destroyed it.
   */
  readonly factsSalt: Buffer | null;
  /**
   * Set by the source when the version was erased (SPEC §8: marked purged with reason `erasure`):
   * its salt was destroyed with its content, so its facts hash can no longer be checked. The purge
   * itself is still checked against the entry the row points at (`purgeChecked`): a salt gone
   * without that entry is a finding.
   */
  readonly saltDestroyed?: boolean;
}

export interface ContentDigest {
  /** Hex. */
  readonly sha256: string;
  readonly size: number;
}

/** The SHA-256 and length of a version's content (inline bytes or blob); rejects when missing. */
export type DigestOf = (stored: VerifyVersion) => Promise<ContentDigest>;

interface VersionKey {
  readonly product: unknown;
  readonly class: unknown;
  readonly name: unknown;
  readonly version: unknown;
}

/** What an allowed write entry says it created. */
interface Claim {
  readonly index: number;
  readonly sha256: unknown;
  readonly size: unknown;
  /** The salted hash of the version's facts; undefined in entries written before 0026. */
  readonly facts: unknown;
}

/** A retention change an allowed entry records (SPEC §8): the version's retention before and after. */
interface RetentionAmendment {
  readonly index: number;
  readonly from: unknown;
  readonly to: unknown;
}

function sameRetention(a: unknown, b: unknown): boolean {
  if (!isJsonObject(a) || !isJsonObject(b)) return false;
  return a['mode'] === b['mode'] && a['until'] === b['until'];
}

function versionLabel(v: VersionKey): string {
  return `${String(v.product)}/${String(v.class)}/${String(v.name)} v${String(v.version)}`;
}

function claimKey(v: VersionKey): string {
  return JSON.stringify([v.product, v.class, v.name, v.version]);
}

/**
 * Claims held in memory in one pass at most (~350 bytes each): more versions than this are
 * matched in several passes over the log, each holding the claims of one share of the versions.
 */
export const CLAIMS_PER_PASS = 500_000;

/** How many passes match `versions` versions within CLAIMS_PER_PASS claims each. */
export function passesFor(versions: number): number {
  return Math.max(1, Math.ceil(versions / CLAIMS_PER_PASS));
}

/** One share of the versions: those whose key hashes to `index` of `of` (FNV-1a). */
export interface Partition {
  readonly index: number;
  readonly of: number;
}

function shareOf(key: string, of: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % of;
}

/** The versions allowed write entries claim, matched with the versions stored. */
export class VersionClaims {
  private readonly claims = new Map<string, Claim>();
  /** The purges the log records (SPEC §8), by the version whose content each removed. */
  private readonly purges = new Map<string, Claim>();
  /** The audited retention changes, by version, in log order. */
  private readonly amendments = new Map<string, RetentionAmendment[]>();

  constructor(
    private readonly problems: Problems,
    /** The share of the versions this pass matches; all of them when absent. */
    private readonly partition: Partition = { index: 0, of: 1 },
  ) {}

  private mine(key: string): boolean {
    return this.partition.of === 1 || shareOf(key, this.partition.of) === this.partition.index;
  }

  /** Records what an entry says it created, when it is an allowed write, or purged. */
  record(index: number, parsed: Record<string, unknown>): void {
    if (parsed['allow'] !== true) return;
    const target = isJsonObject(parsed['target']) ? parsed['target'] : {};
    const purge = parsed['purge'];
    if (isJsonObject(purge)) {
      const purged = { ...target, version: purge['version'] } as VersionKey;
      if (!this.mine(claimKey(purged))) return;
      this.purges.set(claimKey(purged), {
        index,
        sha256: purge['sha256'],
        size: purge['size'],
        facts: undefined,
      });
      return;
    }
    const governance = parsed['governance'];
    if (isJsonObject(governance) && isJsonObject(governance['retention'])) {
      const change = governance['retention'];
      const key = claimKey({ ...target, version: change['version'] } as VersionKey);
      if (!this.mine(key)) return;
      const list = this.amendments.get(key) ?? [];
      list.push({ index, from: change['from'], to: change['to'] });
      this.amendments.set(key, list);
      return;
    }
    if (parsed['version'] === undefined) return;
    const claimed = {
      product: target['product'],
      class: target['class'],
      name: target['name'],
      version: parsed['version'],
    };
    const key = claimKey(claimed);
    if (!this.mine(key)) return;
    const earlier = this.claims.get(key);
    if (earlier) {
      this.problems.add(
        'claim_duplicate',
        `audit entries ${earlier.index} and ${index} both claim version ${versionLabel(claimed)}`,
      );
      return;
    }
    this.claims.set(key, {
      index,
      sha256: parsed['sha256'],
      size: parsed['size'],
      facts: parsed['facts'],
    });
  }

  /**
   * Every version's content against its digest, and versions against the entries that claim them;
   * then the claims no version answered. Returns how many versions were read.
   */
  async match(
    versions: AsyncIterable<VerifyVersion> | Iterable<VerifyVersion>,
    contentDigest: DigestOf | undefined,
    /** Told after each version of this share is matched, with how many so far. */
    onMatched?: (count: number) => void,
  ): Promise<number> {
    const { problems } = this;
    let count = 0;
    for await (const stored of versions) {
      const { version } = stored;
      const key = claimKey(version);
      // Another pass's share: matched (and its content read) there.
      if (!this.mine(key)) continue;
      count += 1;
      onMatched?.(count);
      const label = versionLabel(version);
      if (this.purgeChecked(version, key, label)) {
        // Its content is gone by a recorded purge: nothing to hash.
      } else {
        await checkContent(stored, contentDigest, problems);
      }
      const claimed = this.claims.get(key);
      if (!claimed) {
        problems.add('version_unaudited', `version ${label} has no audit entry`);
        continue;
      }
      this.claims.delete(key);
      if (claimed.sha256 !== version.sha256 || claimed.size !== version.size) {
        problems.add(
          'version_mismatch',
          `version ${label} (sha256 ${version.sha256}, size ${version.size}) does not match audit entry ${claimed.index} ` +
            `(sha256 ${String(claimed.sha256)}, size ${String(claimed.size)})`,
        );
      }
      checkFacts(this.asWritten(stored, key, label), label, claimed, problems);
    }
    for (const [key, purge] of this.purges) {
      const [product, cls, name, version] = JSON.parse(key) as unknown[];
      problems.add(
        'purge_unapplied',
        `audit entry ${purge.index} records the purge of ${versionLabel({ product, class: cls, name, version })}, ` +
          'whose version row is not marked purged',
      );
    }
    for (const [key, claimed] of this.claims) {
      const [product, cls, name, version] = JSON.parse(key) as unknown[];
      problems.add(
        'claim_unstored',
        `audit entry ${claimed.index} claims version ${versionLabel({ product, class: cls, name, version })} which is not stored`,
      );
    }
    return count;
  }

  /**
   * The version as its write recorded it: a retention changed since (SPEC §8) is vouched for by
   * the chain of entries that changed it — each starting where the one before ended, the last
   * ending at the stored retention — and the write's facts hash by the retention the first began
   * from.
   */
  private asWritten(stored: VerifyVersion, key: string, label: string): VerifyVersion {
    const changes = this.amendments.get(key);
    if (!changes) return stored;
    this.amendments.delete(key);
    let previous: RetentionAmendment | undefined;
    for (const change of changes) {
      if (previous && !sameRetention(previous.to, change.from)) {
        this.problems.add(
          'retention_unaudited',
          `version ${label}: audit entry ${change.index} changes its retention from another ` +
            `value than entry ${previous.index} set`,
        );
      }
      previous = change;
    }
    const last = changes[changes.length - 1];
    if (last && !sameRetention(last.to, stored.version.retention)) {
      this.problems.add(
        'retention_unaudited',
        `version ${label}: its retention is not the one audit entry ${last.index} set`,
      );
    }
    const first = changes[0]?.from;
    if (!isJsonObject(first)) return stored;
    const retention = first as unknown as ArtifactVersion['retention'];
    return { ...stored, version: { ...stored.version, retention } };
  }

  /**
   * Whether the version is marked purged: its content is then gone, which verification accepts
   * only with the purge entry that removed it (SPEC §8) — the one the row points at, for the
   * content the version recorded.
   */
  private purgeChecked(version: ArtifactVersion, key: string, label: string): boolean {
    const purged = version.purged;
    if (!purged) return false;
    const entry = this.purges.get(key);
    this.purges.delete(key);
    if (!entry) {
      this.problems.add(
        'purge_unaudited',
        `version ${label} is marked purged but no audit entry records its purge: its content is gone`,
      );
    } else if (
      entry.index !== purged.auditIndex ||
      entry.sha256 !== version.sha256 ||
      entry.size !== version.size
    ) {
      this.problems.add(
        'purge_unaudited',
        `version ${label} is marked purged by audit entry ${purged.auditIndex}, but entry ` +
          `${entry.index} records the purge of another content`,
      );
    }
    return true;
  }
}

/**
 * Every recorded fact of the version (content type, metadata, creator, retention…) against the
 * salted hash its entry carries. An entry without one (written before 0026) goes with a version
 * without a salt; a salt gone from a version whose entry has a hash is a finding, unless the
 * source says an erasure destroyed it.
 */
function checkFacts(
  stored: VerifyVersion,
  label: string,
  claimed: Claim,
  problems: Problems,
): void {
  const { factsSalt } = stored;
  if (claimed.facts === undefined) {
    if (factsSalt !== null) {
      problems.add(
        'facts_mismatch',
        `version ${label} has a facts salt, but audit entry ${claimed.index} commits to no facts`,
      );
    }
    return;
  }
  if (factsSalt === null) {
    if (stored.saltDestroyed) return;
    problems.add(
      'facts_salt_missing',
      `version ${label}: the salt of its facts is gone, so audit entry ${claimed.index} cannot ` +
        'vouch for its content type, metadata, creator or retention',
    );
    return;
  }
  if (factsHash(factsSalt, stored.version) !== claimed.facts) {
    problems.add(
      'facts_mismatch',
      `version ${label}: its recorded facts (content type, metadata, creator, retention, …) ` +
        `are not those audit entry ${claimed.index} committed to`,
    );
  }
}

async function checkContent(
  stored: VerifyVersion,
  contentDigest: DigestOf | undefined,
  problems: Problems,
): Promise<void> {
  const { version } = stored;
  const label = `version ${versionLabel(version)}`;
  if (version.tombstone) {
    if (version.sha256 !== EMPTY_SHA256 || version.size !== 0) {
      problems.add(
        'content_mismatch',
        `${label}: a tombstone must record the empty content (sha256 ${EMPTY_SHA256}, size 0)`,
      );
    }
    return;
  }
  if (!contentDigest) return;
  let digest: ContentDigest;
  try {
    digest = await contentDigest(stored);
  } catch (error) {
    problems.add(
      'content_unreadable',
      `${label}: content unreadable (${(error as Error).message})`,
    );
    return;
  }
  if (digest.sha256 !== version.sha256) {
    problems.add('content_mismatch', `${label}: content does not hash to its recorded sha256`);
  } else if (digest.size !== version.size) {
    problems.add(
      'content_mismatch',
      `${label}: content has ${digest.size} bytes, ${version.size} recorded`,
    );
  }
}
