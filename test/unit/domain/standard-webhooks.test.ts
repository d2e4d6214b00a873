/**
 * Standard Webhooks signatures against the specification's own test vector, and the retry
 * schedule of SPEC §10 (1 s, doubling, at most 1 h apart, for 24 h).
 */
import { describe, expect, it } from 'vitest';
import { signature, webhookHeaders } from '../../../src/domain/standard-webhooks.js';
import { failed, RETRY_SCHEDULE } from '../../../src/domain/webhooks.js';

describe('Standard Webhooks', () => {
  // The example of the Standard Webhooks specification (and its reference libraries' tests).
  const vector = {
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    timestamp: 1614265330,
    body: '{"test": 2432232314}',
    signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  };

  it('signs the specification vector as it says', () => {
    expect(signature(vector.secret, vector.id, vector.timestamp, vector.body)).toBe(
      vector.signature,
    );
    expect(webhookHeaders(vector.secret, vector.id, vector.timestamp, vector.body)).toEqual({
      'webhook-id': vector.id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': vector.signature,
    });
  });

  it('changes with every signed part', () => {
    for (const changed of [
      signature(vector.secret, vector.id + 'x', vector.timestamp, vector.body),
      signature(vector.secret, vector.id, vector.timestamp + 1, vector.body),
      signature(vector.secret, vector.id, vector.timestamp, vector.body + ' '),
      signature('whsec_' + Buffer.alloc(24).toString('base64'), vector.id, 1614265330, vector.body),
    ]) {
      expect(changed).not.toBe(vector.signature);
    }
  });
});

describe('the retry schedule', () => {
  it('waits 1 s, then doubles, at most 1 h apart, and gives up after 24 h', () => {
    let state = { cursor: 7, failures: 0, failingSince: null as number | null };
    const delays: number[] = [];
    let now = 0;
    let disabled = false;
    while (!disabled) {
      const next = failed(state, now, RETRY_SCHEDULE);
      delays.push(next.nextAttemptAt - now);
      expect(next.cursor).toBe(7);
      disabled = next.disable;
      state = next;
      now = next.nextAttemptAt;
    }
    expect(delays.slice(0, 5)).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(Math.max(...delays)).toBe(3_600_000);
    // The last attempt is the first at or after 24 h of failing.
    const failingFor = now - delays.at(-1)!;
    expect(failingFor).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(failingFor - delays.at(-2)!).toBeLessThan(24 * 3_600_000);
  });
});
