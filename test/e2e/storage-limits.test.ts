/**
 * Storage limits through real HTTP (SPEC §2.3, §5 T5): a product quota, the artifact counts and the
 * storage capacity answer 507 with nothing stored; racing writes never overshoot a quota (the
 * commit transaction re-checks it); crossing a WARNING/CRITICAL threshold is recorded once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

type Api = ReturnType<typeof client>;

/** A JSON document of exactly `size` bytes. */
const jsonOf = (size: number) => JSON.stringify({ n: 'x'.repeat(size - 8) });

async function setPolicy(owner: Api, change: (document: any) => void): Promise<void> {
  const current = (await owner('GET', '/v1/governance/policy')).json;
  const document = structuredClone(current.document);
  change(document);
  const answer = await owner('PUT', '/v1/governance/policy', {
    body: { document, reason: 'storage limit test' },
  });
  expect(answer.status, answer.bytes.toString()).toBe(200);
}

const write = (api: Api, name: string, size: number) =>
  api('PUT', `/v1/artifacts/ai_assistant/metadata/${name}`, {
    body: jsonOf(size),
    headers: { 'content-type': 'application/json' },
  });

async function storedNames(api: Api): Promise<{ name: string; size: number }[]> {
  const answer = await api('GET', '/v1/artifacts/ai_assistant?limit=1000');
  expect(answer.status).toBe(200);
  return answer.json.items.map((item: { name: string; size: number }) => ({
    name: item.name,
    size: item.size,
  }));
}

async function t5Evidence(owner: Api): Promise<string[]> {
  const answer = await owner('GET', '/v1/governance/threats');
  expect(answer.status).toBe(200);
  return answer.json.recent
    .filter((record: { threatId: string }) => record.threatId === 'T5')
    .map((record: { evidence: string }) => record.evidence);
}

describe('storage limits', () => {
  let server: TestServer;
  let owner: Api;
  let writer: Api;

  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.ownerKey);
    writer = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key,
    );
  });
  afterAll(async () => server?.dispose());

  it('refuses a write over the product quota with 507, storing nothing; alerts once per crossing', async () => {
    await setPolicy(owner, (document) => {
      document.products.ai_assistant.quotaBytes = 4000;
    });
    for (let i = 0; i < 3; i++) expect((await write(writer, `q-${i}`, 1000)).status).toBe(201);
    // 3000 of 4000: a 1,200-byte write would pass the quota.
    const refused = await write(writer, 'q-over', 1200);
    expect(refused.status).toBe(507);
    expect(refused.json.error.code).toBe('insufficient_storage');
    expect(refused.json.error.decision.threats.map((t: { id: string }) => t.id)).toContain('T5');
    expect((await writer('GET', '/v1/artifacts/ai_assistant/metadata/q-over')).status).toBe(404);
    // 3000 → 3700 crosses WARNING (90 % = 3600); 3700 → 3980 crosses CRITICAL (99 % = 3960).
    expect((await write(writer, 'q-3', 700)).status).toBe(201);
    expect((await write(writer, 'q-4', 280)).status).toBe(201);
    expect((await write(writer, 'q-5', 20)).status).toBe(201);
    expect((await write(writer, 'q-6', 10)).status).toBe(507);
    const evidence = await t5Evidence(owner);
    expect(
      evidence.filter((e) => e.startsWith('WARNING: ai_assistant storage bytes')),
    ).toHaveLength(1);
    expect(
      evidence.filter((e) => e.startsWith('CRITICAL: ai_assistant storage bytes')),
    ).toHaveLength(1);
    const stored = await storedNames(writer);
    expect(stored.reduce((sum, item) => sum + item.size, 0)).toBe(4000);
  });

  it('never lets racing writes pass the quota (re-checked inside the commit transaction)', async () => {
    await setPolicy(owner, (document) => {
      document.products.ai_assistant.quotaBytes = 4000 + 10_000;
    });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => write(writer, `race-${i}`, 1000)),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s !== 201).every((s) => s === 507)).toBe(true);
    const stored = await storedNames(writer);
    expect(stored.reduce((sum, item) => sum + item.size, 0)).toBe(14_000);
  });

  it('refuses a new artifact past maxArtifacts with 507, storing nothing', async () => {
    await setPolicy(owner, (document) => {
      document.products.ai_assistant.quotaBytes = 1_000_000;
      document.products.ai_assistant.maxArtifacts = 16;
    });
    const before = (await storedNames(writer)).length;
    expect(before).toBe(16);
    const refused = await write(writer, 'one-too-many', 100);
    expect(refused.status).toBe(507);
    expect(refused.json.error.decision.reasons[0].rule).toBe('max_artifacts');
    expect(await storedNames(writer)).toHaveLength(16);
  });

  it('refuses writes at the CRITICAL level of the storage capacity (99 %), alerting at WARNING', async () => {
    // Stored now: 14,000 bytes.
    await setPolicy(owner, (document) => {
      document.products.ai_assistant.maxArtifacts = 1000;
      // WARNING at 14,400 bytes (90 %), writes refused past 15,840 (99 %).
      document.limits.storageCapacityBytes = 16_000;
    });
    expect((await write(writer, 'cap-0', 500)).status).toBe(201);
    expect((await write(writer, 'cap-1', 1000)).status).toBe(201);
    const refused = await write(writer, 'cap-2', 400);
    expect(refused.status).toBe(507);
    expect(refused.json.error.decision.reasons[0].rule).toBe('storage_capacity');
    expect((await writer('GET', '/v1/artifacts/ai_assistant/metadata/cap-2')).status).toBe(404);
    const evidence = await t5Evidence(owner);
    expect(evidence.filter((e) => e.startsWith('WARNING: total storage bytes'))).toHaveLength(1);
    expect(evidence.filter((e) => e.startsWith('CRITICAL: total storage bytes'))).toHaveLength(0);
  });
});
