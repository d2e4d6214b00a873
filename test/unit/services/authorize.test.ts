/**
 * The authorizer (services/authorize.ts) on the real gate and ledger: which decisions it records
 * as they are made, which it leaves to the change they allow, and how a denial is answered.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BucketError } from '../../../src/domain/errors.js';
import type { RateVerdict } from '../../../src/domain/rates.js';
import {
  AUDITOR,
  CORE,
  OWNER,
  serviceRig,
  type ServiceRig,
  refusal,
} from '../../helpers/service-rig.js';

const REFUSED: RateVerdict = {
  kind: 'read',
  allowed: false,
  retryAfterMs: 1500,
  scope: 'global',
  limit: 10,
};

let rig: ServiceRig;
beforeEach(async () => {
  rig = await serviceRig();
});
afterEach(async () => rig.close());

const request = (principal = CORE) => ({ requestId: 'req_1', principal });

describe('Authorizer', () => {
  it('records an allowed read as it is decided, and a denial before throwing it', async () => {
    const { authorizer } = rig;
    const allowed = await authorizer.authorize(
      authorizer.context(request(), 'artifact.read', { product: 'core', class: 'agent_spec' }),
    );
    expect(allowed.decision.allow).toBe(true);
    const denied = await refusal(
      authorizer.authorize(authorizer.context(request(AUDITOR), 'keys.create')),
    );
    expect(denied).toMatchObject({ status: 403, code: 'forbidden' });
    expect(denied.decision?.threats.map((t) => t.id)).toEqual(['T4']);
    const entries = await rig.entries();
    expect(entries.map((e) => [e.id, e.allow])).toEqual([
      [allowed.decision.id, true],
      [denied.decision?.id, false],
    ]);
  });

  it('leaves the allow of a change to the change, and records its denial', async () => {
    const { authorizer } = rig;
    const write = (product: string) =>
      authorizer.context(request(), 'artifact.write', {
        product,
        class: 'agent_spec',
        name: 'a.json',
        contentType: 'application/json',
        writeSlot: true,
      });
    const header = await authorizer.authorizeChange(write('core'), async () => ({ head: null }));
    expect(header.decision).toMatchObject({ allow: true, operation: 'CREATE' });
    // The header verdict the body phase decides from: the target looked up, no early threats.
    expect(header.target).toEqual({ head: null });
    expect(header.earlyThreats).toEqual([]);
    expect(await rig.entries()).toEqual([]);

    const denied = await refusal(authorizer.authorizeChange(write('gurukul')));
    expect(denied.status).toBe(403);
    expect((await rig.entries()).map((e) => e.id)).toEqual([denied.decision?.id]);
  });

  it('hands a change action its pending entry, for its store to append', async () => {
    const { authorizer } = rig;
    const change = await authorizer.action(request(OWNER), 'policy.update');
    expect(change.entry?.draft.decision).toBe(change.decision);
    expect(change.entry?.receipt).toBeNull();
    const read = await authorizer.action(request(OWNER), 'keys.list');
    expect(read.entry).toBeNull();
    // Only the read is in the log; the policy change's entry waits for its transaction.
    expect((await rig.entries()).map((e) => e.operation)).toEqual(['keys.list']);
  });

  it('records an unappended change entry once, with the status its client receives', async () => {
    const { authorizer } = rig;
    const change = await authorizer.action(request(OWNER), 'keys.create', 201);
    expect(change.decision.status).toBe(200);
    expect(change.unappended).toBe(true);
    await change.finish();
    await change.finish();
    expect(change.unappended).toBe(false);
    expect(change.entry?.receipt).toMatchObject({ leafIndex: rig.firstIndex });
    expect((await rig.entries()).map((e) => [e.operation, e.allow, e.status])).toEqual([
      ['keys.create', true, 201],
    ]);
  });

  it('records the failure of an allowed action instead of its pending entry', async () => {
    const { authorizer } = rig;
    const change = await authorizer.action(request(OWNER), 'policy.update');
    await change.fail(new BucketError('conflict', 'the policy moved'));
    expect(change.unappended).toBe(false);
    await change.finish();
    const denial = new BucketError('forbidden', 'no', {
      decision: { ...change.decision, allow: false },
    });
    const denied = await authorizer.action(request(OWNER), 'policy.update');
    await denied.fail(denial);
    await denied.finish();
    // The denial has its own entry; the failure is the only one of these changes in the log.
    expect((await rig.entries()).map((e) => [e.allow, e.status, e.reasons[0]?.rule])).toEqual([
      [false, 409, 'conflict'],
    ]);
  });

  it('records a change that fails after its allow as a failure, and rethrows', async () => {
    const { authorizer } = rig;
    const change = await authorizer.action(request(OWNER), 'policy.update');
    const done = await authorizer.settleChange(change.decision, 'req_ok', Promise.resolve(7));
    expect(done).toBe(7);
    const failing = authorizer.settleChange(
      change.decision,
      'req_2',
      Promise.reject(new BucketError('insufficient_storage', 'quota of core reached')),
    );
    await expect(failing).rejects.toMatchObject({ code: 'insufficient_storage' });
    expect((await rig.entries()).map((e) => [e.allow, e.status, e.requestId])).toEqual([
      [false, 507, 'req_2'],
    ]);
  });

  it('answers a refused rate with Retry-After and aggregates the 429s of the second', async () => {
    const { authorizer } = rig;
    const ctx = authorizer.context(request(), 'artifact.read', {
      product: 'core',
      class: 'agent_spec',
      name: 'a.json',
      rate: REFUSED,
    });
    const first = await refusal(authorizer.authorize(ctx));
    expect(first).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(first.headers).toEqual({ 'retry-after': '2' });
    await refusal(authorizer.authorize(ctx));
    expect(await rig.entries()).toEqual([]);
    await rig.ledger.close();
    const entries = await rig.entries();
    // One entry for the principal's second, counting both (a race with the second's end could
    // split them in two: their counts still add up).
    expect(entries.every((e) => e.status === 429)).toBe(true);
    expect(entries.reduce((sum, e) => sum + (e.count ?? 0), 0)).toBe(2);
  });
});
