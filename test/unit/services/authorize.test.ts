/**
 * The authorizer (services/authorize.ts) on the real gate and ledger: which decisions it records
 * as they are made, which it leaves to the change they allow, and how a denial is answered.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BucketError } from '../../../src/domain/errors.js';
import type { RateVerdict } from '../../../src/domain/rates.js';
import { AUDITOR, CORE, OWNER, serviceRig, type ServiceRig } from '../../helpers/service-rig.js';

async function refusal(promise: Promise<unknown>): Promise<BucketError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BucketError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

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
    expect(change.pending?.draft.decision).toBe(change.decision);
    expect(change.pending?.receipt).toBeNull();
    const read = await authorizer.action(request(OWNER), 'keys.list');
    expect(read.pending).toBeNull();
    // Only the read is in the log; the policy change's entry waits for its transaction.
    expect((await rig.entries()).map((e) => e.operation)).toEqual(['keys.list']);
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
