import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { factsHash, sealFacts, versionFacts } from '../../../src/audit/version-facts.js';
import { VersionClaims, type VerifyVersion } from '../../../src/audit/verify-versions.js';
import { Problems } from '../../../src/audit/verify-report.js';
import type { ArtifactVersion } from '../../../src/domain/artifact.js';

const VERSION: ArtifactVersion = {
  product: 'gurukul',
  class: 'user_progress',
  name: 'learner/42.json',
  version: 3,
  sha256: 'ab'.repeat(32),
  size: 12,
  contentType: 'application/json',
  meta: { subject: 'learner-42', source: 'app' },
  createdAt: '2026-12-04T10:00:00.000Z',
  createdBy: 'key_0123456789abcdef',
  retention: { mode: 'governance', until: '2027-12-04T10:00:00.000Z' },
  tombstone: false,
  storage: 'inline',
};

/** What an allowed write's entry holds of its version. */
function entryFor(version: ArtifactVersion, facts?: string) {
  return {
    allow: true,
    target: { product: version.product, class: version.class, name: version.name },
    version: version.version,
    sha256: version.sha256,
    size: version.size,
    ...(facts === undefined ? {} : { facts }),
  };
}

async function problemsOf(entry: Record<string, unknown>, stored: VerifyVersion) {
  const problems = new Problems(10);
  const claims = new VersionClaims(problems);
  claims.record(7, entry);
  await claims.match([stored], undefined);
  return problems.list;
}

describe('the facts hash of a version (SPEC §8, docs/decisions/0026)', () => {
  it('is SHA-256 over the salt and the RFC 8785 form of the named facts', () => {
    const salt = Buffer.alloc(16, 0x5a);
    // The construction, spelled out: an outside verifier reproduces it with any SHA-256.
    const canonical =
      '{"class":"user_progress","contentType":"application/json",' +
      '"createdAt":"2026-12-04T10:00:00.000Z","createdBy":"key_0123456789abcdef",' +
      '"meta":{"source":"app","subject":"learner-42"},"name":"learner/42.json",' +
      '"product":"gurukul","retention":{"mode":"governance","until":"2027-12-04T10:00:00.000Z"},' +
      `"sha256":"${'ab'.repeat(32)}","size":12,"tombstone":false,"version":3}`;
    const expected = createHash('sha256').update(salt).update(canonical).digest('hex');
    expect(factsHash(salt, VERSION)).toBe(expected);
    // Where the bytes are held is not a fact of the version: purging them changes nothing.
    expect(factsHash(salt, { ...VERSION, storage: 'none' })).toBe(expected);
    expect(Object.keys(versionFacts(VERSION))).not.toContain('storage');
  });

  it('differs with every recorded fact, and with the salt', () => {
    const salt = Buffer.alloc(16, 1);
    const base = factsHash(salt, VERSION);
    const changed: Partial<ArtifactVersion>[] = [
      { contentType: 'text/plain' },
      { createdBy: 'key_other' },
      { meta: { subject: 'learner-43', source: 'app' } },
      { retention: { mode: 'compliance', until: '2027-12-04T10:00:00.000Z' } },
      { retention: { mode: 'governance', until: null } },
      { createdAt: '2026-12-04T10:00:00.001Z' },
      { tombstone: true },
    ];
    for (const change of changed) {
      expect(factsHash(salt, { ...VERSION, ...change }), JSON.stringify(change)).not.toBe(base);
    }
    expect(factsHash(Buffer.alloc(16, 2), VERSION)).not.toBe(base);
  });

  it('gives every version a salt of its own', () => {
    const a = sealFacts(VERSION);
    const b = sealFacts(VERSION);
    expect(a.salt).toHaveLength(16);
    expect(a.salt.equals(b.salt)).toBe(false);
    expect(a.facts).not.toBe(b.facts);
  });

  it('verifies a version against its entry, and names a changed fact', async () => {
    const { salt, facts } = sealFacts(VERSION);
    const stored = { version: VERSION, inline: null, factsSalt: salt };
    expect(await problemsOf(entryFor(VERSION, facts), stored)).toEqual([]);
    const edited = { ...stored, version: { ...VERSION, contentType: 'text/html' } };
    expect(await problemsOf(entryFor(VERSION, facts), edited)).toEqual([
      {
        code: 'facts_mismatch',
        message:
          'version gurukul/user_progress/learner/42.json v3: its recorded facts (content type, ' +
          'metadata, creator, retention, …) are not those audit entry 7 committed to',
      },
    ]);
  });

  it('accepts a version written before entries carried facts, not a salt added later', async () => {
    const legacy = { version: VERSION, inline: null, factsSalt: null };
    expect(await problemsOf(entryFor(VERSION), legacy)).toEqual([]);
    const salted = { ...legacy, factsSalt: Buffer.alloc(16) };
    expect((await problemsOf(entryFor(VERSION), salted)).map((p) => p.code)).toEqual([
      'facts_mismatch',
    ]);
  });

  it('accepts a missing salt only where the source says an erasure destroyed it', async () => {
    const { facts } = sealFacts(VERSION);
    const erased = { version: VERSION, inline: null, factsSalt: null };
    expect((await problemsOf(entryFor(VERSION, facts), erased)).map((p) => p.code)).toEqual([
      'facts_salt_missing',
    ]);
    expect(await problemsOf(entryFor(VERSION, facts), { ...erased, saltDestroyed: true })).toEqual(
      [],
    );
  });
});
