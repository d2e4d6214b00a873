/**
 * Verification of purged versions and changed retentions (SPEC §8): a version whose content was
 * purged is accepted only with the purge entry that removed it; a version marked purged without
 * one, or a purge entry whose version is not marked purged, is reported. A retention changed
 * since the write is accepted only along the chain of entries that changed it.
 */
import { describe, expect, it } from 'vitest';
import { factsHash } from '../../../src/audit/version-facts.js';
import { Problems } from '../../../src/audit/verify-report.js';
import { VersionClaims, type VerifyVersion } from '../../../src/audit/verify-versions.js';
import { version } from '../../helpers/versions.js';

const target = { product: 'gurukul', class: 'user_progress', name: 'p.json' };
const v1 = version({ name: 'p.json', version: 1 });

function writeEntry() {
  return { allow: true, target, version: 1, sha256: v1.sha256, size: v1.size };
}

function purgeEntry(sha256 = v1.sha256) {
  return {
    allow: true,
    target,
    purge: { version: 1, sha256, size: v1.size, reason: 'superseded' },
  };
}

const purged = (auditIndex: number): VerifyVersion => ({
  version: {
    ...v1,
    storage: 'none',
    purged: { at: '2028-01-01', reason: 'superseded', auditIndex },
  },
  inline: null,
  factsSalt: null,
});

async function check(entries: Record<string, unknown>[], stored: VerifyVersion) {
  const problems = new Problems(10);
  const claims = new VersionClaims(problems);
  entries.forEach((entry, index) => claims.record(index, entry));
  const unreadable = async () => {
    throw new Error('gone');
  };
  await claims.match([stored], unreadable);
  return problems.list.map((p) => p.code);
}

describe('verification of purged versions', () => {
  it('accepts a purged version with its purge entry, reading no content', async () => {
    expect(await check([writeEntry(), purgeEntry()], purged(1))).toEqual([]);
  });

  it('reports a version marked purged without a purge entry', async () => {
    expect(await check([writeEntry()], purged(1))).toEqual(['purge_unaudited']);
  });

  it('reports a purge entry for another content or another index', async () => {
    expect(await check([writeEntry(), purgeEntry('f'.repeat(64))], purged(1))).toEqual([
      'purge_unaudited',
    ]);
    expect(await check([writeEntry(), purgeEntry()], purged(5))).toEqual(['purge_unaudited']);
  });

  it('reports content gone without a purge (the version is not marked purged)', async () => {
    expect(await check([writeEntry()], { version: v1, inline: null, factsSalt: null })).toEqual([
      'content_unreadable',
    ]);
  });

  it('reports a purge entry whose version still claims its content', async () => {
    const codes = await check([writeEntry(), purgeEntry()], {
      version: v1,
      inline: null,
      factsSalt: null,
    });
    expect(codes).toContain('purge_unapplied');
  });
});

describe('verification of changed retentions', () => {
  const salt = Buffer.alloc(16, 7);
  const written = {
    ...v1,
    retention: { mode: 'governance' as const, until: '2027-01-01T00:00:00.000Z' },
  };
  const longer = { mode: 'governance' as const, until: '2030-01-01T00:00:00.000Z' };
  const longest = { mode: 'governance' as const, until: '2031-01-01T00:00:00.000Z' };
  const write = {
    allow: true,
    target,
    version: 1,
    sha256: v1.sha256,
    size: v1.size,
    facts: factsHash(salt, written),
  };
  const change = (from: unknown, to: unknown) => ({
    allow: true,
    target,
    governance: { retention: { version: 1, from, to, shortened: false, reason: 'r' } },
  });
  const stored = (retention: typeof longer): VerifyVersion => ({
    version: { ...written, retention },
    inline: null,
    factsSalt: salt,
  });
  const content = async () => ({ sha256: v1.sha256, size: v1.size });

  async function codes(entries: Record<string, unknown>[], version: VerifyVersion) {
    const problems = new Problems(10);
    const claims = new VersionClaims(problems);
    entries.forEach((entry, index) => claims.record(index, entry));
    await claims.match([version], content);
    return problems.list.map((p) => p.code);
  }

  it('accepts a retention changed through its audited entries', async () => {
    expect(await codes([write], stored(written.retention))).toEqual([]);
    expect(await codes([write, change(written.retention, longer)], stored(longer))).toEqual([]);
    const twice = [write, change(written.retention, longer), change(longer, longest)];
    expect(await codes(twice, stored(longest))).toEqual([]);
  });

  it('reports a retention edited without an entry', async () => {
    expect(await codes([write], stored(longer))).toEqual(['facts_mismatch']);
    const edited = [write, change(written.retention, longer)];
    expect(await codes(edited, stored(longest))).toEqual(['retention_unaudited']);
  });

  it('reports a chain of changes that does not join up', async () => {
    const broken = [write, change(written.retention, longer), change(written.retention, longest)];
    expect(await codes(broken, stored(longest))).toEqual(['retention_unaudited']);
  });
});
