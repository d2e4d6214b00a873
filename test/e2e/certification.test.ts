/**
 * The live certification (SPEC §9), on either backend: a clean Bucket is certified, every check
 * pinned by id, any key reads it, its dry runs record no threats and count toward no suspension,
 * each computation leaves one summary audit entry, and a result is reused for up to 10 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certify, failing, scrubToEnd } from '../helpers/certification.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

const FAST = { scrubThrottle: { share: 1, bytesPerSecond: 0 } };
const IDS = [
  ...['G1', 'G2', 'G3', 'G4', 'G5', 'G6', 'G7'],
  ...['R1', 'R2', 'R3', 'R4', 'R5', 'R6', 'R7'],
  ...['T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7'],
  ...['F1', 'F2', 'F3', 'F4', 'F5', 'F6'],
  ...['L1', 'L2', 'L3', 'L4', 'L5'],
];

describe('certification on a clean Bucket', () => {
  let server: InProcessTestServer;

  beforeAll(async () => {
    server = await startTestServer({ bucket: FAST });
    const owner = client(server.url, server.ownerKey);
    const { key: product } = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    const api = client(server.url, product);
    const written = await api('PUT', '/v1/artifacts/ai_avatar/avatar_config/cert/a.json', {
      body: { look: 'calm' },
    });
    expect(written.status).toBe(201);
    expect(
      (
        await api('PUT', '/v1/artifacts/ai_avatar/avatar_config/cert/a.json', {
          body: { look: 'bright' },
        })
      ).status,
    ).toBe(200);
    expect(await scrubToEnd(server)).toBe('passed');
    // A write after the scrub: checked from the log's tail, not by the scrub.
    expect((await owner('GET', '/v1/governance/mode')).status).toBe(200);
    expect(
      (
        await api('PUT', '/v1/artifacts/ai_avatar/avatar_config/cert/b.json', {
          body: { look: 'new' },
        })
      ).status,
    ).toBe(201);
  });

  afterAll(async () => {
    await server?.dispose();
  });

  it('is certified, with every pinned check passing and its evidence', async () => {
    const answer = await certify(server);
    expect(
      failing(answer),
      JSON.stringify(answer.checks.filter((c) => c.status === 'fail')),
    ).toEqual([]);
    expect(answer.status).toBe('certified');
    expect(answer.checks.map((check) => check.id)).toEqual(IDS);
    expect(answer.policyVersion).toBe(1);
    expect(answer.checkpoint.size).toBeGreaterThan(0);
    expect(answer.checkpoint.rootHash).toMatch(/^[0-9a-f]{64}$/);
    for (const check of answer.checks) {
      expect(check.name).toMatch(/^[a-z_]+$/);
      expect(Object.keys(check.evidence).length).toBeGreaterThan(0);
      expect(Date.parse(check.checkedAt)).not.toBeNaN();
    }
    const g1 = answer.checks.find((check) => check.id === 'G1');
    expect(g1?.evidence.dryRunUpdateModelCheckpoint).toMatchObject({
      allow: false,
      threats: ['T3'],
    });
    expect(g1?.evidence.versionsSinceScrub).toBe(1);
  });

  it('is open to every key; its dry runs record no threats and suspend nobody', async () => {
    const { key: product } = await createKey(server, { kind: 'product', product: 'gurukul' });
    const before = (await client(server.url, server.ownerKey)('GET', '/v1/governance/threats'))
      .json;
    for (let round = 0; round < 4; round++) {
      expect((await certify(server, product)).status).toBe('certified');
    }
    const after = (await client(server.url, server.ownerKey)('GET', '/v1/governance/threats')).json;
    expect(after).toEqual(before);
    // Still not suspended: the probes' CRITICAL detections counted toward nobody.
    const mode = await client(server.url, product)('GET', '/v1/governance/mode');
    expect(mode.status).toBe(200);
  });

  it('leaves one summary audit entry per computation and reuses a result for 10 s', async () => {
    const owner = client(server.url, server.ownerKey);
    const summaries = async () =>
      (await owner('GET', '/v1/audit/entries?principal=bucket:certification&limit=1000')).json
        .entries as { entry: { reasons: { rule: string; message: string }[] } }[];
    const before = (await summaries()).length;
    const first = await certify(server);
    const again = await owner('GET', '/v1/governance/certification');
    expect(again.json.generatedAt).toBe(first.generatedAt);
    const entries = await summaries();
    expect(entries.length).toBe(before + 1);
    expect(entries.at(-1)?.entry.reasons[0]).toMatchObject({ rule: 'certification' });
    expect(entries.at(-1)?.entry.reasons[0]?.message).toMatch(/^certified: 32 checks passed/);
    // The summary entries are ordinary entries: the log still verifies.
    expect(await scrubToEnd(server)).toBe('passed');
  });

  it('refuses a request without a key', async () => {
    const answer = await client(server.url)('GET', '/v1/governance/certification');
    expect(answer.status).toBe(401);
  });
});
