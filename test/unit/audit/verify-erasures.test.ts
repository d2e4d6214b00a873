/**
 * Erasure reports against their entries (SPEC §8, audit/verify-erasures.ts): a report that hashes
 * to its entry's `reportSha256` passes; one altered, one naming another entry, and an entry
 * without its report are each reported.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErasureClaims } from '../../../src/audit/verify-erasures.js';
import { Problems } from '../../../src/audit/verify-report.js';
import { canonicalJson } from '../../../src/domain/canonical.js';
import { erasureReportHash, type ErasureReport } from '../../../src/domain/erasure.js';

const report: ErasureReport = {
  id: 'erasure_1',
  subject: 'user:1',
  reason: 'Art. 17',
  requestedAt: '2026-12-04T21:00:00.000Z',
  completedAt: '2026-12-04T21:00:00.000Z',
  erased: [{ product: 'p', class: 'c', name: 'n', version: 1, sha256: 'a'.repeat(64) }],
  withheld: [],
  keyDestroyed: true,
  audit: { leafIndex: 7, leafHash: 'b'.repeat(64) },
};

function entry(id: string, reportSha256: string) {
  return { allow: true, governance: { erasure: { id, reportSha256 } } };
}

function check(reports: ErasureReport[], entries: [number, Record<string, unknown>][]) {
  const problems = new Problems(100);
  const claims = new ErasureClaims(problems);
  for (const [index, parsed] of entries) claims.record(index, parsed);
  claims.match(reports);
  return problems.list.map((problem) => problem.code);
}

describe('erasure reports against their entries', () => {
  it('accepts a report that hashes to its entry, whatever its audit member', () => {
    expect(check([report], [[7, entry('erasure_1', erasureReportHash(report))]])).toEqual([]);
  });

  it('hashes keyFound when a report records it, and a report made before it as it was', () => {
    const { audit: _audit, ...findings } = report;
    const before = createHash('sha256').update(canonicalJson(findings)).digest('hex');
    expect(erasureReportHash(report)).toBe(before);
    const recorded = { ...report, keyFound: true };
    expect(erasureReportHash(recorded)).not.toBe(before);
    expect(
      check(
        [{ ...recorded, keyFound: false }],
        [[7, entry('erasure_1', erasureReportHash(recorded))]],
      ),
    ).toEqual(['erasure_mismatch']);
  });

  it('reports an altered report, one naming another entry, and an entry without its report', () => {
    const hash = erasureReportHash(report);
    expect(check([{ ...report, keyDestroyed: false }], [[7, entry('erasure_1', hash)]])).toEqual([
      'erasure_mismatch',
    ]);
    expect(check([report], [[8, entry('erasure_1', hash)]])).toEqual(['erasure_unaudited']);
    expect(check([], [[7, entry('erasure_1', hash)]])).toEqual(['erasure_unstored']);
    expect(check([report], [[7, { ...entry('erasure_1', hash), allow: false }]])).toEqual([
      'erasure_unaudited',
    ]);
  });
});
