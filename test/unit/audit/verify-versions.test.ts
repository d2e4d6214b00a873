/**
 * The audit log verifier (audit/verify.ts) on stored versions: contents against their recorded
 * sha256, unreadable contents, versions without their entry or pointed at other content, tombstones.
 */
import { describe, expect, it } from 'vitest';
import { canonicalBytes, type AuditEntry } from '../../../src/audit/entry.js';
import type { VerifyEntry, VerifyVersion } from '../../../src/audit/verify.js';
import type { ArtifactVersion } from '../../../src/domain/artifact.js';
import {
  EMPTY_SHA256,
  buildLog,
  codes,
  edit,
  problemsOf,
  sourceOf,
} from '../../helpers/audit-log.js';

describe('verifyAuditLog: versions', () => {
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
});
