/** The commit rule both metadata stores apply inside their transactions (SPEC §2.3). */
import { describe, expect, it } from 'vitest';
import { checkCommit, isRefusal } from '../../../src/domain/commit.js';
import type { StorageLimits, UsageFacts } from '../../../src/domain/usage.js';

const before: UsageFacts = {
  product: { bytes: 100, artifacts: 2 },
  total: { bytes: 1000, artifacts: 10 },
};
const roomy: StorageLimits = {
  productQuotaBytes: 10_000,
  productMaxArtifacts: 100,
  totalMaxArtifacts: 100,
  totalMaxBytes: 100_000,
};
const commit = (expectedCurrentVersion: number, size: number, limits?: StorageLimits) => ({
  expectedCurrentVersion,
  version: { size },
  limits,
});

describe('checkCommit', () => {
  it('a first version adds its bytes and one artifact to the product and the total', () => {
    expect(checkCommit(commit(0, 50, roomy), 0, before)).toEqual({
      product: { bytes: 150, artifacts: 3 },
      total: { bytes: 1050, artifacts: 11 },
    });
  });

  it('a later version adds its bytes only', () => {
    expect(checkCommit(commit(4, 50), 4, before)).toEqual({
      product: { bytes: 150, artifacts: 2 },
      total: { bytes: 1050, artifacts: 10 },
    });
  });

  it('refuses a commit whose head moved, naming the head', () => {
    const outcome = checkCommit(commit(3, 50, roomy), 4, before);
    expect(isRefusal(outcome)).toBe(true);
    expect(outcome).toEqual({ ok: false, reason: 'version_conflict', current: 4 });
    expect(checkCommit(commit(0, 50), 1, before)).toMatchObject({ current: 1 });
  });

  it('refuses a commit that would pass a limit, and only with limits given', () => {
    const tight = { ...roomy, productQuotaBytes: 120 };
    expect(checkCommit(commit(1, 50, tight), 1, before)).toMatchObject({
      ok: false,
      reason: 'insufficient_storage',
      rule: 'quota_bytes',
    });
    expect(isRefusal(checkCommit(commit(1, 50), 1, before))).toBe(false);
    const full = { ...roomy, productMaxArtifacts: 2 };
    // A new name needs an artifact; a new version of an existing one does not.
    expect(checkCommit(commit(0, 1, full), 0, before)).toMatchObject({ rule: 'max_artifacts' });
    expect(isRefusal(checkCommit(commit(1, 1, full), 1, before))).toBe(false);
  });
});
