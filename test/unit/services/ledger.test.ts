/**
 * The audit ledger (services/ledger.ts): a decision recorded as made, the pending entry of a change
 * appended in the change's own transaction, and a failure after an allow recorded as what
 * happened (SPEC §6).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/domain/decision.js';
import { BucketError } from '../../../src/domain/errors.js';
import { AuditLedger } from '../../../src/services/ledger.js';
import { serviceRig, type ServiceRig } from '../../helpers/service-rig.js';

const allowed: Decision = {
  id: 'd_allowed',
  allow: true,
  status: 200,
  operation: 'keys.create',
  principal: { id: 'key_owner', kind: 'owner', product: null },
  target: { product: null, class: null, name: null },
  reasons: [],
  threats: [],
  policyVersion: 1,
};

let rig: ServiceRig;
beforeEach(async () => {
  rig = await serviceRig();
});
afterEach(async () => rig.close());

describe('AuditLedger', () => {
  it('records a decision before it resolves, with its receipt', async () => {
    const receipt = await rig.ledger.record({ decision: allowed, requestId: 'req_1' });
    expect(receipt).toMatchObject({ leafIndex: rig.firstIndex });
    expect((await rig.entries())[0]).toMatchObject({ id: 'd_allowed', requestId: 'req_1' });
  });

  it('leaves a change its pending entry: appended in the change, after it', async () => {
    const pending = rig.ledger.pendingEntry(allowed, 'req_2');
    expect(await rig.entries()).toEqual([]);
    await rig.store.insertKey(
      {
        id: 'key_new',
        hash: 'ab'.repeat(32),
        kind: 'auditor',
        product: null,
        integrationId: null,
        name: 'k',
        createdAt: '2026-01-01T00:00:00.000Z',
        expiresAt: null,
        revokedAt: null,
      },
      pending,
    );
    expect(pending.receipt).toMatchObject({ leafIndex: rig.firstIndex });
    expect(await rig.store.getKey('key_new')).not.toBeNull();
    expect((await rig.entries()).map((e) => e.id)).toEqual(['d_allowed']);
  });

  it('records a failure after an allow as a denial with the code it answered', async () => {
    await rig.ledger.recordFailure(
      allowed,
      'req_3',
      new BucketError('key_not_found', 'no key key_x'),
    );
    await rig.ledger.recordFailure(allowed, 'req_4', new Error('socket hang up'));
    await rig.ledger.recordFailure(
      allowed,
      'req_5',
      new BucketError('insufficient_storage', 'quota of core reached'),
    );
    const entries = await rig.entries();
    expect(entries.map((e) => [e.allow, e.status, e.reasons[0]?.rule, e.requestId])).toEqual([
      [false, 404, 'key_not_found', 'req_3'],
      [false, 500, 'internal_error', 'req_4'],
      [false, 507, 'insufficient_storage', 'req_5'],
    ]);
    // Each failure is an entry of its own, for the allowed decision's principal and target.
    expect(new Set(entries.map((e) => e.id)).size).toBe(3);
    expect(entries[0]?.principal).toEqual(allowed.principal);
    expect(entries[2]?.threats.map((t) => t.id)).toEqual(['T5']);
  });

  it('records nothing for a denial (it has its entry) and never throws', async () => {
    const denial = new BucketError('forbidden', 'no', { decision: { ...allowed, allow: false } });
    await rig.ledger.recordFailure(allowed, 'req_6', denial);
    expect(await rig.entries()).toEqual([]);
    const failing = new AuditLedger({
      appendAudit: () => Promise.reject(new Error('disk gone')),
    });
    await expect(
      failing.recordFailure(allowed, 'req_7', new BucketError('conflict')),
    ).resolves.toBeUndefined();
  });

  it('aggregates the 429s of a principal per second and reports them once stored', async () => {
    const refused: Decision = { ...allowed, allow: false, status: 429, operation: 'READ' };
    for (let i = 0; i < 3; i++) {
      expect(await rig.ledger.record({ decision: refused, requestId: `req_${i}` })).toBeNull();
    }
    await rig.ledger.close();
    const entries = await rig.entries();
    expect(entries.reduce((sum, e) => sum + (e.count ?? 0), 0)).toBe(3);
    expect(rig.refusals.reduce((sum, second) => sum + second.count, 0)).toBe(3);
  });
});
