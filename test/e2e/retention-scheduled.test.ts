/**
 * The scheduled retention sweep (SPEC §8): with a controllable clock and a short interval, what
 * is due is purged without being asked, as the Bucket itself, with its audit entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/durability.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const DAY = 24 * 60 * 60 * 1000;
const JSON_HEADERS = { 'content-type': 'application/json' };

describe('the scheduled retention sweep', () => {
  let server: TestServer;
  let clock = Date.parse('2027-01-01T00:00:00.000Z');

  beforeAll(async () => {
    server = await startTestServer({
      bucket: { now: () => clock, retentionSweepIntervalMs: 50 },
    });
  });
  afterAll(async () => server?.dispose());

  it('purges what is due without being asked, as the Bucket itself, audited', async () => {
    const gurukul = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'gurukul' })).key,
    );
    const path = '/v1/artifacts/gurukul/user_progress/scheduled.json';
    const written = await gurukul('PUT', path, { body: '{"s":1}', headers: JSON_HEADERS });
    expect(written.status).toBe(201);
    expect((await gurukul('GET', path)).status).toBe(200);
    clock += 400 * DAY;
    const purged = await eventually(async () => (await gurukul('GET', path)).status === 410);
    expect(purged).toBe(true);
    const owner = client(server.url, server.ownerKey);
    const versions = (await owner('GET', `${path}/versions`)).json.versions;
    const entry = (await owner('GET', `/v1/audit/entries/${versions[0].purged.auditIndex}`)).json;
    expect(entry.entry).toMatchObject({
      operation: 'PURGE',
      principal: { id: 'bucket:retention-sweep', kind: 'executor' },
    });
  });
});
