/**
 * Enforced rates and write concurrency through real HTTP (SPEC §2.3, §5 T5, §7): 429 with
 * Retry-After, governance routes never charged, slots released after aborted uploads, and the
 * scale-status readings. Accepted rates within 15 % of the limit are timed tests
 * (`npm run test:timed`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startUpload } from '../helpers/durability.js';
import { sleep } from '../helpers/http.js';
import { paced, timed } from '../helpers/load.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

type Answer = Awaited<ReturnType<ReturnType<typeof client>>>;

function expectRateLimited(answer: Answer): void {
  expect(answer.status).toBe(429);
  expect(answer.json.error.code).toBe('rate_limited');
  const retryAfter = answer.headers.get('retry-after');
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(answer.json.error.decision.threats.map((t: { id: string }) => t.id)).toContain('T5');
}

const READ_PATHS = [
  ['GET', '/v1/artifacts/ai_avatar/model_checkpoint/read/target'],
  ['HEAD', '/v1/artifacts/ai_avatar/model_checkpoint/read/target'],
  ['GET', '/v1/artifacts/ai_avatar?class=model_checkpoint&limit=1'],
  ['GET', '/v1/artifacts/ai_avatar/model_checkpoint/read/target/versions'],
] as const;

/** Every read answered 200 or 429 with Retry-After (and its decision, HEAD aside); the 200s. */
function expectReadsLimited(answers: readonly Answer[]): number {
  const accepted = answers.filter((a) => a.status === 200).length;
  const refused = answers.filter((a) => a.status === 429);
  expect(accepted + refused.length).toBe(answers.length);
  for (const answer of refused) {
    expect(answer.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    // A HEAD answer has no body to carry the decision.
    if (answer.json) expectRateLimited(answer);
  }
  return accepted;
}

describe('scale limits: rates and concurrency', () => {
  let server: TestServer;
  let owner: ReturnType<typeof client>;
  let avatar: ReturnType<typeof client>;
  let avatarKey: string;
  let avatarIntegration: string;
  let defaults: any;

  /** Replaces the live policy: `limits` over the defaults, and optional per-product shares. */
  async function setLimits(limits: Record<string, number>, products: Record<string, object> = {}) {
    const document = structuredClone(defaults);
    Object.assign(document.limits, limits);
    for (const [id, share] of Object.entries(products)) Object.assign(document.products[id], share);
    const answer = await owner('PUT', '/v1/governance/policy', {
      body: { document, reason: `scale test ${JSON.stringify({ limits, products })}` },
    });
    expect(answer.status).toBe(200);
  }

  const putSmall = (name: string) =>
    avatar('PUT', `/v1/artifacts/ai_avatar/model_checkpoint/${name}`, {
      body: Buffer.from(`content of ${name}`),
      headers: { 'content-type': 'application/octet-stream' },
    });

  /** `validate-operation` (SPEC §4.2) of a write of `dataSize` bytes through ai_avatar's integration. */
  const dryRun = (operationType = 'CREATE', dataSize = 100) =>
    owner('POST', '/governance/gate/validate-operation', {
      body: {
        integrationId: avatarIntegration,
        operationType,
        artifactClass: 'model_checkpoint',
        dataSize,
      },
    });

  async function scaleStatus(as = owner): Promise<Record<string, any>> {
    const answer = await as('GET', '/v1/metrics/scale-status');
    expect(answer.status).toBe(200);
    return Object.fromEntries(answer.json.limits.map((item: any) => [item.name, item]));
  }

  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.ownerKey);
    const created = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    avatarKey = created.key;
    avatarIntegration = created.integrationId ?? '';
    avatar = client(server.url, avatarKey);
    defaults = (await owner('GET', '/v1/governance/policy')).json.document;
  });
  afterAll(async () => server?.dispose());

  it('refuses a burst of writes over the write limit with 429 + Retry-After, keeping some', async () => {
    await setLimits({ writesPerSecond: 5 });
    await sleep(1100); // a fresh window
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => putSmall(`burst/at-once-${i}`)),
    );
    const accepted = answers.filter((a) => a.status === 201).length;
    const refused = answers.filter((a) => a.status === 429);
    expect(accepted + refused.length).toBe(answers.length);
    expect(accepted).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(answers.length / 2);
    for (const answer of refused) expectRateLimited(answer);
  });

  it('refuses a burst of reads (GET, HEAD, listings, versions) over the read limit', async () => {
    await setLimits({ readsPerSecond: 1000 });
    expect((await putSmall('read/target')).status).toBe(201);
    await setLimits({ readsPerSecond: 5 });
    await sleep(1100);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const [method, path] = READ_PATHS[i % READ_PATHS.length]!;
        return avatar(method, path);
      }),
    );
    expectReadsLimited(answers);
    for (const [method] of READ_PATHS) {
      const refusedOfMethod = answers.filter(
        (a, i) => a.status === 429 && READ_PATHS[i % READ_PATHS.length]![0] === method,
      );
      expect(refusedOfMethod.length, method).toBeGreaterThan(0);
    }
    await setLimits({ readsPerSecond: 1000 });
  });

  timed('holds a 3× burst of writes to the write limit, within 15 %', async () => {
    await setLimits({ writesPerSecond: 50 });
    await sleep(1100); // a fresh window
    const { answers, seconds } = await paced(150, 3000, (i) => putSmall(`burst/w-${i}`));
    const accepted = answers.filter((a) => a.status === 201).length;
    const refused = answers.filter((a) => a.status === 429);
    expect(accepted + refused.length).toBe(answers.length);
    for (const answer of refused) expectRateLimited(answer);
    const rate = accepted / seconds;
    expect(rate).toBeGreaterThanOrEqual(50 * 0.85);
    expect(rate).toBeLessThanOrEqual(50 * 1.15);
  });

  timed('holds a 3× burst of reads to the read limit, within 15 %', async () => {
    await setLimits({ readsPerSecond: 1000 });
    expect((await putSmall('read/target')).status).toBe(201);
    await setLimits({ readsPerSecond: 50 });
    await sleep(1100);
    const { answers, seconds } = await paced(150, 3000, (i) => {
      const [method, path] = READ_PATHS[i % READ_PATHS.length]!;
      return avatar(method, path);
    });
    const accepted = expectReadsLimited(answers);
    const rate = accepted / seconds;
    expect(rate).toBeGreaterThanOrEqual(50 * 0.85);
    expect(rate).toBeLessThanOrEqual(50 * 1.15);
  });

  it('charges no governance, key or integration route, and applies a limit change at once', async () => {
    await setLimits({ writesPerSecond: 1, readsPerSecond: 1 });
    await sleep(1100);
    expect((await putSmall('change/first')).status).toBe(201);
    expectRateLimited(await putSmall('change/second'));
    expect((await avatar('GET', '/v1/artifacts/ai_avatar')).status).toBe(200);
    expectRateLimited(await avatar('GET', '/v1/artifacts/ai_avatar'));
    for (let i = 0; i < 10; i++) {
      for (const path of [
        '/v1/governance/policy',
        '/v1/keys',
        '/v1/integrations',
        '/governance/gate/scale-limits',
        '/v1/metrics/scale-status',
      ]) {
        expect((await owner('GET', path)).status).toBe(200);
      }
    }
    // Raised again: the very next write is decided against the new limit.
    await setLimits({ writesPerSecond: 1000, readsPerSecond: 10_000 });
    expect((await putSmall('change/third')).status).toBe(201);
    expect((await avatar('GET', '/v1/artifacts/ai_avatar')).status).toBe(200);
  });

  it('refuses a product past its share of the write rate (products.<id>.writesPerSecond)', async () => {
    await setLimits({ writesPerSecond: 1000 }, { ai_avatar: { writesPerSecond: 2 } });
    await sleep(1100);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await putSmall(`share/w-${i}`));
    expect(answers.filter((a) => a.status === 201).length).toBeLessThanOrEqual(3);
    const refused = answers.find((a) => a.status === 429)!;
    expectRateLimited(refused);
    expect(refused.json.error.message).toMatch(/ai_avatar's share/);
    await setLimits({ writesPerSecond: 1000 });
  });

  it('gives validate-operation the rate verdict a write would get, spending none of it', async () => {
    await setLimits({ writesPerSecond: 1000 }, { ai_avatar: { writesPerSecond: 2 } });
    await sleep(1100); // a fresh window of 2 writes
    for (let i = 0; i < 5; i++) expect((await dryRun()).status).toBe(200);
    // The dry runs spent nothing: both writes of the window are left.
    expect((await putSmall('peek/w-0')).status).toBe(201);
    expect((await putSmall('peek/w-1')).status).toBe(201);
    // The window is spent: the dry run is refused as the next write would be (a window that
    // reopened in between lets both through, so the pair is tried until it meets a spent one).
    let dry;
    for (let attempt = 0; attempt < 5; attempt++) {
      if ((await putSmall(`peek/spent-${attempt}`)).status !== 429) continue;
      dry = await dryRun();
      if (dry.status === 403) break;
    }
    expect(dry?.status).toBe(403);
    expect(dry?.json.decision).toMatchObject({ allow: false, status: 429 });
    expect(dry?.json.decision.reasons[0].rule).toBe('writes_per_second');
    // Reads are charged to the read rate, which has room.
    expect((await dryRun('READ', 0)).status).toBe(200);
    await setLimits({ writesPerSecond: 1000 });
  });

  it('gives validate-operation the usage a write would be checked against (507)', async () => {
    await setLimits({ storageCapacityBytes: 1000 });
    const dry = await dryRun('CREATE', 2000);
    expect(dry.status).toBe(403);
    expect(dry.json.decision).toMatchObject({ allow: false, status: 507 });
    expect(dry.json.decision.threats.map((t: { id: string }) => t.id)).toContain('T5');
    expect((await dryRun('READ', 0)).status).toBe(200);
    await setLimits({ storageCapacityBytes: defaults.limits.storageCapacityBytes });
  });

  it('holds the concurrency cap, bands it RED at the cap, and recovers after aborted uploads', async () => {
    // The Bucket's cap, reached by one product: its share is the whole (productWriteShare 1).
    await setLimits({ concurrentWrites: 3, productWriteShare: 1 });
    const uploads = [];
    for (let i = 0; i < 3; i++) {
      uploads.push(
        await startUpload(
          server.url,
          avatarKey,
          `/v1/artifacts/ai_avatar/model_checkpoint/slow-${i}`,
          {
            declared: 8 * 1024 * 1024,
            sent: 256 * 1024,
          },
        ),
      );
    }
    expect(
      await eventually(async () => (await scaleStatus()).concurrent_writes.current === 3),
    ).toBe(true);
    const status = await scaleStatus();
    expect(status.concurrent_writes).toEqual({
      name: 'concurrent_writes',
      limit: 3,
      current: 3,
      ratio: 1,
      status: 'RED',
    });
    const fourth = await putSmall('capped');
    expectRateLimited(fourth);
    expect(fourth.json.error.decision.reasons[0].rule).toBe('concurrent_writes');
    // The dry run sees the cap as the write did, and holds no slot itself (SPEC §4.2).
    const dry = await dryRun();
    expect(dry.status).toBe(403);
    expect(dry.json.decision).toMatchObject({ status: 429 });
    expect(dry.json.decision.reasons[0].rule).toBe('concurrent_writes');
    expect((await dryRun('READ', 0)).status).toBe(200);

    await Promise.all(uploads.map((upload) => upload.abandon()));
    expect(
      await eventually(async () => (await scaleStatus()).concurrent_writes.current === 0),
    ).toBe(true);
    expect((await scaleStatus()).concurrent_writes.status).toBe('GREEN');
    for (let i = 0; i < 3; i++) expect((await putSmall(`recovered-${i}`)).status).toBe(201);
    await setLimits({ concurrentWrites: 100 });
  });

  it('releases a slot after every refused or failed write', async () => {
    // The Bucket's cap, reached by one product: its share is the whole (productWriteShare 1).
    await setLimits({ concurrentWrites: 3, productWriteShare: 1 });
    // Refusals that are no CRITICAL detection, so that escalation (SPEC §5) does not suspend the key.
    const failing = [
      // a hash claim that does not match: refused on the received body (T7, 400)
      () =>
        avatar('PUT', '/v1/artifacts/ai_avatar/model_checkpoint/bad-hash', {
          body: Buffer.from('x'),
          headers: {
            'content-type': 'application/octet-stream',
            'x-bucket-sha256': '0'.repeat(64),
          },
        }),
      // a JSON body over the class maximum (T5, 413)
      () =>
        avatar('PUT', '/v1/artifacts/ai_avatar/avatar_config/too-large.json', {
          body: JSON.stringify({ pad: 'x'.repeat(1_100_000) }),
          headers: { 'content-type': 'application/json' },
        }),
      // content that is not JSON in a JSON class (400)
      () =>
        avatar('PUT', '/v1/artifacts/ai_avatar/avatar_config/not-json.json', {
          body: '{not json',
          headers: { 'content-type': 'application/json' },
        }),
    ];
    for (let round = 0; round < 3; round++) {
      for (const attempt of failing) expect((await attempt()).status).toBeGreaterThanOrEqual(400);
    }
    expect((await scaleStatus()).concurrent_writes.current).toBe(0);
    const written = await Promise.all([0, 1, 2].map((i) => putSmall(`after-failures-${i}`)));
    expect(written.map((a) => a.status)).toEqual([201, 201, 201]);
    await setLimits({ concurrentWrites: 100 });
  });

  it('reports rates and concurrency in scale-status and scale-limits, to product keys too', async () => {
    for (let i = 0; i < 5; i++) expect((await putSmall(`status/w-${i}`)).status).toBe(201);
    const asProduct = await avatar('GET', '/v1/metrics/scale-status');
    expect(asProduct.status).toBe(200);
    const names = asProduct.json.limits.map((item: any) => item.name);
    expect(names).toEqual(
      expect.arrayContaining(['writes_per_second', 'reads_per_second', 'concurrent_writes']),
    );
    for (const item of asProduct.json.limits) {
      expect(Object.keys(item).sort()).toEqual(['current', 'limit', 'name', 'ratio', 'status']);
      expect(['GREEN', 'YELLOW', 'ORANGE', 'RED']).toContain(item.status);
    }
    const writes = asProduct.json.limits.find((item: any) => item.name === 'writes_per_second');
    expect(writes.limit).toBe(1000);
    expect(writes.status).toBe('GREEN');
    // Each limit of SPEC §7: the Bucket's for every reader, a product key's own product's only.
    expect(names).toEqual(
      expect.arrayContaining([
        'storage_capacity',
        'artifacts',
        'quota:ai_avatar',
        'artifacts:ai_avatar',
      ]),
    );
    expect(names).not.toContain('quota:gurukul');
    const usage = (await owner('GET', '/governance/gate/scale-limits')).json.usage;
    const byOwner = await scaleStatus();
    expect(byOwner['quota:ai_avatar']).toMatchObject({
      limit: defaults.products.ai_avatar.quotaBytes,
      current: usage.products.ai_avatar.bytes,
    });
    expect(byOwner['artifacts:ai_avatar'].current).toBe(usage.products.ai_avatar.artifacts);
    expect(byOwner['artifacts:ai_avatar'].current).toBeGreaterThanOrEqual(5);
    expect(byOwner['artifacts:gurukul']).toMatchObject({ current: 0, status: 'GREEN' });
    expect(byOwner['storage_capacity']).toMatchObject({
      limit: defaults.limits.storageCapacityBytes,
      current: usage.bytes,
    });
    expect(byOwner['artifacts']).toMatchObject({
      limit: defaults.limits.maxArtifacts,
      current: usage.artifacts,
    });
    const limits = await owner('GET', '/governance/gate/scale-limits');
    expect(limits.status).toBe(200);
    expect(limits.json.usage).toMatchObject({
      concurrentWrites: 0,
      writesPerSecond: expect.any(Number),
      readsPerSecond: expect.any(Number),
    });
    expect((await client(server.url)('GET', '/v1/metrics/scale-status')).status).toBe(401);
  });
});
