/** Storage limits and their alert levels (SPEC §2.3) as pure rules. */
import { describe, expect, it } from 'vitest';
import { crossedThresholds, storageBreach, type StorageLimits } from '../../../src/domain/usage.js';

const limits: StorageLimits = {
  productQuotaBytes: 1000,
  productMaxArtifacts: 10,
  totalMaxArtifacts: 20,
  totalMaxBytes: 1980,
};
const usage = (
  bytes: number,
  artifacts: number,
  totalBytes = bytes,
  totalArtifacts = artifacts,
) => ({
  product: { bytes, artifacts },
  total: { bytes: totalBytes, artifacts: totalArtifacts },
});

describe('storageBreach', () => {
  it('allows a write that reaches a limit exactly and refuses one past it', () => {
    expect(storageBreach(usage(900, 1), limits, 100, 1)).toBeNull();
    expect(storageBreach(usage(900, 1), limits, 101, 1)?.rule).toBe('quota_bytes');
  });
  it('counts artifacts only for a new name', () => {
    expect(storageBreach(usage(0, 10), limits, 10, 0)).toBeNull();
    expect(storageBreach(usage(0, 10), limits, 10, 1)?.rule).toBe('max_artifacts');
    expect(storageBreach(usage(0, 1, 0, 20), limits, 10, 1)?.rule).toBe('max_artifacts');
  });
  it('refuses bytes past the critical capacity level, and never a tombstone (0 bytes)', () => {
    expect(storageBreach(usage(0, 1, 1980, 2), limits, 1, 0)?.rule).toBe('storage_capacity');
    expect(storageBreach(usage(0, 1, 1990, 2), limits, 0, 0)).toBeNull();
  });
});

describe('crossedThresholds', () => {
  it('names each level once, on the commit that crosses it', () => {
    expect(crossedThresholds(usage(800, 1), usage(905, 1), limits, 2000, 'p')).toEqual([
      'WARNING: p storage bytes at 905 of 1000 (90 % crossed)',
    ]);
    expect(crossedThresholds(usage(905, 1), usage(950, 1), limits, 2000, 'p')).toEqual([]);
    expect(crossedThresholds(usage(6, 6), usage(6, 7), limits, 2000, 'p')).toEqual([
      'WARNING: p artifacts at 7 of 10 (70 % crossed)',
    ]);
  });
});
