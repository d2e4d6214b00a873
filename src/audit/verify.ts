/**
 * Verification of an audit log (SPEC §6): recomputes the RFC 6962 tree from the entries' exact
 * bytes, checks every signed-note checkpoint against it, and matches stored artifact versions with
 * the entries that allowed them (every recorded fact, through the salted facts hash), policy
 * versions and keys with the entries that made them. Pure: entries, checkpoints and versions come from the caller, in
 * one pass, so a log of any length verifies in O(n) time and O(log n) memory for the tree; the
 * claims of stored versions are held a share at a time (`versionPasses`: one more reading of the
 * entries per CLAIMS_PER_PASS versions).
 *
 * The checks live beside it: verify-entries.ts (positions, leaf hashes, entry bytes),
 * verify-checkpoints.ts (signed notes against the tree), verify-versions.ts (content and claims),
 * verify-governance.ts (policy versions, keys), verify-erasures.ts (erasure reports), entry-columns.ts (indexed columns against the
 * bytes), verify-report.ts (problem codes and the report).
 */
import type { PolicyVersion } from '../domain/policy.js';
import type { KeyRecord } from '../domain/principal.js';
import { isJsonObject } from './entry.js';
import { checkEntryColumns } from './entry-columns.js';
import type { NoteVerifier } from './note.js';
import { CheckpointChecker, type VerifyCheckpoint } from './verify-checkpoints.js';
import {
  checkEnd,
  checkEntryBytes,
  checkLeafHash,
  checkPosition,
  startingTree,
  type VerifyEntry,
} from './verify-entries.js';
import type { ErasureReport } from '../domain/erasure.js';
import { ErasureClaims } from './verify-erasures.js';
import { GovernanceClaims } from './verify-governance.js';
import { DEFAULT_MAX_PROBLEMS, Problems, type VerifyReport } from './verify-report.js';
import { VersionClaims, type DigestOf, type VerifyVersion } from './verify-versions.js';

export type { VerifyCheckpoint } from './verify-checkpoints.js';
export type { VerifyEntry } from './verify-entries.js';
export { DEFAULT_MAX_PROBLEMS } from './verify-report.js';
export type { ProblemCode, VerifyProblem, VerifyReport } from './verify-report.js';
export type { ContentDigest, VerifyVersion } from './verify-versions.js';
export { passesFor } from './verify-versions.js';

const PROGRESS_EVERY = 4096;

export interface VerifySource {
  /** Entries in index order, starting at `from`. */
  readonly entries: AsyncIterable<VerifyEntry> | Iterable<VerifyEntry>;
  /** The first index of `entries` (a partial export); 0 by default. */
  readonly from?: number;
  /** The hashes of decompose(0, from), left to right: the tree before `from`. */
  readonly frontier?: readonly Buffer[];
  /** How many entries the log says it has (the end of `entries`), when it says so. */
  readonly size?: number;
  /** Checkpoints, smallest size first. */
  readonly checkpoints: AsyncIterable<VerifyCheckpoint> | Iterable<VerifyCheckpoint>;
  readonly verifier: NoteVerifier;
  /** Stored artifact versions; when given, `contentDigest` must be too. */
  readonly versions?: AsyncIterable<VerifyVersion> | Iterable<VerifyVersion>;
  /** The SHA-256 and length of a version's content (inline bytes or blob); rejects when missing. */
  readonly contentDigest?: DigestOf;
  /**
   * For more versions than one pass holds the claims of (`passesFor`): the versions are matched in
   * `passes` shares — the first with this reading of the log and `versions`, each other one
   * reading the entries and the versions again — so memory stays bounded whatever their number.
   */
  readonly versionPasses?: VersionPasses;
  /** Stored policy versions, oldest first, and keys: each against the entry that made it. */
  readonly policies?: readonly PolicyVersion[];
  readonly keys?: readonly KeyRecord[];
  /** Stored erasure reports (SPEC §8): each against the entry carrying its hash. */
  readonly erasures?: readonly ErasureReport[];
  /** Called every few thousand entries and at the end, with entries read so far and the total. */
  readonly onProgress?: (done: number, total: number | undefined) => void;
  readonly maxProblems?: number;
}

