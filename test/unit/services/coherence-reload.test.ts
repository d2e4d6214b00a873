/**
 * The coherence race (issue 6): a reload reads what the shared store holds, and a change this
 * node makes while that read is in flight must not be undone by it. The store's answer is held
 * back here until the change is made, so the race happens every time.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { threat, type Decision } from '../../../src/domain/decision.js';
import { IntegrationService } from '../../../src/services/integrations.js';
import { PolicyService } from '../../../src/services/policies.js';
import { ThreatService } from '../../../src/services/threats.js';
import type { MetadataStore } from '../../../src/storage/ports.js';
import { SqliteMetadataStore } from '../../../src/storage/sqlite/metadata.js';

let store: SqliteMetadataStore;
let policies: PolicyService;

beforeEach(async () => {
  store = new SqliteMetadataStore(':memory:');
  await store.init();
  policies = new PolicyService(store);
  await policies.init();
});
afterEach(async () => store.close());

/**
 * The store, except that `method` reads its answer at once and hands it over only when
 * `release()` is called: the answer is what the store held before anything done meanwhile.
 */
function withHeldRead(method: 'listSuspensions' | 'listIntegrations') {
  let release: () => void = () => {};
  let held: Promise<void> | null = null;
  const gated = new Proxy(store, {
    get(target, property) {
      if (property === method) {
        return async () => {
          const answer = await target[method]();
          if (held) await held;
          return answer;
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  }) as MetadataStore;
  return {
    gated,
    hold() {
      held = new Promise((resolve) => (release = resolve));
    },
    release() {
      held = null;
      release();
    },
  };
}

function critical(keyId: string): Decision {
  return {
    id: 'd',
    allow: false,
    status: 403,
    operation: 'READ',
    principal: { id: keyId, kind: 'product', product: 'ai_avatar' },
    target: { product: 'gurukul', class: null, name: null },
    reasons: [],
    threats: [threat('T1', 'cross-product read')],
    policyVersion: 1,
  };
}

describe('a reload overtaken by a change of this node', () => {
  it('keeps a suspension made while the suspensions were being read', async () => {
    const held = withHeldRead('listSuspensions');
    const threats = new ThreatService(held.gated, policies);
    await threats.init();
    held.hold();
    const reloading = threats.reload(); // reads "no suspension", answer held back
    for (const request of ['r1', 'r2', 'r3']) await threats.observe(request, critical('key_a'));
    expect(threats.isSuspended('key_a')).toBe(true);
    held.release();
    await reloading;
    expect(threats.isSuspended('key_a')).toBe(true);
    // The next reload reads the store as it is now, with the suspension.
    await threats.reload();
    expect(threats.isSuspended('key_a')).toBe(true);
  });

  it('still applies a reload that nothing of this node overtook (another node changed the store)', async () => {
    const threats = new ThreatService(store, policies);
    await threats.init();
    // Another node, sharing the store, suspends a key.
    const elsewhere = new ThreatService(store, policies);
    await elsewhere.init();
    for (const request of ['r1', 'r2', 'r3']) await elsewhere.observe(request, critical('key_b'));
    expect(threats.isSuspended('key_b')).toBe(false);
    await threats.reload();
    expect(threats.isSuspended('key_b')).toBe(true);
  });

  it('keeps a revocation made while the integrations were being read', async () => {
    await store.insertIntegration({
      id: 'int_1',
      type: 'ai_agent',
      product: 'ai_avatar',
      classes: ['avatar_config'],
      dataSchema: {},
      approvedAt: '2026-11-28T00:00:00.000Z',
      approvedBy: 'key_owner',
      revokedAt: null,
    });
    const held = withHeldRead('listIntegrations');
    const integrations = new IntegrationService(held.gated, policies);
    await integrations.init();
    expect(integrations.lookup('ai_avatar', 'int_1')?.revokedAt).toBeNull();
    held.hold();
    const reloading = integrations.reload(); // reads "int_1 active", answer held back
    await integrations.revoke('int_1', 'ai_avatar');
    held.release();
    await reloading;
    expect(integrations.lookup('ai_avatar', 'int_1')?.revokedAt).not.toBeNull();
  });
});
