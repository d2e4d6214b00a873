/** SPEC §5 T1 brute force: ≥ 20 failing keys from one address in 60 s → 429 for failing keys. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

describe('brute-force authentication', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.dispose());

  it('answers 429 with Retry-After to further failing keys, never to valid ones, and records T1', async () => {
    const { key } = await createKey(server, { kind: 'product', product: 'gurukul' });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const answer = await client(server.url, `bkt_not_a_key_${i}`)('GET', '/v1/artifacts/gurukul');
      statuses.push(answer.status);
    }
    expect(statuses).toEqual(Array(20).fill(401));

    const blocked = await client(server.url, 'bkt_not_a_key_x')('GET', '/v1/artifacts/gurukul');
    expect(blocked.status).toBe(429);
    expect(blocked.json.error.code).toBe('rate_limited');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(60);

    // A valid key from the same address is unaffected.
    const valid = await client(server.url, key)('GET', '/v1/artifacts/gurukul');
    expect(valid.status).toBe(200);
    const owner = await client(server.url, server.ownerKey)('GET', '/v1/governance/threats');
    expect(owner.status).toBe(200);
    expect(
      owner.json.recent.some(
        (record: any) =>
          record.threatId === 'T1' &&
          record.principalId === null &&
          /20 failed authentications/.test(record.evidence),
      ),
    ).toBe(true);
  });
});
