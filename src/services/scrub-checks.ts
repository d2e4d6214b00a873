/**
 * What one scrub checks (SPEC §9), through the verification of `bucket audit verify`
 * (audit/verify*.ts) and the artifact read path, paced by the throttle:
 * - the audit log from the last scrubbed checkpoint to the latest one: the tree rebuilt from the
 *   stored subtrees at that checkpoint (which must fold to the root the last scrub verified), every
 *   later entry's bytes, leaf hash and columns, every checkpoint between the two;
 * - every version against the allowed entry that claims it, and its content re-hashed as the read
 *   path serves it (inline bytes, blobs, and whatever the read path decrypts).
 */
import type { Readable } from 'node:stream';
import { decompose, foldSubtrees } from '../audit/compact.js';
import type { NoteVerifier } from '../audit/note.js';
import { matchShare, verifyAuditLog, type VerifyProblem } from '../audit/verify.js';
import { Problems } from '../audit/verify-report.js';
import { passesFor, type ContentDigest } from '../audit/verify-versions.js';
import type { ScrubCheckpoint } from '../domain/scrub.js';
import type { MetadataStore, StoredCheckpoint, StoredVersion } from '../storage/ports.js';
import type { IntegrityFailure } from './artifacts/integrity.js';
import type { Throttle } from './throttle.js';

/** Entries and versions between two rests of the throttle. */
const ENTRY_CHUNK = 2000;
const VERSION_CHUNK = 50;
const MAX_PROBLEMS = 100;

export interface ScrubSource {
  readonly metadata: MetadataStore;
  readonly verifier: NoteVerifier;
  readonly throttle: Throttle;
  /**
   * A version's whole content as the read path serves it, verified against the version's recorded
   * SHA-256 and size (a read that does not match fails); failures go to `report`, not incidents.
   */
  readonly openContent: (
    stored: StoredVersion,
    report: (failure: IntegrityFailure) => void,
  ) => Promise<Readable | Buffer>;
  readonly progress: (counts: { entries?: number; versions?: number; contents?: number }) => void;
}

export interface LogResult {
  readonly problems: VerifyProblem[];
  readonly entries: number;
}

/** The log from `last` (the last scrubbed checkpoint, or the start) to `target`. */
export async function checkLog(
  source: ScrubSource,
  last: ScrubCheckpoint | null,
  target: ScrubCheckpoint,
): Promise<LogResult> {
  const { metadata, throttle } = source;
  const from = last && last.size <= target.size ? last.size : 0;
  const extra: VerifyProblem[] = [];
  let frontier: Buffer[] = [];
  if (from > 0 && last) {
    const ids = decompose(0, from);
    frontier = await metadata.auditSubtrees(ids);
    const root = foldSubtrees(frontier, ids).toString('hex');
    if (root !== last.rootHash) {
      extra.push({
        code: 'frontier_invalid',
        message:
          `the stored subtrees of the first ${from} entries fold to ${root}, not to the root ` +
          `${last.rootHash} the last scrub verified: entries before it were changed`,
      });
    }
  }
  const report = await verifyAuditLog({
    entries: throttle.paced(metadata.auditRangeIndexed(from, target.size), ENTRY_CHUNK),
    from,
    frontier,
    size: target.size,
    checkpoints: between(metadata.checkpoints(), from, target.size),
    verifier: source.verifier,
    maxProblems: MAX_PROBLEMS,
    onProgress: (done) => source.progress({ entries: done }),
  });
  return { problems: [...extra, ...report.problems], entries: report.entries };
}

async function* between(
  checkpoints: AsyncIterable<StoredCheckpoint>,
  from: number,
  to: number,
): AsyncIterable<StoredCheckpoint> {
  for await (const checkpoint of checkpoints) {
    if (checkpoint.size >= from && checkpoint.size <= to) yield checkpoint;
  }
}

export interface VersionResult {
  readonly problems: VerifyProblem[];
  readonly versions: number;
  readonly contents: number;
}

/**
 * Every version committed with an entry before `size` against its claim, and its content. Versions
 * committed or purged later are left for the next scrub (their entries were not read).
 */
export async function checkVersions(source: ScrubSource, size: number): Promise<VersionResult> {
  const { metadata, throttle } = source;
  const problems = new Problems(MAX_PROBLEMS);
  // Every pass reads the log again; matchShare skips reads and denials by their columns.
  const claiming = () => throttle.paced(metadata.auditRangeIndexed(0, size), ENTRY_CHUNK);
  let contents = 0;
  let versions = 0;
  const digest = async (stored: StoredVersion): Promise<ContentDigest> => {
    const found = await contentDigest(source, stored);
    contents += 1;
    source.progress({ contents });
    return found;
  };
  const settled = async function* () {
    for await (const stored of metadata.allVersions()) {
      const committed = (stored.auditIndex ?? -1) < size;
      const purgedLater = stored.version.purged && stored.version.purged.auditIndex >= size;
      if (!committed || purgedLater) continue;
      yield stored;
    }
  };
  // The versions in shares of at most CLAIMS_PER_PASS claims each: memory stays bounded.
  const passes = passesFor(await metadata.countVersions());
  const again = {
    passes,
    entries: claiming,
    versions: () => throttle.paced(settled(), VERSION_CHUNK),
  };
  for (let index = 0; index < passes; index++) {
    const before = versions;
    versions += await matchShare(
      problems,
      { index, of: passes },
      again,
      (stored) => digest(stored as StoredVersion),
      (count) => source.progress({ versions: before + count }),
    );
  }
  return { problems: problems.list, versions, contents };
}

/**
 * The SHA-256 and length of what the read path serves for `stored`, read at the throttle's pace.
 * The read path verifies every whole read against the version's recorded digest and size
 * (artifacts/integrity.ts): a read that ends intact served exactly those, so they are not hashed
 * a second time here. A content it refuses as corrupt answers the digest it found (a mismatch); a
 * missing one rejects (`content_unreadable`).
 */
async function contentDigest(source: ScrubSource, stored: StoredVersion): Promise<ContentDigest> {
  let failure: IntegrityFailure | null = null;
  const report = (found: IntegrityFailure) => {
    failure = found;
  };
  const mismatch = (): ContentDigest => {
    const found = failure as IntegrityFailure | null;
    if (!found || found.problem === 'missing') {
      throw new Error('its content is missing from the blob store');
    }
    return { sha256: found.found ?? 'unknown', size: stored.version.size };
  };
  const intact = { sha256: stored.version.sha256, size: stored.version.size };
  let opened: Readable | Buffer;
  try {
    opened = await source.openContent(stored, report);
  } catch (error) {
    if (failure) return mismatch();
    throw error;
  }
  if (Buffer.isBuffer(opened)) {
    await source.throttle.read(opened.length);
    return intact;
  }
  try {
    for await (const chunk of opened as AsyncIterable<Buffer>) {
      await source.throttle.read(chunk.length);
    }
  } catch (error) {
    if (failure) return mismatch();
    throw error;
  }
  return intact;
}
