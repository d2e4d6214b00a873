import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CompactRange, decompose } from '../../../src/audit/compact.js';
import { canonicalBytes, type AuditEntry } from '../../../src/audit/entry.js';
import {
  checkpointBody,
  createSigner,
  parseVerifierKey,
  encodeVerifierKey,
  signNote,
  type NoteSigner,
} from '../../../src/audit/note.js';
import { leafHash } from '../../../src/audit/rfc6962.js';
import { sealFacts } from '../../../src/audit/version-facts.js';
import {
  verifyAuditLog,
  type ProblemCode,
  type VerifyCheckpoint,
  type VerifyEntry,
  type VerifySource,
  type VerifyVersion,
} from '../../../src/audit/verify.js';
import type { ArtifactVersion } from '../../../src/domain/artifact.js';
import { sha256 } from '../../helpers/hash.js';

const ORIGIN = 'bhiv-bucket/test';
const EMPTY_SHA256 = sha256('');

function newSigner(name = ORIGIN): NoteSigner {
  return createSigner(name, generateKeyPairSync('ed25519').privateKey);
}

function verifierOf(signer: NoteSigner) {
  return parseVerifierKey(encodeVerifierKey(signer.name, signer.publicKey));
}

function entryAt(index: number, write?: { name: string; version: number; bytes: Buffer }) {
  const entry: AuditEntry = {
    id: randomUUID(),
    allow: write !== undefined || index % 3 !== 2,
    status: write ? 201 : index % 3 === 2 ? 403 : 200,
    operation: write ? (write.version === 1 ? 'CREATE' : 'UPDATE') : 'READ',
    principal: { id: 'key-1', kind: 'product', product: 'gurukul' },
    target: { product: 'gurukul', class: 'educational_content', name: write?.name ?? 'read.json' },
    reasons: [],
    threats: [],
    policyVersion: 1,
    index,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, index)).toISOString(),
    requestId: randomUUID(),
    ...(write
      ? { sha256: sha256(write.bytes), size: write.bytes.length, version: write.version }
      : {}),
  };
  return entry;
}

function versionOf(name: string, version: number, bytes: Buffer): ArtifactVersion {
  return {
    product: 'gurukul',
    class: 'educational_content',
    name,
    version,
    sha256: sha256(bytes),
    size: bytes.length,
    contentType: 'application/json',
    meta: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'key-1',
    retention: { mode: 'none', until: null },
    tombstone: false,
    storage: 'inline',
  };
}

interface Log {
  entries: VerifyEntry[];
  checkpoints: VerifyCheckpoint[];
  versions: VerifyVersion[];
  signer: NoteSigner;
}

function signedCheckpoint(signer: NoteSigner, size: number, root: Buffer, origin = signer.name) {
  const note = signNote(checkpointBody({ origin, size, rootHash: root }), signer);
  return { size, note, rootHash: root };
}

/**
 * A log of `size` entries: every fourth one an allowed write of a.json (versions 1, 2, …) with its
 * stored version, checkpoints at `checkpointSizes`.
 */
function buildLog(size = 20, checkpointSizes = [0, 5, 8, 13, 20]): Log {
  const signer = newSigner();
  const entries: VerifyEntry[] = [];
  const versions: VerifyVersion[] = [];
  const checkpoints: VerifyCheckpoint[] = [];
  const tree = CompactRange.empty();
  const checkpointAt = () => {
    if (checkpointSizes.includes(tree.size)) {
      checkpoints.push(signedCheckpoint(signer, tree.size, tree.root()));
    }
  };
  checkpointAt();
  for (let index = 0; index < size; index++) {
    let entry: AuditEntry;
    if (index % 4 === 0) {
      const version = index / 4 + 1;
      const bytes = Buffer.from(JSON.stringify({ lesson: version }));
      const stored = versionOf('a.json', version, bytes);
      const sealed = sealFacts(stored);
      entry = { ...entryAt(index, { name: 'a.json', version, bytes }), facts: sealed.facts };
      versions.push({ version: stored, inline: bytes, factsSalt: sealed.salt });
    } else {
      entry = entryAt(index);
    }
    const canonical = canonicalBytes(entry);
    entries.push({ index, canonical, leafHash: leafHash(canonical) });
    tree.append(leafHash(canonical));
    checkpointAt();
  }
  return { entries, checkpoints, versions, signer };
}

function sourceOf(log: Log, overrides: Partial<VerifySource> = {}): VerifySource {
  return {
    entries: log.entries,
    size: log.entries.length,
    checkpoints: log.checkpoints,
    verifier: verifierOf(log.signer),
    versions: log.versions,
    contentDigest: async (stored) => ({
      sha256: sha256(stored.inline ?? Buffer.alloc(0)),
      size: stored.inline?.length ?? 0,
    }),
    ...overrides,
  };
}

