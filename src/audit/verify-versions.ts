/**
 * Stored artifact versions checked against the audit log (SPEC §6): each version's content against
 * its recorded digest, and each version against the one allowed write entry that claims it.
 */
import type { ArtifactVersion } from '../domain/artifact.js';
import { EMPTY_SHA256 } from '../domain/sha256.js';
import { isJsonObject } from './entry.js';
import type { Problems } from './verify-report.js';

export interface VerifyVersion {
  readonly version: ArtifactVersion;
  /** The bytes when the version is stored inline, else null. */
  readonly inline: Buffer | null;
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
}

function versionLabel(v: VersionKey): string {
  return `${String(v.product)}/${String(v.class)}/${String(v.name)} v${String(v.version)}`;
}

function claimKey(v: VersionKey): string {
  return JSON.stringify([v.product, v.class, v.name, v.version]);
}

/** The versions allowed write entries claim, matched with the versions stored. */
export class VersionClaims {
  private readonly claims = new Map<string, Claim>();
  /** The purges the log records (SPEC §8), by the version whose content each removed. */
  private readonly purges = new Map<string, Claim>();

  constructor(private readonly problems: Problems) {}

  /** Records what an entry says it created, when it is an allowed write, or purged. */
  record(index: number, parsed: Record<string, unknown>): void {
    if (parsed['allow'] !== true) return;
    const target = isJsonObject(parsed['target']) ? parsed['target'] : {};
    const purge = parsed['purge'];
    if (isJsonObject(purge)) {
      const purged = { ...target, version: purge['version'] } as VersionKey;
      this.purges.set(claimKey(purged), { index, sha256: purge['sha256'], size: purge['size'] });
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
    const earlier = this.claims.get(key);
    if (earlier) {
      this.problems.add(
        'claim_duplicate',
        `audit entries ${earlier.index} and ${index} both claim version ${versionLabel(claimed)}`,
      );
      return;
    }
    this.claims.set(key, { index, sha256: parsed['sha256'], size: parsed['size'] });
  }

  /**
   * Every version's content against its digest, and versions against the entries that claim them;
   * then the claims no version answered. Returns how many versions were read.
   */
  async match(
    versions: AsyncIterable<VerifyVersion> | Iterable<VerifyVersion>,
    contentDigest: DigestOf | undefined,
  ): Promise<number> {
    const { problems } = this;
    let count = 0;
    for await (const stored of versions) {
      count += 1;
      const { version } = stored;
      const label = versionLabel(version);
      const key = claimKey(version);
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