export interface VersionPasses {
  readonly passes: number;
  entries(): AsyncIterable<VerifyEntry>;
  versions(): AsyncIterable<VerifyVersion>;
}

/** The claims of one more share of the versions, from the entries read again, matched. */
export async function matchShare(
  problems: Problems,
  share: { readonly index: number; readonly of: number },
  again: VersionPasses,
  contentDigest: DigestOf | undefined,
  onMatched?: (count: number) => void,
): Promise<number> {
  const claims = new VersionClaims(problems, share);
  for await (const entry of again.entries()) {
    // Reads and denials claim nothing: a store's columns say so without parsing the bytes (a
    // column edited to hide a claim is the log check's `entry_column_mismatch`, and the version's
    // `version_unaudited`).
    if (entry.columns && (!entry.columns.allow || entry.columns.operation === 'READ')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(entry.canonical.toString('utf8'));
    } catch {
      continue; // entry_malformed: found by the first pass
    }
    if (isJsonObject(parsed)) claims.record(entry.index, parsed);
  }
  return claims.match(again.versions(), contentDigest, onMatched);
}

/** Verifies one log; never throws on what it reads, every finding is a problem in the report. */
export async function verifyAuditLog(source: VerifySource): Promise<VerifyReport> {
  const problems = new Problems(source.maxProblems ?? DEFAULT_MAX_PROBLEMS);
  const from = source.from ?? 0;
  const tree = startingTree(from, source.frontier ?? [], problems);
  const checkpoints = new CheckpointChecker(source.checkpoints, source.verifier, problems, from);
  const passes = source.versionPasses?.passes ?? 1;
  const claims = source.versions ? new VersionClaims(problems, { index: 0, of: passes }) : null;
  const governance = source.policies || source.keys ? new GovernanceClaims(problems) : null;
  const erasures = source.erasures ? new ErasureClaims(problems) : null;
  const total = source.size === undefined ? undefined : source.size - from;

  await checkpoints.reach(tree);
  let entries = 0;
  let expected = from;
  for await (const entry of source.entries) {
    expected = checkPosition(entry.index, expected, source.size, problems);
    const leafHash = checkLeafHash(entry, problems);
    const parsed = checkEntryBytes(entry, problems);
    if (parsed) {
      if (entry.columns) checkEntryColumns(entry.index, parsed, entry.columns, problems);
      claims?.record(entry.index, parsed);
      governance?.record(entry.index, parsed);
      erasures?.record(entry.index, parsed);
    }
    tree.append(leafHash);
    entries += 1;
    await checkpoints.reach(tree);
    if (entries % PROGRESS_EVERY === 0) source.onProgress?.(entries, total);
  }
  checkEnd(expected, source.size, problems);
  source.onProgress?.(entries, total);
  await checkpoints.finish(tree);

  let versions = 0;
  if (source.versions && claims) {
    versions = await claims.match(source.versions, source.contentDigest);
    for (let index = 1; index < passes && source.versionPasses; index++) {
      const share = { index, of: passes };
      versions += await matchShare(problems, share, source.versionPasses, source.contentDigest);
    }
  }
  if (source.policies) governance?.matchPolicies(source.policies);
  if (source.keys) governance?.matchKeys(source.keys);
  if (source.erasures) erasures?.match(source.erasures);
  return {
    entries,
    treeSize: tree.size,
    rootHash: tree.root().toString('hex'),
    checkpoints: checkpoints.checked,
    checkpointsSkipped: checkpoints.skipped,
    versions,
    policyVersions: source.policies?.length ?? 0,
    keys: source.keys?.length ?? 0,
    problems: problems.list,
    problemCount: problems.count,
  };
}