async function problemsOf(source: VerifySource) {
  const report = await verifyAuditLog(source);
  return report.problems;
}

function codes(problems: { code: ProblemCode }[]): ProblemCode[] {
  return [...new Set(problems.map((problem) => problem.code))].sort();
}

/** Replaces the first occurrence of `from` in the bytes by `to` (same length). */
function edit(bytes: Buffer, from: string, to: string): Buffer {
  const text = bytes.toString('utf8');
  expect(text).toContain(from);
  return Buffer.from(text.replace(from, to), 'utf8');
}

describe('verifyAuditLog', () => {
  it('finds nothing wrong in a clean log and reports what it checked', async () => {
    const log = buildLog();
    const progress: number[] = [];
    const report = await verifyAuditLog(
      sourceOf(log, { onProgress: (done) => progress.push(done) }),
    );
    const tree = CompactRange.empty();
    for (const entry of log.entries) tree.append(leafHash(entry.canonical));
    expect(report).toMatchObject({
      entries: 20,
      treeSize: 20,
      rootHash: tree.root().toString('hex'),
      checkpoints: 5,
      checkpointsSkipped: 0,
      versions: 5,
      problems: [],
      problemCount: 0,
    });
    expect(progress.at(-1)).toBe(20);
  });

  it('names an entry whose bytes were edited (stored leaf hash kept)', async () => {
    const log = buildLog();
    const entry = log.entries[6] as VerifyEntry;
    log.entries[6] = { ...entry, canonical: edit(entry.canonical, '"READ"', '"REAP"') };
    const problems = await problemsOf(sourceOf(log));
    expect(problems.map((p) => p.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^entry 6: leaf hash mismatch \(stored /)]),
    );
    // Every checkpoint covering entry 6 no longer matches the recomputed tree.
    const roots = problems.filter((p) => p.code === 'checkpoint_root').map((p) => p.message);
    expect(roots).toHaveLength(2 * 3); // stored root and signed root, at sizes 8, 13 and 20
    expect(roots[0]).toMatch(/^checkpoint at size 8: /);
  });

  it('names checkpoints that disagree with an entry edited together with its leaf hash', async () => {
    const log = buildLog();
    const canonical = edit((log.entries[15] as VerifyEntry).canonical, '"READ"', '"REAP"');
    log.entries[15] = { index: 15, canonical, leafHash: leafHash(canonical) };
    const problems = await problemsOf(sourceOf(log));
    expect(codes(problems)).toEqual(['checkpoint_root']);
    expect(problems[0]?.message).toMatch(
      /^checkpoint at size 20: stored root [0-9a-f]{64} does not match the log/,
    );
  });

  it('names a deleted entry', async () => {
    const log = buildLog();
    log.entries.splice(9, 1);
    const problems = await problemsOf(sourceOf(log, { size: 20 }));
    expect(problems[0]).toEqual({
      code: 'entry_missing',
      message: 'entry 9 is missing (the log jumps from 8 to 10)',
    });
    expect(codes(problems)).toEqual(['checkpoint_root', 'entry_missing', 'truncated']);
    // 19 leaves remain, so the checkpoint of 20 claims more than the log holds.
    expect(problems.map((p) => p.message)).toContain(
      'log has 19 entries but checkpoint at size 20 exists (truncated)',
    );
  });

  it('names missing entries at the end of a log that says it is longer', async () => {
    const log = buildLog(20, [0, 5]);
    log.entries.splice(17);
    const problems = await problemsOf(sourceOf(log, { size: 20 }));
    expect(problems).toEqual([
      {
        code: 'entry_missing',
        message: 'entries 17..19 are missing: the log has size 20 but its entries end at 17',
      },
    ]);
  });

  it('names two swapped entries', async () => {
    const log = buildLog();
    const [a, b] = [log.entries[3] as VerifyEntry, log.entries[4] as VerifyEntry];
    log.entries[3] = { ...b, index: 3 };
    log.entries[4] = { ...a, index: 4 };
    const problems = await problemsOf(sourceOf(log));
    expect(problems.map((p) => p.message)).toEqual(
      expect.arrayContaining(['entry 3: its bytes say index 4', 'entry 4: its bytes say index 3']),
    );
    expect(codes(problems)).toEqual(['checkpoint_root', 'entry_index_mismatch']);
  });

  it('names a duplicated entry and entries out of order', async () => {
    const log = buildLog(8, []);
    log.entries.splice(5, 0, log.entries[4] as VerifyEntry);
    const problems = await problemsOf(sourceOf(log, { size: 8 }));
    expect(problems[0]).toEqual({
      code: 'entry_out_of_order',
      message: 'entry 4 appears again after entry 4 (duplicated or out of order)',
    });
  });

  it('names bytes that are JSON but not RFC 8785 canonical', async () => {
    const log = buildLog();
    const canonical = edit(
      (log.entries[1] as VerifyEntry).canonical,
      '"allow":true,',
      '"allow": true,',
    );
    log.entries[1] = { index: 1, canonical };
    const problems = await problemsOf(sourceOf(log, { checkpoints: [] }));
    expect(problems).toEqual([
      {
        code: 'entry_not_canonical',
        message: 'entry 1: its bytes are not RFC 8785 canonical JSON',
      },
    ]);
  });

  it('names bytes that are not JSON', async () => {
    const log = buildLog();
    log.entries[2] = { index: 2, canonical: Buffer.from('{"index":2') };
    const problems = await problemsOf(sourceOf(log, { checkpoints: [] }));
    expect(problems).toEqual([
      { code: 'entry_malformed', message: 'entry 2: its bytes are not JSON' },
    ]);
  });

  it('names a checkpoint whose note was altered', async () => {
    const log = buildLog();
    const checkpoint = log.checkpoints[2] as VerifyCheckpoint;
    log.checkpoints[2] = { ...checkpoint, note: checkpoint.note.replace('\n8\n', '\n9\n') };
    const problems = await problemsOf(sourceOf(log));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.code).toBe('checkpoint_signature');
    expect(problems[0]?.message).toMatch(/^checkpoint at size 8: bad signature/);
  });

  it('names checkpoints signed by another key', async () => {
    const log = buildLog();
    const problems = await problemsOf(sourceOf(log, { verifier: verifierOf(newSigner()) }));
    expect(problems).toHaveLength(5);
    expect(problems.every((p) => p.code === 'checkpoint_signature')).toBe(true);
    expect(problems[0]?.message).toMatch(/^checkpoint at size 0: bad signature \(.*not signed by/);
  });

  it('names a checkpoint of another origin, and one whose note says another size', async () => {
    const log = buildLog();
    const original = log.checkpoints[1] as VerifyCheckpoint;
    log.checkpoints[1] = signedCheckpoint(log.signer, 5, original.rootHash as Buffer, 'elsewhere');
    const at13 = log.checkpoints[3] as VerifyCheckpoint;
    log.checkpoints[3] = {
      ...signedCheckpoint(log.signer, 14, at13.rootHash as Buffer),
      size: 13,
    };
    const problems = await problemsOf(sourceOf(log));
    expect(problems).toEqual([
      {
        code: 'checkpoint_origin',
        message: `checkpoint at size 5: origin "elsewhere" does not match the key name "${ORIGIN}"`,
      },
      { code: 'checkpoint_size', message: 'checkpoint at size 13: its signed note says size 14' },
    ]);
  });

  it('names a log truncated behind a checkpoint', async () => {
    const log = buildLog();
    log.entries.splice(15);
    const problems = await problemsOf(
      sourceOf(log, { size: 15, versions: log.versions.slice(0, 4) }),
    );
    expect(problems).toEqual([
      {
        code: 'truncated',
        message: 'log has 15 entries but checkpoint at size 20 exists (truncated)',
      },
    ]);
  });

  it('names checkpoints whose sizes do not grow', async () => {
    const log = buildLog();
    log.checkpoints.push(log.checkpoints[1] as VerifyCheckpoint);
    const problems = await problemsOf(sourceOf(log));
    expect(problems).toEqual([
      {
        code: 'checkpoint_order',
        message: 'checkpoint at size 5: comes after the one at size 20 (sizes must grow)',
      },
    ]);
  });

  it('names a version whose content does not hash to its recorded sha256', async () => {
    const log = buildLog();
    const stored = log.versions[1] as VerifyVersion;
    log.versions[1] = { ...stored, inline: edit(stored.inline as Buffer, '2', '7') };
    const problems = await problemsOf(sourceOf(log));
    expect(problems).toEqual([
      {
        code: 'content_mismatch',
        message:
          'version gurukul/educational_content/a.json v2: content does not hash to its recorded sha256',
      },
    ]);
  });

  it('names a version whose content cannot be read', async () => {
    const log = buildLog();
    const problems = await problemsOf(
      sourceOf(log, {
        contentDigest: async () => {
          throw new Error('no such blob');
        },
      }),
    );
    expect(problems[0]).toEqual({
      code: 'content_unreadable',
      message: 'version gurukul/educational_content/a.json v1: content unreadable (no such blob)',
    });
  });

  it('names a renamed version: no audit entry for it, and an entry claiming a missing version', async () => {
    const log = buildLog();
    const stored = log.versions[2] as VerifyVersion;
    log.versions[2] = { ...stored, version: { ...stored.version, name: 'b.json' } };
    const problems = await problemsOf(sourceOf(log));
    expect(problems).toEqual([
      {
        code: 'version_unaudited',
        message: 'version gurukul/educational_content/b.json v3 has no audit entry',
      },
      {
        code: 'claim_unstored',
        message:
          'audit entry 8 claims version gurukul/educational_content/a.json v3 which is not stored',
      },
    ]);
  });

  it('names a version pointed at other content', async () => {
    const log = buildLog();
    const stored = log.versions[2] as VerifyVersion;
    const other = log.versions[0] as VerifyVersion;
    log.versions[2] = {
      ...stored,
      version: { ...stored.version, sha256: other.version.sha256 },
      inline: other.inline,
    };
    const problems = await problemsOf(sourceOf(log));
    // The digest is one of the facts too.
    expect(codes(problems)).toEqual(['facts_mismatch', 'version_mismatch']);
    expect(problems[0]?.message).toMatch(
      /^version gurukul\/educational_content\/a\.json v3 \(sha256 [0-9a-f]{64}, size \d+\) does not match audit entry 8 /,
    );
  });

  it('names two allowed entries claiming one version', async () => {
    const log = buildLog(8, []);
    const entry = JSON.parse((log.entries[4] as VerifyEntry).canonical.toString()) as AuditEntry;
    const duplicate = canonicalBytes({ ...entry, index: 5, version: 1 });
    log.entries[5] = { index: 5, canonical: duplicate };
    const problems = await problemsOf(sourceOf(log));
    expect(problems).toEqual([
      {
        code: 'claim_duplicate',
        message: 'audit entries 0 and 5 both claim version gurukul/educational_content/a.json v1',
      },
    ]);
  });

  it('checks that a tombstone records the empty content', async () => {
    const log = buildLog(8, []);
    const stored = log.versions[1] as VerifyVersion;
    const good = { ...stored.version, tombstone: true, storage: 'none' as const };
    const tombstoneOf = (version: ArtifactVersion) => ({ ...stored, version, inline: null });
    log.versions[1] = tombstoneOf({ ...good, sha256: EMPTY_SHA256, size: 0 });
    const tombstone = await problemsOf(sourceOf(log));
    // A well-formed tombstone: only its audit entry (which recorded v2's content) disagrees.
    expect(codes(tombstone)).toEqual(['facts_mismatch', 'version_mismatch']);
    log.versions[1] = tombstoneOf(good);
    const bad = await problemsOf(sourceOf(log));
    expect(bad.map((p) => p.code)).toContain('content_mismatch');
    expect(bad.find((p) => p.code === 'content_mismatch')?.message).toMatch(
      /^version gurukul\/educational_content\/a\.json v2: a tombstone must record the empty content/,
    );
  });

  it('verifies a partial export from its frontier, and names a wrong frontier', async () => {
    const log = buildLog();
    const from = 13;
    const tree = CompactRange.empty();
    for (const entry of log.entries.slice(0, from)) tree.append(leafHash(entry.canonical));
    expect(tree.hashes()).toHaveLength(decompose(0, from).length);
    const partial = {
      entries: log.entries.slice(from),
      from,
      frontier: tree.hashes(),
      size: 20,
      checkpoints: log.checkpoints.slice(-1),
      verifier: verifierOf(log.signer),
    };
    const report = await verifyAuditLog(partial);
    expect(report).toMatchObject({ entries: 7, treeSize: 20, checkpoints: 1, problems: [] });

    const withEarlier = await verifyAuditLog({ ...partial, checkpoints: log.checkpoints });
    expect(withEarlier).toMatchObject({ checkpoints: 2, checkpointsSkipped: 3, problems: [] });

    const wrongHash = [...tree.hashes()];
    wrongHash[0] = Buffer.alloc(32);
    const wrong = await verifyAuditLog({ ...partial, frontier: wrongHash });
    expect(codes(wrong.problems)).toEqual(['checkpoint_root']);

    const short = await verifyAuditLog({ ...partial, frontier: tree.hashes().slice(1) });
    expect(codes(short.problems)).toEqual(['checkpoint_root', 'frontier_invalid']);
    expect(short.problems[0]?.message).toMatch(/^the frontier before entry 13 is invalid/);
  });

  it('keeps going past many problems, listing the first ones and counting all', async () => {
    const log = buildLog(300, []);
    const entries = log.entries.map((entry) => ({ ...entry, leafHash: Buffer.alloc(32) }));
    const report = await verifyAuditLog(sourceOf(log, { entries, maxProblems: 100 }));
    expect(report.problems).toHaveLength(100);
    expect(report.problemCount).toBe(300);
    expect(report.entries).toBe(300);
  });
});
