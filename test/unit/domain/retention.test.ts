/** SPEC §8's retention rules as pure functions: changes, the purge conditions, hold scopes. */
import { describe, expect, it } from 'vitest';
import { ActiveHolds, holdCovers, type LegalHold } from '../../../src/domain/holds.js';
import {
  purgeReason,
  retentionChangeRefusal,
  RESTORE_WINDOW_MS,
  type PurgeFacts,
} from '../../../src/domain/retention.js';
import { version } from '../../helpers/versions.js';

const NOW = Date.parse('2028-06-01T00:00:00.000Z');
const ended = version({
  name: 'n',
  version: 1,
  retention: { mode: 'governance', until: '2028-01-01T00:00:00.000Z' },
});
const facts: PurgeFacts = {
  currentVersion: 1,
  tombstonedAt: null,
  classExpires: false,
  held: false,
};

describe('retention changes', () => {
  const compliance = { mode: 'compliance' as const, until: '2030-01-01T00:00:00.000Z' };
  it('never shortens or removes compliance retention', () => {
    expect(retentionChangeRefusal(compliance, '2029-12-31T23:59:59.999Z')).toBe(
      'compliance_retention',
    );
    expect(
      retentionChangeRefusal({ mode: 'compliance', until: null }, '2099-01-01T00:00:00Z'),
    ).toBe('compliance_retention');
    expect(retentionChangeRefusal(compliance, '2030-01-01T00:00:00.000Z')).toBeNull();
    expect(retentionChangeRefusal(compliance, null)).toBeNull();
  });
  it('lets governance retention be shortened', () => {
    expect(retentionChangeRefusal(ended.retention, '2000-01-01T00:00:00Z')).toBeNull();
  });
});

describe('the purge conditions', () => {
  it('keeps what has not ended, what is permanent, held, current, or recently tombstoned', () => {
    expect(
      purgeReason(
        { ...ended, retention: { mode: 'governance', until: '2029-01-01T00:00:00Z' } },
        { ...facts, currentVersion: 2 },
        NOW,
      ),
    ).toBeNull();
    expect(
      purgeReason(
        { ...ended, retention: { mode: 'compliance', until: null } },
        { ...facts, currentVersion: 2 },
        NOW,
      ),
    ).toBeNull();
    expect(purgeReason(ended, { ...facts, currentVersion: 2, held: true }, NOW)).toBeNull();
    expect(purgeReason(ended, facts, NOW)).toBeNull();
    const recently = new Date(NOW - RESTORE_WINDOW_MS).toISOString();
    expect(purgeReason(ended, { ...facts, tombstonedAt: recently }, NOW)).toBeNull();
  });
  it('purges what is superseded, tombstoned over 90 days, or of an expiring class', () => {
    expect(purgeReason(ended, { ...facts, currentVersion: 2 }, NOW)).toBe('superseded');
    const long = new Date(NOW - RESTORE_WINDOW_MS - 1).toISOString();
    expect(purgeReason(ended, { ...facts, tombstonedAt: long }, NOW)).toBe('tombstone_expired');
    expect(purgeReason(ended, { ...facts, classExpires: true }, NOW)).toBe('retention_expired');
  });
});

describe('hold scopes', () => {
  const hold = (scope: LegalHold['scope'], liftedAt: string | null = null): LegalHold => ({
    id: 'h',
    scope,
    caseRef: 'C',
    reason: 'r',
    placedAt: 'x',
    placedBy: 'o',
    liftedAt,
    liftedBy: null,
    liftReason: null,
  });
  const target = {
    product: 'gurukul',
    class: 'user_progress',
    name: 'a/b.json',
    subject: 'user:1',
  };
  it('covers by product, class, prefix and subject; a lifted hold covers nothing', () => {
    expect(holdCovers(hold({ product: 'gurukul' }), target)).toBe(true);
    expect(holdCovers(hold({ product: 'core' }), target)).toBe(false);
    expect(holdCovers(hold({ product: 'gurukul', class: 'user_progress' }), target)).toBe(true);
    expect(holdCovers(hold({ product: 'gurukul', class: 'metadata' }), target)).toBe(false);
    expect(holdCovers(hold({ product: 'gurukul', prefix: 'a/' }), target)).toBe(true);
    expect(holdCovers(hold({ product: 'gurukul', prefix: 'b/' }), target)).toBe(false);
    expect(holdCovers(hold({ subject: 'user:1' }), target)).toBe(true);
    expect(holdCovers(hold({ subject: 'user:1' }), { ...target, subject: null })).toBe(false);
    expect(holdCovers(hold({ product: 'gurukul' }, 'lifted'), target)).toBe(false);
    const active = new ActiveHolds([hold({ subject: 'user:1' }), hold({ product: 'core' })]);
    expect(active.covering(target)).toHaveLength(1);
  });
});
