/**
 * Verification of an audit log (SPEC §6): recomputes the RFC 6962 tree from the entries' exact
 * bytes, checks every signed-note checkpoint against it, and matches stored artifact versions with
 * the entries that allowed them. Pure: entries, checkpoints and versions come from the caller, in
 * one pass, so a log of any length verifies in O(n) time and O(log n) memory for the tree.
 */
import canonicalizeModule from 'canonicalize';
import type { ArtifactVersion } from '../domain/artifact.js';
import { EMPTY_SHA256 } from '../domain/sha256.js';
import { CompactRange, decompose } from './compact.js';
import { NoteError, openNote, parseCheckpointBody, type NoteVerifier } from './note.js';
import { HASH_SIZE, leafHash as leafHashOf } from './rfc6962.js';

const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

const DEFAULT_MAX_PROBLEMS = 100;
const PROGRESS_EVERY = 4096;

export interface VerifyEntry {
  readonly index: number;
  readonly canonical: Buffer;
  /** The leaf hash stored beside the bytes, when the source keeps one. */
  readonly leafHash?: Buffer;
}

export interface VerifyCheckpoint {
  /** The size the checkpoint is stored under. */
  readonly size: number;
  /** The signed note text. */
  readonly note: string;
  /** The root stored beside the note, when the source keeps one. */
  readonly rootHash?: Buffer;
}

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
  readonly contentDigest?: (stored: VerifyVersion) => Promise<ContentDigest>;
  /** Called every few thousand entries and at the end, with entries read so far and the total. */
  readonly onProgress?: (done: number, total: number | undefined) => void;
  readonly maxProblems?: number;
}

export type ProblemCode =
  | 'export_malformed'
  | 'entry_missing'
  | 'entry_out_of_order'
  | 'entry_beyond_log'
  | 'entry_malformed'
  | 'entry_not_canonical'
  | 'entry_index_mismatch'
  | 'leaf_hash_mismatch'
  | 'frontier_invalid'
  | 'checkpoint_signature'
  | 'checkpoint_malformed'
  | 'checkpoint_origin'
  | 'checkpoint_size'
  | 'checkpoint_root'
  | 'checkpoint_order'
  | 'truncated'
  | 'content_mismatch'
  | 'content_unreadable'
  | 'version_unaudited'
  | 'version_mismatch'
  | 'claim_duplicate'
  | 'claim_unstored';

export interface VerifyProblem {
  readonly code: ProblemCode;
  readonly message: string;
}

export interface VerifyReport {
  /** Entries read and hashed. */
  readonly entries: number;
  /** The recomputed tree: its size (from + entries) and RFC 6962 root (hex). */
  readonly treeSize: number;
  readonly rootHash: string;
  /** Checkpoints whose signature and root were checked against the recomputed tree. */
  readonly checkpoints: number;
  /** Checkpoints below `from` of a partial export, which its entries cannot check. */
  readonly checkpointsSkipped: number;
  readonly versions: number;
  /** The first `maxProblems` problems found. */
  readonly problems: VerifyProblem[];
  /** All problems found, including those left out of `problems`. */
  readonly problemCount: number;
}

/** What an allowed write entry says it created. */
interface Claim {
  readonly index: number;
  readonly sha256: unknown;
  readonly size: unknown;
}

function versionLabel(v: {
  product: unknown;
  class: unknown;
  name: unknown;
  version: unknown;
}): string {
  return `${String(v.product)}/${String(v.class)}/${String(v.name)} v${String(v.version)}`;
}

