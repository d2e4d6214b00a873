/**
 * Audit logs built in memory for the verifier's unit tests (test/unit/audit/verify*.test.ts): signed
 * checkpoints, entries with every fourth one a write and its stored version, and a source over them.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { CompactRange } from '../../src/audit/compact.js';
import { canonicalBytes, type AuditEntry } from '../../src/audit/entry.js';
import {
  checkpointBody,
  createSigner,
  parseVerifierKey,
  encodeVerifierKey,
  signNote,
  type NoteSigner,
} from '../../src/audit/note.js';
import { leafHash } from '../../src/audit/rfc6962.js';
import { sealFacts } from '../../src/audit/version-facts.js';
import {
  verifyAuditLog,
  type ProblemCode,
  type VerifyCheckpoint,
  type VerifyEntry,
  type VerifySource,
  type VerifyVersion,
} from '../../src/audit/verify.js';
import type { ArtifactVersion } from '../../src/domain/artifact.js';
import { sha256 } from './hash.js';

export const ORIGIN = 'bhiv-bucket/test';
export const EMPTY_SHA256 = sha256('');

export function newSigner(name = ORIGIN): NoteSigner {
  return createSigner(name, generateKeyPairSync('ed25519').privateKey);
}

export function verifierOf(signer: NoteSigner) {
  return parseVerifierKey(encodeVerifierKey(signer.name, signer.publicKey));
}

export function entryAt(index: number, write?: { name: string; version: number; bytes: Buffer }) {
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

export function versionOf(name: string, version: number, bytes: Buffer): ArtifactVersion {
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

export interface Log {
  entries: VerifyEntry[];
  checkpoints: VerifyCheckpoint[];
  versions: VerifyVersion[];
  signer: NoteSigner;
}

export function signedCheckpoint(
  signer: NoteSigner,
  size: number,
  root: Buffer,
  origin = signer.name,
) {
  const note = signNote(checkpointBody({ origin, size, rootHash: root }), signer);
  return { size, note, rootHash: root };
}

/**
 * A log of `size` entries: every fourth one an allowed write of a.json (versions 1, 2, …) with its
 * stored version, checkpoints at `checkpointSizes`.
 */
export function buildLog(size = 20, checkpointSizes = [0, 5, 8, 13, 20]): Log {
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

export function sourceOf(log: Log, overrides: Partial<VerifySource> = {}): VerifySource {
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

export async function problemsOf(source: VerifySource) {
  const report = await verifyAuditLog(source);
  return report.problems;
}

export function codes(problems: { code: ProblemCode }[]): ProblemCode[] {
  return [...new Set(problems.map((problem) => problem.code))].sort();
}

/** Replaces the first occurrence of `from` in the bytes by `to` (same length). */
export function edit(bytes: Buffer, from: string, to: string): Buffer {
  const text = bytes.toString('utf8');
  expect(text).toContain(from);
  return Buffer.from(text.replace(from, to), 'utf8');
}
