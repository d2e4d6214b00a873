/** Threat records, escalation to suspension (SPEC §5) and the live decision counts (SPEC §4.2). */
import { policyHash } from '../../../src/domain/canonical.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { threat, type Decision, type Threat } from '../../../src/domain/decision.js';
import type { PrincipalKind } from '../../../src/domain/principal.js';
import { PolicyService } from '../../../src/services/policies.js';
import { DecisionStats } from '../../../src/services/stats.js';
import { ThreatService } from '../../../src/services/threats.js';
import { SqliteMetadataStore } from '../../../src/storage/sqlite/metadata.js';

let store: SqliteMetadataStore;
let policies: PolicyService;
let threats: ThreatService;

beforeEach(async () => {
  store = new SqliteMetadataStore(':memory:');
  await store.init();
  policies = new PolicyService(store);
  await policies.init();
  threats = new ThreatService(store, policies);
  await threats.init();
});
afterEach(async () => store.close());

function decision(kind: PrincipalKind, found: Threat[], id = `key_${kind}`): Decision {
  return {
    id: 'd',
    allow: false,
    status: 403,
    operation: 'READ',
    principal: { id, kind, product: kind === 'owner' ? null : 'ai_avatar' },
    target: { product: 'gurukul', class: null, name: null },
    reasons: [],
    threats: found,
    policyVersion: 1,
  };
}

const T1 = threat('T1', 'cross-product read');

describe('ThreatService', () => {
  it('suspends a key at its third request with a CRITICAL detection, and reinstates it', async () => {
    await threats.observe('r1', decision('product', [T1]));
    await threats.observe('r2', decision('product', [T1]));
    expect(threats.isSuspended('key_product')).toBe(false);
    await threats.observe('r3', decision('product', [T1]));
    expect(threats.isSuspended('key_product')).toBe(true);
    await store.insertKey({
      id: 'key_product',
      hash: 'ab'.repeat(32),
      kind: 'product',
      product: 'ai_avatar',
      integrationId: 'i1',
      name: 'k',
      createdAt: '2026-01-01T00:00:00.000Z',
      expiresAt: null,
      revokedAt: null,
    });
    // Suspensions survive a restart (they are stored).
    const restarted = new ThreatService(store, policies);
    await restarted.init();
    expect(restarted.isSuspended('key_product')).toBe(true);
    expect(await restarted.reinstate('key_product')).toEqual({
      keyId: 'key_product',
      reinstated: true,
    });
    expect(restarted.isSuspended('key_product')).toBe(false);
  });

  it('counts requests, not detections: one request decided twice counts once', async () => {
    for (let i = 0; i < 3; i++) await threats.observe('same', decision('product', [T1, T1]));
    await threats.observe('other', decision('product', [threat('T1', 'another')]));
    expect(threats.isSuspended('key_product')).toBe(false);
  });

  it('never suspends owner keys, and ignores HIGH and MEDIUM detections', async () => {
    for (let i = 0; i < 5; i++) {
      await threats.observe(`o${i}`, decision('owner', [T1]));
      await threats.observe(`p${i}`, decision('product', [threat('T4', 'x'), threat('T6', 'y')]));
    }
    expect(threats.isSuspended('key_owner')).toBe(false);
    expect(threats.isSuspended('key_product')).toBe(false);
    const catalogue = await threats.catalogue();
    expect(catalogue.threats.find((t) => t.id === 'T1')?.detections).toBe(5);
    expect(catalogue.threats.find((t) => t.id === 'T4')?.last24h).toBe(5);
  });

  it('does not count proposal threats toward suspension', async () => {
    for (let i = 0; i < 5; i++) {
      await threats.recordUncounted(`p${i}`, decision('product', []).principal, [T1]);
    }
    expect(threats.isSuspended('key_product')).toBe(false);
    expect((await threats.catalogue()).recent).toHaveLength(5);
  });

  it('follows the escalation section of the live policy', async () => {
    const current = policies.current();
    // A policy version with escalation after one CRITICAL request (stored as the next version).
    const document = {
      ...current.document,
      escalation: { criticalRequests: 1, windowSeconds: 60 },
    };
    await store.insertPolicy({
      ...current,
      version: current.version + 1,
      hash: policyHash(document),
      document,
    });
    const strict = new PolicyService(store);
    await strict.init();
    const service = new ThreatService(store, strict);
    await service.observe('r1', decision('ai_agent', [T1]));
    expect(service.isSuspended('key_ai_agent')).toBe(true);
  });
});

describe('DecisionStats', () => {
  it('counts each request once, as its last decision, over the last hour', () => {
    let now = Date.parse('2026-11-27T12:00:00Z');
    const stats = new DecisionStats(() => now);
    stats.record('a', true);
    stats.record('a', false);
    stats.record('b', true);
    expect(stats.lastHour()).toEqual({ allow: 1, deny: 1 });
    now += 30 * 60_000;
    stats.record('c', false);
    expect(stats.lastHour()).toEqual({ allow: 1, deny: 2 });
    now += 31 * 60_000;
    expect(stats.lastHour()).toEqual({ allow: 0, deny: 1 });
    now += 60 * 60_000;
    expect(stats.lastHour()).toEqual({ allow: 0, deny: 0 });
  });
});