function claimKey(v: { product: unknown; class: unknown; name: unknown; version: unknown }) {
  return JSON.stringify([v.product, v.class, v.name, v.version]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function toIterator<T>(source: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in source
    ? source[Symbol.asyncIterator]()
    : (source as Iterable<T>)[Symbol.iterator]();
}

class Problems {
  readonly list: VerifyProblem[] = [];
  count = 0;

  constructor(private readonly max: number) {}

  add(code: ProblemCode, message: string): void {
    this.count += 1;
    if (this.list.length < this.max) this.list.push({ code, message });
  }
}

/** Verifies one log; never throws on what it reads, every finding is a problem in the report. */
export async function verifyAuditLog(source: VerifySource): Promise<VerifyReport> {
  const problems = new Problems(source.maxProblems ?? DEFAULT_MAX_PROBLEMS);
  const from = source.from ?? 0;
  const tree = startingTree(from, source.frontier ?? [], problems);
  const checkpoints = new CheckpointChecker(source, problems, from);
  const claims = source.versions ? new Map<string, Claim>() : null;

  await checkpoints.reach(tree);
  let entries = 0;
  let expected = from;
  for await (const entry of source.entries) {
    expected = checkPosition(entry.index, expected, source.size, problems);
    const computed = leafHashOf(entry.canonical);
    if (entry.leafHash && !entry.leafHash.equals(computed)) {
      problems.add(
        'leaf_hash_mismatch',
        `entry ${entry.index}: leaf hash mismatch (stored ${entry.leafHash.toString('hex')}, ` +
          `SHA-256(0x00 || bytes) is ${computed.toString('hex')})`,
      );
    }
    checkEntryBytes(entry, problems, claims);
    tree.append(computed);
    entries += 1;
    await checkpoints.reach(tree);
    if (entries % PROGRESS_EVERY === 0) source.onProgress?.(entries, progressTotal(source, from));
  }
  if (source.size !== undefined && expected < source.size) {
    problems.add(
      'entry_missing',
      `${range(expected, source.size)} missing: the log has size ${source.size} but its entries end at ${expected}`,
    );
  }
  source.onProgress?.(entries, progressTotal(source, from));
  await checkpoints.finish(tree);

  let versions = 0;
  if (source.versions && claims) {
    versions = await checkVersions(source, claims, problems);
  }
  return {
    entries,
    treeSize: tree.size,
    rootHash: tree.root().toString('hex'),
    checkpoints: checkpoints.checked,
    checkpointsSkipped: checkpoints.skipped,
    versions,
    problems: problems.list,
    problemCount: problems.count,
  };
}

function progressTotal(source: VerifySource, from: number): number | undefined {
  return source.size === undefined ? undefined : source.size - from;
}

function range(first: number, end: number): string {
  return end - first === 1 ? `entry ${first} is` : `entries ${first}..${end - 1} are`;
}

function startingTree(from: number, frontier: readonly Buffer[], problems: Problems) {
  try {
    return from === 0 && frontier.length === 0
      ? CompactRange.empty()
      : CompactRange.fromHashes(from, frontier);
  } catch (error) {
    problems.add(
      'frontier_invalid',
      `the frontier before entry ${from} is invalid (${(error as Error).message}); ` +
        'no checkpoint can match',
    );
    // Zero hashes keep the sizes right, so every later finding still names the right entries.
    return CompactRange.fromHashes(
      from,
      decompose(0, from).map(() => Buffer.alloc(HASH_SIZE)),
    );
  }
}

/** Checks an entry's stored index against its position; returns the next index expected. */
function checkPosition(
  index: number,
  expected: number,
  size: number | undefined,
  problems: Problems,
): number {
  if (size !== undefined && index >= size) {
    problems.add('entry_beyond_log', `entry ${index} lies beyond the log size ${size}`);
  }
  if (index > expected) {
    problems.add(
      'entry_missing',
      `${range(expected, index)} missing (the log jumps from ${expected - 1} to ${index})`,
    );
    return index + 1;
  }
  if (index < expected) {
    problems.add(
      'entry_out_of_order',
      `entry ${index} appears again after entry ${expected - 1} (duplicated or out of order)`,
    );
    return expected;
  }
  return expected + 1;
}

/**
 * RFC 8785 canonical form, fast path first: JCS output equals JSON.stringify when every object's
 * keys are in code-unit order (numbers and strings serialize alike); anything else is settled by
 * the full canonicalization.
 */
function isCanonicalText(value: unknown, text: string): boolean {
  if (keysSorted(value) && JSON.stringify(value) === text) return true;
  return canonicalize(value) === text;
}

function keysSorted(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(keysSorted);
  if (!isRecord(value)) return true;
  let previous: string | undefined;
  for (const key in value) {
    if (previous !== undefined && !(previous < key)) return false;
    if (!keysSorted(value[key])) return false;
    previous = key;
  }
  return true;
}

function checkEntryBytes(
  entry: VerifyEntry,
  problems: Problems,
  claims: Map<string, Claim> | null,
): void {
  const text = entry.canonical.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    problems.add('entry_malformed', `entry ${entry.index}: its bytes are not JSON`);
    return;
  }
  if (!isRecord(parsed)) {
    problems.add('entry_malformed', `entry ${entry.index}: its bytes are not a JSON object`);
    return;
  }
  if (!isCanonicalText(parsed, text)) {
    problems.add(
      'entry_not_canonical',
      `entry ${entry.index}: its bytes are not RFC 8785 canonical JSON`,
    );
  }
  if (parsed['index'] !== entry.index) {
    problems.add(
      'entry_index_mismatch',
      `entry ${entry.index}: its bytes say index ${JSON.stringify(parsed['index'])}`,
    );
  }
  if (claims && parsed['allow'] === true && parsed['version'] !== undefined) {
    claim(entry.index, parsed, claims, problems);
  }
}

/** Records what an allowed write entry says it created, to be matched with stored versions. */
function claim(
  index: number,
  parsed: Record<string, unknown>,
  claims: Map<string, Claim>,
  problems: Problems,
): void {
  const target = isRecord(parsed['target']) ? parsed['target'] : {};
  const claimed = {
    product: target['product'],
    class: target['class'],
    name: target['name'],
    version: parsed['version'],
  };
  const key = claimKey(claimed);
  const earlier = claims.get(key);
  if (earlier) {
    problems.add(
      'claim_duplicate',
      `audit entries ${earlier.index} and ${index} both claim version ${versionLabel(claimed)}`,
    );
    return;
  }
  claims.set(key, { index, sha256: parsed['sha256'], size: parsed['size'] });
}

/** Walks checkpoints alongside the growing tree, checking each one when the tree reaches its size. */
class CheckpointChecker {
  checked = 0;
  skipped = 0;
  private readonly iterator: AsyncIterator<VerifyCheckpoint> | Iterator<VerifyCheckpoint>;
  private next: VerifyCheckpoint | null | undefined;
  private lastSize = -1;

  constructor(
    private readonly source: VerifySource,
    private readonly problems: Problems,
    private readonly from: number,
  ) {
    this.iterator = toIterator(source.checkpoints);
  }

  private async peek(): Promise<VerifyCheckpoint | null> {
    if (this.next === undefined) {
      const result = await this.iterator.next();
      this.next = result.done ? null : result.value;
    }
    return this.next;
  }

  /** Checks every checkpoint whose size the tree has reached. */
  async reach(tree: CompactRange): Promise<void> {
    for (let checkpoint = await this.peek(); checkpoint; checkpoint = await this.peek()) {
      if (checkpoint.size > tree.size) return;
      this.next = undefined;
      if (checkpoint.size <= this.lastSize) {
        this.problems.add(
          'checkpoint_order',
          `checkpoint at size ${checkpoint.size}: comes after the one at size ${this.lastSize} (sizes must grow)`,
        );
        continue;
      }
      this.lastSize = checkpoint.size;
      if (checkpoint.size < tree.size || checkpoint.size < this.from) {
        // Below the start of a partial export: its root is not recomputable from these entries.
        this.skipped += 1;
        continue;
      }
      this.check(checkpoint, tree.root());
    }
  }

  /** After the last entry: whatever checkpoint is left claims entries the log no longer has. */
  async finish(tree: CompactRange): Promise<void> {
    await this.reach(tree);
    for (let checkpoint = await this.peek(); checkpoint; checkpoint = await this.peek()) {
      this.next = undefined;
      this.problems.add(
        'truncated',
        `log has ${tree.size} entries but checkpoint at size ${checkpoint.size} exists (truncated)`,
      );
      this.signedBody(checkpoint);
    }
  }

  /** The checkpoint's signed body, or null after reporting why it cannot be trusted. */
  private signedBody(checkpoint: VerifyCheckpoint) {
    const { verifier } = this.source;
    const at = `checkpoint at size ${checkpoint.size}`;
    let text: string;
    try {
      text = openNote(checkpoint.note, verifier);
    } catch (error) {
      const detail = error instanceof NoteError ? error.message : String(error);
      this.problems.add('checkpoint_signature', `${at}: bad signature (${detail})`);
      return null;
    }
    try {
      const body = parseCheckpointBody(text);
      if (body.origin !== verifier.name) {
        this.problems.add(
          'checkpoint_origin',
          `${at}: origin "${body.origin}" does not match the key name "${verifier.name}"`,
        );
      }
      return body;
    } catch (error) {
      this.problems.add('checkpoint_malformed', `${at}: ${(error as Error).message}`);
      return null;
    }
  }

  private check(checkpoint: VerifyCheckpoint, recomputed: Buffer): void {
    const at = `checkpoint at size ${checkpoint.size}`;
    const body = this.signedBody(checkpoint);
    if (checkpoint.rootHash && !checkpoint.rootHash.equals(recomputed)) {
      this.problems.add(
        'checkpoint_root',
        `${at}: stored root ${checkpoint.rootHash.toString('hex')} does not match the log (recomputed ${recomputed.toString('hex')})`,
      );
    }
    if (body) {
      if (body.size !== checkpoint.size) {
        this.problems.add('checkpoint_size', `${at}: its signed note says size ${body.size}`);
      } else if (!body.rootHash.equals(recomputed)) {
        this.problems.add(
          'checkpoint_root',
          `${at}: signed root ${body.rootHash.toString('hex')} does not match the log (recomputed ${recomputed.toString('hex')})`,
        );
      }
    }
    this.checked += 1;
  }
}

/** Every version's content against its digest, and versions against the entries that claim them. */
async function checkVersions(
  source: VerifySource,
  claims: Map<string, Claim>,
  problems: Problems,
): Promise<number> {
  let count = 0;
  for await (const stored of source.versions ?? []) {
    count += 1;
    await checkContent(stored, source.contentDigest, problems);
    const { version } = stored;
    const label = versionLabel(version);
    const key = claimKey(version);
    const claimed = claims.get(key);
    if (!claimed) {
      problems.add('version_unaudited', `version ${label} has no audit entry`);
      continue;
    }
    claims.delete(key);
    if (claimed.sha256 !== version.sha256 || claimed.size !== version.size) {
      problems.add(
        'version_mismatch',
        `version ${label} (sha256 ${version.sha256}, size ${version.size}) does not match audit entry ${claimed.index} ` +
          `(sha256 ${String(claimed.sha256)}, size ${String(claimed.size)})`,
      );
    }
  }
  for (const [key, claimed] of claims) {
    const [product, cls, name, version] = JSON.parse(key) as unknown[];
    problems.add(
      'claim_unstored',
      `audit entry ${claimed.index} claims version ${versionLabel({ product, class: cls, name, version })} which is not stored`,
    );
  }
  return count;
}

async function checkContent(
  stored: VerifyVersion,
  contentDigest: VerifySource['contentDigest'],
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
