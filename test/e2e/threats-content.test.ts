/**
 * The request and content detectors end to end (SPEC §5): each detection answers with its status
 * and its threat in error.decision.threats, and nothing is stored. Each CRITICAL case uses a key
 * of its own, so that escalation (3 CRITICAL requests suspend a key) does not interfere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const threatIds = (body: any): string[] =>
  (body?.error?.decision?.threats ?? []).map((t: { id: string }) => t.id);
const JSON_TYPE = { 'content-type': 'application/json' };

describe('threat detectors through the real server', () => {
  let server: TestServer;
  let owner: ReturnType<typeof client>;
  let counter = 0;

  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.ownerKey);
  });
  afterAll(async () => server?.dispose());

  /** A fresh product key of `product`. */
  const freshKey = async (product: string) =>
    client(server.url, (await createKey(server, { kind: 'product', product })).key);

  /** Writes `body` as a new artifact with a fresh key; returns the answer and the artifact path. */
  const write = async (
    product: string,
    classId: string,
    body: unknown,
    headers: Record<string, string> = {},
    query = '',
  ) => {
    const api = await freshKey(product);
    const path = `/v1/artifacts/${product}/${classId}/case-${++counter}`;
    const answer = await api('PUT', path + query, {
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { ...JSON_TYPE, ...headers },
    });
    return { answer, path };
  };

  /** The write was refused with `status`, carrying `threat`, and left nothing behind. */
  const expectRefused = async (
    result: Awaited<ReturnType<typeof write>>,
    status: number,
    threat: string,
  ) => {
    expect(result.answer.status, result.answer.bytes.toString()).toBe(status);
    expect(result.answer.json.error.decision.allow).toBe(false);
    expect(threatIds(result.answer.json)).toContain(threat);
    expect((await owner('GET', result.path)).status).toBe(404);
  };

  describe('T1 — access control bypass', () => {
    it('refuses credential material with 403 and stores nothing', async () => {
      const result = await write('gurukul', 'user_progress', {
        learner: 'l1',
        settings: { db_password: 'hunter2' },
      });
      await expectRefused(result, 403, 'T1');
      expect(result.answer.json.error.code).toBe('forbidden');
      const reasons = result.answer.json.error.decision.reasons.map((r: any) => r.rule);
      expect(reasons).toEqual(['credential_material']);
      // The evidence says where, never the secret.
      expect(result.answer.bytes.toString()).not.toContain('hunter2');
    });

    it('refuses AWS access key ids, PEM private keys and connection strings', async () => {
      await expectRefused(
        await write('gurukul', 'user_progress', { note: 'AKIAIOSFODNN7EXAMPLE' }),
        403,
        'T1',
      );
      await expectRefused(
        await write('core', 'agent_spec', { key: '-----BEGIN RSA PRIVATE KEY-----\nMII' }),
        403,
        'T1',
      );
      await expectRefused(
        await write('ai_assistant', 'metadata', { source: 'mongodb://admin@db:27017/prod' }),
        403,
        'T1',
      );
    });

    it('refuses a body claiming another product, not one naming its own', async () => {
      await expectRefused(
        await write('gurukul', 'user_progress', { product_id: 'ai_avatar', score: 1 }),
        403,
        'T1',
      );
      const own = await write('gurukul', 'user_progress', { product_id: 'gurukul', score: 1 });
      expect(own.answer.status).toBe(201);
    });

    it('lets a boolean passwordPolicy through', async () => {
      const result = await write('gurukul', 'user_progress', { passwordPolicy: true, score: 2 });
      expect(result.answer.status).toBe(201);
      expect((await owner('GET', result.path)).json).toEqual({ passwordPolicy: true, score: 2 });
    });
  });

  describe('T2 — schema corruption', () => {
    it('refuses server-managed members, operators and prototype keys', async () => {
      await expectRefused(await write('gurukul', 'user_progress', { _id: 'x' }), 403, 'T2');
      await expectRefused(
        await write('gurukul', 'user_progress', { filter: { $where: 'sleep(1000)' } }),
        403,
        'T2',
      );
      await expectRefused(
        await write('gurukul', 'user_progress', '{"a":{"__proto__":{"isAdmin":true}}}'),
        403,
        'T2',
      );
    });

    it('refuses metadata headers shadowing server fields before reading the body', async () => {
      const result = await write(
        'gurukul',
        'user_progress',
        { score: 1 },
        {
          'x-bucket-meta-sha256': '0'.repeat(64),
        },
      );
      await expectRefused(result, 403, 'T2');
      expect(result.answer.json.error.decision.reasons[0].rule).toBe('reserved_field');
    });

    it('answers a class schema failure with 422 carrying T2', async () => {
      const current = (await owner('GET', '/v1/governance/policy')).json.document;
      const document = structuredClone(current);
      document.classes.execution_record.schema = {
        type: 'object',
        required: ['run'],
        properties: { run: { type: 'string' } },
      };
      const changed = await owner('PUT', '/v1/governance/policy', {
        body: { document, reason: 'execution records name their run' },
      });
      expect(changed.status).toBe(200);
      const result = await write('core', 'execution_record', { step: 1 });
      await expectRefused(result, 422, 'T2');
      expect(result.answer.json.error.code).toBe('schema_violation');
      expect((await write('core', 'execution_record', { run: 'r1' })).answer.status).toBe(201);
    });
  });

  describe('T4 — governance circumvention', () => {
    it('refuses bypass parameters and headers, on writes and reads alike', async () => {
      await expectRefused(
        await write('gurukul', 'user_progress', { score: 1 }, {}, '?skip_audit=true'),
        403,
        'T4',
      );
      await expectRefused(
        await write('gurukul', 'user_progress', { score: 1 }, { 'x-governance-override': '1' }),
        403,
        'T4',
      );
      const api = await freshKey('gurukul');
      const list = await api('GET', '/v1/artifacts/gurukul?bypass=1');
      expect(list.status).toBe(403);
      expect(threatIds(list.json)).toEqual(['T4']);
      expect(list.json.error.decision.reasons[0].rule).toBe('bypass_attempt');
      // The owner asking for a bypass is refused too.
      const ownerList = await owner('GET', '/v1/artifacts/gurukul', {
        headers: { 'x-emergency-access': 'now' },
      });
      expect(ownerList.status).toBe(403);
      expect(threatIds(ownerList.json)).toEqual(['T4']);
    });

    it('refuses a claim naming several products', async () => {
      const result = await write(
        'gurukul',
        'user_progress',
        { score: 1 },
        {
          'x-bucket-meta-product': 'gurukul,ai_avatar',
        },
      );
      await expectRefused(result, 403, 'T4');
      expect(threatIds(result.answer.json)).toContain('T1');
    });
  });

  describe('T6 — legal ambiguity', () => {
    it('refuses PII in a piiFree class, and only there', async () => {
      await expectRefused(
        await write('ai_avatar', 'persona_config', { name: 'Aria', contact: 'aria@example.com' }),
        403,
        'T6',
      );
      await expectRefused(
        await write('gurukul', 'monetization_marker', { card: '4111 1111 1111 1111' }),
        403,
        'T6',
      );
      await expectRefused(
        await write('ai_avatar', 'persona_config', { support: 'call +1 555 123 4567' }),
        403,
        'T6',
      );
      const clean = await write('ai_avatar', 'persona_config', {
        name: 'Aria',
        version: '1.2.3',
        seed: '4111111111111112',
      });
      expect(clean.answer.status).toBe(201);
      const elsewhere = await write('gurukul', 'user_progress', { email: 'kid@example.com' });
      expect(elsewhere.answer.status).toBe(201);
    });

    it('refuses a retention claim shorter than the class retention', async () => {
      await expectRefused(
        await write(
          'gurukul',
          'user_progress',
          { score: 1 },
          { 'x-bucket-meta-retention': 'P30D' },
        ),
        403,
        'T6',
      );
      const longer = await write(
        'gurukul',
        'user_progress',
        { score: 1 },
        {
          'x-bucket-meta-retention': 'P2Y',
        },
      );
      expect(longer.answer.status).toBe(201);
    });
  });

  describe('T7 — over-trust', () => {
    it('records stale or future client timestamps as claims without refusing the write', async () => {
      const stale = new Date(Date.now() - 3_600_000).toISOString();
      const header = await write(
        'gurukul',
        'user_progress',
        { score: 1 },
        {
          'x-bucket-meta-timestamp': stale,
        },
      );
      expect(header.answer.status).toBe(201);
      // The Bucket's own time is what it records.
      expect(Date.now() - Date.parse(header.answer.json.createdAt)).toBeLessThan(60_000);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      const body = await write('gurukul', 'user_progress', { score: 1, created_at: future });
      expect(body.answer.status).toBe(201);
      // Recorded as claims among the detections (GET /v1/governance/threats).
      const threats = await owner('GET', '/v1/governance/threats');
      expect(threats.status).toBe(200);
      const evidence = threats.json.recent
        .filter((record: { threatId: string }) => record.threatId === 'T7')
        .map((record: { evidence: string }) => record.evidence);
      expect(evidence).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^x-bucket-meta-timestamp claims a time \d+ s old$/),
          expect.stringMatching(/^content member created_at claims a time \d+ s in the future$/),
        ]),
      );
    });

    it('still refuses a client hash that does not match with 400', async () => {
      const result = await write(
        'gurukul',
        'user_progress',
        { score: 1 },
        {
          'x-bucket-sha256': 'f'.repeat(64),
        },
      );
      await expectRefused(result, 400, 'T7');
    });
  });
});
