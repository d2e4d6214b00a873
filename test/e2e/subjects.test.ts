/**
 * Data subjects (SPEC §8): `x-bucket-meta-subject` validated on writes and recorded in the
 * version's indexed column; subject holds matched against it (tombstones refused, purges
 * skipped); and the subject access export (DSAR, GDPR Art. 15) — every version of the subject
 * still holding content, across products, classes and versions, tombstoned and purged ones left
 * out, with the write's audit index, contents for the owner only, streamed through thousands of
 * versions. With a controllable clock (createBucket's `now`), never sleeps.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const DAY = 24 * 60 * 60 * 1000;
const JSON_HEADERS = { 'content-type': 'application/json' };
const exportPath = (subject: string) =>
  `/v1/governance/subjects/${encodeURIComponent(subject)}/export`;
const threatIds = (body: any): string[] =>
  (body?.error?.decision?.threats ?? []).map((t: { id: string }) => t.id);

function linesOf(bytes: Buffer): any[] {
  const text = bytes.toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line));
}

describe('data subjects: the subject header, subject holds, the access export', () => {
  let server: TestServer;
  let clock = Date.parse('2027-01-01T00:00:00.000Z');
  const t0 = clock;
  let owner: ReturnType<typeof client>;
  let auditor: ReturnType<typeof client>;
  let executor: ReturnType<typeof client>;
  let core: ReturnType<typeof client>;
  let gurukul: ReturnType<typeof client>;
  let avatar: ReturnType<typeof client>;

  const put = async (
    api: typeof core,
    path: string,
    body: string | Buffer,
    subject: string | null,
    contentType = 'application/json',
  ) => {
    const send = () =>
      api('PUT', path, {
        body,
        headers: {
          'content-type': contentType,
          ...(subject === null ? {} : { 'x-bucket-meta-subject': subject }),
        },
      });
    let answer = await send();
    // Thousands of writes may outrun the shipped write rate (1,000/s): wait as told, then retry.
    while (answer.status === 429) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      answer = await send();
    }
    expect([200, 201], answer.bytes.toString()).toContain(answer.status);
    return answer.json as { version: number; sha256: string; audit: { leafIndex: number } };
  };

  beforeAll(async () => {
    server = await startTestServer({ bucket: { now: () => clock } });
    owner = client(server.url, server.ownerKey);
    auditor = client(server.url, (await createKey(server, { kind: 'auditor' })).key);
    executor = client(server.url, (await createKey(server, { kind: 'executor' })).key);
    core = client(server.url, (await createKey(server, { kind: 'core' })).key);
    gurukul = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'gurukul' })).key,
    );
    avatar = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
  });
  afterAll(async () => server?.dispose());

  it('refuses a malformed subject with 400 in the error envelope, and stores nothing', async () => {
    const path = '/v1/artifacts/core/basket_config/subjects/bad.json';
    for (const subject of ['has space', 'x'.repeat(129), 'ünïcode', 'a/b', 'a,b']) {
      const refused = await core('PUT', path, {
        body: '{"n":1}',
        headers: { ...JSON_HEADERS, 'x-bucket-meta-subject': subject },
      });
      expect(refused.status, subject).toBe(400);
      expect(refused.json.error.code).toBe('invalid_metadata');
      expect(refused.json.error.message).toMatch(/x-bucket-meta-subject/);
      expect(typeof refused.json.error.requestId).toBe('string');
    }
    expect((await owner('GET', path)).status).toBe(404);
    // 128 characters of the whole alphabet are a subject; the write keeps it in its metadata too.
    const longest = `user:A-z_0.9@${'x'.repeat(115)}`;
    expect(longest).toHaveLength(128);
    await put(core, path, '{"n":2}', longest);
    const read = await owner('GET', path);
    expect(read.headers.get('x-bucket-meta-subject')).toBe(longest);
    const exported = linesOf((await owner('GET', exportPath(longest))).bytes);
    expect(exported.map((line) => line.name ?? line.summary.versions)).toEqual([
      'subjects/bad.json',
      1,
    ]);
  });

  it('refuses a malformed subject in the export path with 400', async () => {
    const refused = await owner('GET', exportPath('has space'));
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBeTruthy();
  });

  it('exports every version of the subject still holding content, across products, with its audit index', async () => {
    clock = t0;
    const subject = 'user:dsar-1';
    const basket = '/v1/artifacts/core/basket_config/dsar/basket.json';
    const v1 = await put(core, basket, '{"strategy":"sequential","n":1}', subject);
    const v2 = await put(core, basket, '{"strategy":"parallel","n":2}', subject);
    // A tombstone is left out; the version behind it still holds content (restorable): exported.
    const gone = '/v1/artifacts/core/basket_config/dsar/gone.json';
    const goneV1 = await put(core, gone, '{"n":3}', subject);
    expect((await core('DELETE', gone)).status).toBe(204);
    // Expiring data (user_progress: governance P1Y, expire) is purged by the sweep a year on.
    const progress = '/v1/artifacts/gurukul/user_progress/dsar/progress.json';
    await put(gurukul, progress, '{"lesson":4}', subject);
    const blob = randomBytes(100 * 1024 + 1);
    const checkpoint = '/v1/artifacts/ai_avatar/model_checkpoint/dsar/weights.bin';
    const weights = await put(avatar, checkpoint, blob, subject, 'application/octet-stream');
    // Other subjects and no subject: never in this export.
    await put(core, '/v1/artifacts/core/basket_config/dsar/other.json', '{"n":5}', 'user:dsar-2');
    await put(core, '/v1/artifacts/core/basket_config/dsar/none.json', '{"n":6}', null);

    clock = t0 + 400 * DAY;
    const swept = await owner('POST', '/v1/governance/retention/sweep', { body: {} });
    expect(swept.status, swept.bytes.toString()).toBe(200);
    expect(swept.json.purged.map((p: any) => p.name)).toContain('dsar/progress.json');
    const later = await put(
      gurukul,
      '/v1/artifacts/gurukul/user_progress/dsar/later.json',
      '{"lesson":5}',
      subject,
    );

    const answer = await owner('GET', exportPath(subject));
    expect(answer.status, answer.bytes.toString()).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = linesOf(answer.bytes);
    const summary = lines.pop();
    const key = (l: any) => `${l.product}/${l.class}/${l.name}@${l.version}`;
    expect(lines.map(key)).toEqual([
      'ai_avatar/model_checkpoint/dsar/weights.bin@1',
      'core/basket_config/dsar/basket.json@1',
      'core/basket_config/dsar/basket.json@2',
      'core/basket_config/dsar/gone.json@1',
      'gurukul/user_progress/dsar/later.json@1',
    ]);
    const byKey = new Map(lines.map((l) => [key(l), l]));
    expect(byKey.get('core/basket_config/dsar/basket.json@1')).toEqual({
      product: 'core',
      class: 'basket_config',
      name: 'dsar/basket.json',
      version: 1,
      sha256: v1.sha256,
      size: 31,
      contentType: 'application/json',
      createdAt: new Date(t0).toISOString(),
      retention: { mode: 'compliance', until: null },
      auditIndex: v1.audit.leafIndex,
      json: { strategy: 'sequential', n: 1 },
    });
    expect(byKey.get('core/basket_config/dsar/basket.json@2').auditIndex).toBe(v2.audit.leafIndex);
    expect(byKey.get('core/basket_config/dsar/gone.json@1').auditIndex).toBe(
      goneV1.audit.leafIndex,
    );
    expect(byKey.get('gurukul/user_progress/dsar/later.json@1').auditIndex).toBe(
      later.audit.leafIndex,
    );
    const binary = byKey.get('ai_avatar/model_checkpoint/dsar/weights.bin@1');
    expect(binary.auditIndex).toBe(weights.audit.leafIndex);
    expect(binary.json).toBeUndefined();
    expect(Buffer.from(binary.base64, 'base64').equals(blob)).toBe(true);
    expect(summary).toEqual({
      summary: {
        versions: 5,
        bytes: blob.length + 31 + 29 + 7 + 12,
        products: ['ai_avatar', 'core', 'gurukul'],
      },
    });

    // The entry the audit index names is the write of that version.
    const entry = (await owner('GET', `/v1/audit/entries/${v2.audit.leafIndex}`)).json;
    expect(JSON.stringify(entry)).toContain('dsar/basket.json');

    // The auditor gets the same lines without content; executors and product keys get none.
    const audited = linesOf((await auditor('GET', exportPath(subject))).bytes);
    expect(audited.map((l) => ('summary' in l ? 'summary' : key(l)))).toEqual([
      ...lines.map(key),
      'summary',
    ]);
    for (const line of audited) {
      expect(line.json).toBeUndefined();
      expect(line.base64).toBeUndefined();
    }
    for (const api of [executor, core, gurukul]) {
      const refused = await api('GET', exportPath(subject));
      expect(refused.status).toBe(403);
      expect(refused.json.error.code).toBeTruthy();
    }
    // Every export is a read in the audit log, with its principal.
    const reads = (await owner('GET', '/v1/audit/entries?limit=1000')).json.entries.filter(
      (e: any) => e.entry.operation === 'subjects.export' && e.entry.allow,
    );
    expect(reads.length).toBeGreaterThanOrEqual(2);

    // A policy that grants auditors one class's content: their export carries that class's
    // content and no other's, and they read that class's artifacts, no other's.
    const live = (await owner('GET', '/v1/governance/policy')).json.document;
    live.classes.user_progress.auditorContent = true;
    const granted = await owner('PUT', '/v1/governance/policy', {
      body: { document: live, reason: 'auditors review progress records' },
    });
    expect(granted.status, granted.bytes.toString()).toBe(200);
    try {
      const withGrant = linesOf((await auditor('GET', exportPath(subject))).bytes);
      for (const line of withGrant.filter((l) => !('summary' in l))) {
        const carries = line.json !== undefined || line.base64 !== undefined;
        expect(carries, key(line)).toBe(line.class === 'user_progress');
      }
      const progress = await auditor('GET', '/v1/artifacts/gurukul/user_progress/dsar/later.json');
      expect(progress.status, progress.bytes.toString()).toBe(200);
      const basket = await auditor('GET', '/v1/artifacts/core/basket_config/dsar/basket.json');
      expect(basket.status).toBe(403);
      expect(basket.json.error.decision.threats).toEqual([]);
    } finally {
      delete live.classes.user_progress.auditorContent;
      const revoked = await owner('PUT', '/v1/governance/policy', {
        body: { document: live, reason: 'grant ended' },
      });
      expect(revoked.status).toBe(200);
    }
    const afterGrant = await auditor('GET', '/v1/artifacts/gurukul/user_progress/dsar/later.json');
    expect(afterGrant.status).toBe(403);

    // An unknown subject exports only its summary.
    expect(linesOf((await owner('GET', exportPath('user:nobody'))).bytes)).toEqual([
      { summary: { versions: 0, bytes: 0, products: [] } },
    ]);
  });

  it('matches subject holds against the subject column: no tombstone, no purge', async () => {
    clock = t0;
    const subject = 'user:held-1';
    const basket = '/v1/artifacts/core/basket_config/held/basket.json';
    await put(core, basket, '{"n":1}', subject);
    const progress = '/v1/artifacts/gurukul/user_progress/held/progress.json';
    await put(gurukul, progress, '{"lesson":1}', subject);
    const placed = await owner('POST', '/v1/governance/holds', {
      body: { scope: { subject }, caseRef: 'DPA-7', reason: 'regulator inquiry' },
    });
    expect(placed.status).toBe(201);

    expect((await owner('GET', basket)).headers.get('x-bucket-legal-hold')).toBe('on');
    const refused = await core('DELETE', basket);
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('legal_hold');
    expect(threatIds(refused.json)).toContain('T3');

    clock = t0 + 400 * DAY;
    const swept = await owner('POST', '/v1/governance/retention/sweep', { body: {} });
    expect(swept.status).toBe(200);
    expect(swept.json.purged.map((p: any) => p.name)).not.toContain('held/progress.json');
    const names = linesOf((await owner('GET', exportPath(subject))).bytes)
      .filter((l) => !('summary' in l))
      .map((l) => l.name);
    expect(names).toEqual(['held/basket.json', 'held/progress.json']);
  });

  it('streams thousands of versions, page after page, in order', async () => {
    clock = t0;
    const subject = 'bulk:2000';
    const total = 2000;
    const names = 40;
    for (let start = 0; start < total; start += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => start + i).map((n) =>
          put(
            core,
            `/v1/artifacts/core/basket_config/bulk/n${String(n % names).padStart(2, '0')}.json`,
            JSON.stringify({ n }),
            subject,
          ),
        ),
      );
    }
    const answer = await owner('GET', exportPath(subject));
    expect(answer.status).toBe(200);
    const lines = linesOf(answer.bytes);
    const summary = lines.pop();
    expect(summary.summary.versions).toBe(total);
    expect(lines).toHaveLength(total);
    const keys = lines.map((l) => `${l.name}@${String(l.version).padStart(4, '0')}`);
    expect(keys).toEqual([...keys].sort());
    expect(new Set(lines.map((l) => l.json.n)).size).toBe(total);
  }, 120_000);
});
