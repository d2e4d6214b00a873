import { describe, expect, it } from 'vitest';
import { detectBypassParams } from '../../../../src/gate/detectors/bypass-params.js';
import {
  detectContentClaims,
  detectRequestClaims,
} from '../../../../src/gate/detectors/identity-claims.js';
import {
  classRetentionSeconds,
  detectRetentionClaim,
  durationSeconds,
} from '../../../../src/gate/detectors/retention-claims.js';
import {
  claimedTime,
  detectContentTimestamps,
  detectMetaTimestamps,
} from '../../../../src/gate/detectors/timestamp-claims.js';

const ids = (threats: { id: string }[]) => threats.map((t) => t.id);

describe('identity-claims detector (T1, T4)', () => {
  it('finds top-level content members naming another product', () => {
    for (const claim of ['product', 'product_id', 'productId', 'owner_id']) {
      const threats = detectContentClaims({ [claim]: 'ai_avatar' }, 'gurukul');
      expect(ids(threats), claim).toEqual(['T1']);
      expect(threats[0]?.evidence).toBe(`content member ${claim} claims product "ai_avatar"`);
    }
  });

  it('lets claims of the caller own product, nested members and non-strings through', () => {
    expect(detectContentClaims({ product_id: 'gurukul' }, 'gurukul')).toEqual([]);
    expect(detectContentClaims({ course: { product: 'ai_avatar' } }, 'gurukul')).toEqual([]);
    expect(detectContentClaims({ product: { name: 'x' }, productId: 7 }, 'gurukul')).toEqual([]);
    expect(detectContentClaims([{ product: 'ai_avatar' }], 'gurukul')).toEqual([]);
  });

  it('treats several product identities in one claim as T4', () => {
    expect(ids(detectContentClaims({ product: 'gurukul,ai_avatar' }, 'gurukul'))).toEqual([
      'T1',
      'T4',
    ]);
  });

  it('finds claims in metadata headers (lower-cased names) and the query string', () => {
    expect(ids(detectRequestClaims({ productid: 'ai_avatar' }, {}, 'gurukul'))).toEqual(['T1']);
    expect(ids(detectRequestClaims({}, { owner_id: 'core' }, 'gurukul'))).toEqual(['T1']);
    expect(detectRequestClaims({ product: 'gurukul' }, { product: 'gurukul' }, 'gurukul')).toEqual(
      [],
    );
  });
});

describe('bypass-params detector (T4)', () => {
  it.each([
    'bypass',
    'bypass_gate',
    'override',
    'skip_audit',
    'skipAudit',
    'emergency',
    'no-audit',
  ])('finds the query parameter %s', (name) =>
    expect(ids(detectBypassParams([name], []))).toEqual(['T4']),
  );

  it('finds headers named like a bypass', () => {
    const threats = detectBypassParams([], ['x-governance-override', 'x-bucket-meta-emergency']);
    expect(ids(threats)).toEqual(['T4', 'T4']);
  });

  it('lets ordinary parameters and headers through', () => {
    expect(
      detectBypassParams(
        ['class', 'prefix', 'limit', 'cursor', 'version'],
        ['authorization', 'content-type', 'x-bucket-sha256', 'if-none-match', 'user-agent'],
      ),
    ).toEqual([]);
  });
});

describe('retention-claims detector (T6)', () => {
  const compliance1y = { mode: 'compliance' as const, period: 'P1Y' };
  const permanent = { mode: 'compliance' as const, period: null };

  it('parses ISO-8601 durations', () => {
    expect(durationSeconds('P1Y')).toBeCloseTo(durationSeconds('P12M') ?? 0);
    expect(durationSeconds('P2W')).toBe(14 * 86_400);
    expect(durationSeconds('PT1H30M')).toBe(5_400);
    expect(durationSeconds('p1d')).toBe(86_400);
    for (const text of ['P', 'PT', '1Y', 'forever', 'P1.5Y', '']) {
      expect(durationSeconds(text), text).toBeNull();
    }
    expect(classRetentionSeconds(permanent)).toBe(Infinity);
    expect(classRetentionSeconds({ mode: 'none', period: null })).toBe(0);
  });

  it('finds a claim shorter than the class retention', () => {
    expect(ids(detectRetentionClaim({ retention: 'P30D' }, compliance1y))).toEqual(['T6']);
    expect(ids(detectRetentionClaim({ retention: 'P11M' }, compliance1y))).toEqual(['T6']);
    expect(ids(detectRetentionClaim({ retention: 'P100Y' }, permanent))).toEqual(['T6']);
  });

  it('lets equal or longer claims, non-durations and classes without retention through', () => {
    expect(detectRetentionClaim({ retention: 'P1Y' }, compliance1y)).toEqual([]);
    expect(detectRetentionClaim({ retention: 'P12M' }, compliance1y)).toEqual([]);
    expect(detectRetentionClaim({ retention: 'P7Y' }, compliance1y)).toEqual([]);
    expect(detectRetentionClaim({ retention: 'permanent' }, compliance1y)).toEqual([]);
    expect(detectRetentionClaim({}, compliance1y)).toEqual([]);
    expect(detectRetentionClaim({ retention: 'P1D' }, { mode: 'none', period: null })).toEqual([]);
  });
});

describe('timestamp-claims detector (T7)', () => {
  const now = Date.parse('2026-11-27T20:00:00.000Z');

  it('reads ISO 8601 and epoch seconds or milliseconds', () => {
    expect(claimedTime('2026-11-27T20:00:00Z')).toBe(now);
    expect(claimedTime(now)).toBe(now);
    expect(claimedTime(now / 1000)).toBe(now);
    expect(claimedTime(String(now / 1000))).toBe(now);
    expect(claimedTime('yesterday')).toBeNull();
    expect(claimedTime('1')).toBe(1000);
    expect(claimedTime(true)).toBeNull();
  });

  it('flags claims older than 300 s or in the future', () => {
    const old = detectMetaTimestamps({ timestamp: '2026-11-27T19:54:00Z' }, now);
    expect(ids(old)).toEqual(['T7']);
    expect(old[0]?.evidence).toBe('x-bucket-meta-timestamp claims a time 360 s old');
    const future = detectContentTimestamps({ created_at: '2026-11-27T21:00:00Z' }, now);
    expect(future[0]?.evidence).toBe(
      'content member created_at claims a time 3600 s in the future',
    );
  });

  it('lets recent claims, unparseable ones and nested members through', () => {
    expect(detectMetaTimestamps({ timestamp: '2026-11-27T19:58:00Z' }, now)).toEqual([]);
    expect(detectMetaTimestamps({ created_at: String(now / 1000 + 2) }, now)).toEqual([]);
    expect(detectContentTimestamps({ timestamp: 'soon' }, now)).toEqual([]);
    expect(detectContentTimestamps({ event: { timestamp: 0 } }, now)).toEqual([]);
    expect(detectMetaTimestamps({ 'created-at': '1999-01-01' }, now)).toEqual([]);
  });
});
