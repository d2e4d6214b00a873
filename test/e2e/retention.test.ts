/**
 * Retention (SPEC §8) with a controllable clock (createBucket's `now`), never sleeps: retention
 * changes (governance vs compliance), the sweep's conditions one by one, 410 for purged contents,
 * the versions listing, the 90-day restore window, and `bucket audit verify` after purges — and
 * failing when a content disappears without a purge entry. The scheduled sweep: retention-scheduled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../src/config.js';
import { blobStoreFor } from '../../src/storage/factory.js';
import { runCli } from '../cli/run.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';

const DAY = 24 * 60 * 60 * 1000;
const JSON_HEADERS = { 'content-type': 'application/json' };
const SWEEP = '/v1/governance/retention/sweep';
const threatIds = (body: any): string[] =>
  (body?.error?.decision?.threats ?? []).map((t: { id: string }) => t.id);

describe('retention: changes, the sweep, purges and the restore window', () => {
  let server: TestServer;
  let clock = Date.parse('2027-01-01T00:00:00.000Z');
  const t0 = clock;
  let owner: ReturnType<typeof client>;
  let executor: ReturnType<typeof client>;
  let core: ReturnType<typeof client>;
  let gurukul: ReturnType<typeof client>;
  let assistant: ReturnType<typeof client>;
  let avatar: ReturnType<typeof client>;

  const at = (days: number) => {
    clock = t0 + days * DAY;
  };
  const note = (name: string) => `/v1/artifacts/core/draft_note/${name}`;
  const put = async (api: typeof core, path: string, body: unknown, status = [200, 201]) => {
    const answer = await api('PUT', path, { body: JSON.stringify(body), headers: JSON_HEADERS });
    expect(status, answer.bytes.toString()).toContain(answer.status);
    return answer;
  };
  const sweep = async (dryRun: boolean, api = owner) => {
    const answer = await api('POST', SWEEP, { body: { dryRun } });
    expect(answer.status, answer.bytes.toString()).toBe(200);
    return answer.json as { purged: any[]; kept: number; dryRun: boolean };
  };
  const names = (purged: any[]) =>
    purged.map((p) => `${p.class}/${p.name}@${p.version}:${p.reason}`);
  const setRetention = (path: string, body: unknown, api = owner) =>
    api('PUT', `${path}/retention`, { body });

  beforeAll(async () => {
    server = await startTestServer({ bucket: { now: () => clock } });
    owner = client(server.url, server.ownerKey);
    // A class that allows every operation and expires after a year in governance mode, for the
    // conditions the shipped classes cannot show (superseded and tombstoned versions).
    const live = (await owner('GET', '/v1/governance/policy')).json.document;
    live.classes.draft_note = {
      content: 'json',
      operations: ['CREATE', 'READ', 'UPDATE', 'DELETE'],
      maxBytes: 1048576,
      schema: null,
      retention: { mode: 'governance', period: 'P1Y' },
    };
    live.products.core.allowedClasses.push('draft_note');
    const changed = await owner('PUT', '/v1/governance/policy', {
      body: { document: live, reason: 'a class for retention tests' },
    });
    expect(changed.status, changed.bytes.toString()).toBe(200);
    executor = client(server.url, (await createKey(server, { kind: 'executor' })).key);
    core = client(server.url, (await createKey(server, { kind: 'core' })).key);
    gurukul = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'gurukul' })).key,
    );
    assistant = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_assistant' })).key,
    );
    avatar = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
  });
  afterAll(async () => server?.dispose());

  it('records retention from the clock, and treats "retention" as a reserved last segment', async () => {
    const written = await put(core, note('clocked.json'), { a: 1 });
    expect(written.json.createdAt).toBe(new Date(t0).toISOString());
    expect(written.json.retention).toEqual({
      mode: 'governance',
      until: '2028-01-01T00:00:00.000Z',
    });
    const reserved = await core('PUT', note('x/retention'), {
      body: '{}',
      headers: JSON_HEADERS,
    });
    expect(reserved.status).toBe(403);
  });

  it('changes retention: lengthens anything, shortens governance with a reason, never compliance', async () => {
    const path = '/v1/artifacts/ai_assistant/metadata/retained.json';
    const written = await put(assistant, path, { k: 'v' });
    const until = written.json.retention.until as string;
    expect(written.json.retention.mode).toBe('compliance');

    const longer = await setRetention(path, { until: '2030-01-01T00:00:00Z', reason: 'audit' });
    expect(longer.status, longer.bytes.toString()).toBe(200);
    expect(longer.json.retention).toEqual({
      mode: 'compliance',
      until: '2030-01-01T00:00:00.000Z',
    });

    for (const shorter of [until, '2028-06-01T00:00:00Z']) {
      const refused = await setRetention(path, { until: shorter, reason: 'please' });
      expect(refused.status).toBe(403);
      expect(refused.json.error.code).toBe('compliance_retention');
      expect(threatIds(refused.json)).toContain('T3');
    }
    // Permanent (null) lengthens; after it no instant is allowed.
    expect((await setRetention(path, { until: null, reason: 'keep' })).json.retention).toEqual({
      mode: 'compliance',
      until: null,
    });
    const unpin = await setRetention(path, { until: '2099-01-01T00:00:00Z', reason: 'x' });
    expect(unpin.json.error.code).toBe('compliance_retention');
    const again = await setRetention(path, { until: null, reason: 'still' });
    expect(again.json.previous).toEqual({ mode: 'compliance', until: null });
    // A version that does not exist is not judged by the head's retention: 404, no threat.
    const missing = await setRetention(path, {
      version: 99,
      until: '2027-01-01T00:00:00Z',
      reason: 'typo',
    });
    expect(missing.status, missing.bytes.toString()).toBe(404);
    expect(missing.json.error.code).toBe('version_not_found');
    expect(threatIds(missing.json)).not.toContain('T3');

    const governed = note('governed.json');
    await put(core, governed, { g: 1 });
    const shortened = await setRetention(governed, {
      until: '2027-02-01T00:00:00Z',
      reason: 'legal approved early deletion',
    });
    expect(shortened.status).toBe(200);
    expect(shortened.json.retention).toEqual({
      mode: 'governance',
      until: '2027-02-01T00:00:00.000Z',
    });
    const entries = (await owner('GET', '/v1/audit/entries?limit=1000')).json.entries;
    const change = entries
      .map((e: any) => e.entry)
      .find((e: any) => e.operation === 'artifact.retention' && e.target.name === 'governed.json');
    expect(change.governance.retention).toMatchObject({
      version: 1,
      shortened: true,
      reason: 'legal approved early deletion',
      to: { mode: 'governance', until: '2027-02-01T00:00:00.000Z' },
    });
  });

  it('refuses bad retention changes with 4xx and changes nothing', async () => {
    const path = note('bad-input.json');
    await put(core, path, { b: 1 });
    for (const body of [
      { until: '2030-01-01T00:00:00Z' },
      { until: '2030-01-01T00:00:00Z', reason: '' },
      { reason: 'no until' },
      { until: 'tomorrow', reason: 'r' },
      { until: '2030-01-01T00:00:00Z', reason: 'r', version: 0 },
      { until: '2030-01-01T00:00:00Z', reason: 'r', extra: true },
      [],
    ]) {
      const answer = await setRetention(path, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
    }
    const missing = await setRetention(path, { until: null, reason: 'r', version: 9 });
    expect(missing.status).toBe(404);
    const product = await setRetention(path, { until: null, reason: 'r' }, core);
    expect(product.status).toBe(403);
    expect(threatIds(product.json)).toContain('T4');
    const unchanged = await setRetention(path, { until: '2028-01-01T00:00:00Z', reason: 'same' });
    expect(unchanged.json.previous).toEqual({
      mode: 'governance',
      until: '2028-01-01T00:00:00.000Z',
    });
  });

  it('sweeps only what SPEC §8 allows, condition by condition', async () => {
    at(0);
    await put(core, note('superseded.json'), { v: 1 });
    await put(core, note('superseded.json'), { v: 2 });
    await put(core, note('tombstoned-long.json'), { v: 1 });
    expect((await core('DELETE', note('tombstoned-long.json'))).status).toBe(204);
    await put(core, note('current.json'), { v: 1 });
    await put(gurukul, '/v1/artifacts/gurukul/user_progress/expiring.json', { p: 1 });
    await put(avatar, '/v1/artifacts/ai_avatar/avatar_config/forever.json', { a: 1 });
    await put(core, note('held/one.json'), { v: 1 });
    await put(core, note('held/one.json'), { v: 2 });
    at(300);
    await put(core, note('tombstoned-recent.json'), { v: 1 });
    expect(
      (
        await setRetention(note('tombstoned-recent.json'), {
          until: new Date(t0 + 301 * DAY).toISOString(),
          reason: 'r',
        })
      ).status,
    ).toBe(200);
    expect((await core('DELETE', note('tombstoned-recent.json'))).status).toBe(204);
    const hold = await owner('POST', '/v1/governance/holds', {
      body: { scope: { product: 'core', prefix: 'held/' }, caseRef: 'CASE-9', reason: 'r' },
    });
    expect(hold.status).toBe(201);

    at(200);
    expect((await sweep(false)).purged).toEqual([]);

    at(367);
    const preview = await sweep(true);
    expect(preview.dryRun).toBe(true);
    const expected = [
      'draft_note/superseded.json@1:superseded',
      'draft_note/tombstoned-long.json@1:tombstone_expired',
      'user_progress/expiring.json@1:retention_expired',
    ];
    expect(
      names(preview.purged)
        .filter((n) => expected.includes(n))
        .sort(),
    ).toEqual(expected);
    // Kept: the current version without expire, the held one, the recently tombstoned one.
    for (const kept of ['current.json@1', 'held/one.json@1', 'tombstoned-recent.json@1']) {
      expect(names(preview.purged).some((n) => n.includes(kept))).toBe(false);
    }
    expect(preview.kept).toBeGreaterThanOrEqual(4);
    // A dry run changes nothing.
    expect((await core('GET', `${note('superseded.json')}?version=1`)).status).toBe(200);

    const events = (await owner('GET', '/v1/events?type=bucket.artifact.purged')).json.events;
    const swept = await sweep(false, executor);
    expect(
      names(swept.purged)
        .filter((n) => expected.includes(n))
        .sort(),
    ).toEqual(expected);
    expect((await sweep(false)).purged).toEqual([]);

    const gone = await core('GET', `${note('superseded.json')}?version=1`);
    expect(gone.status).toBe(410);
    expect(gone.json.error.code).toBe('content_purged');
    expect((await core('HEAD', `${note('superseded.json')}?version=1`)).status).toBe(410);
    expect((await core('GET', note('superseded.json'))).status).toBe(200);
    expect((await gurukul('GET', '/v1/artifacts/gurukul/user_progress/expiring.json')).status).toBe(
      410,
    );
    expect((await core('GET', `${note('held/one.json')}?version=1`)).status).toBe(200);
    expect((await avatar('GET', '/v1/artifacts/ai_avatar/avatar_config/forever.json')).status).toBe(
      200,
    );

    const versions = (await owner('GET', `${note('superseded.json')}/versions`)).json.versions;
    expect(versions[0].purged).toEqual({
      at: new Date(t0 + 367 * DAY).toISOString(),
      reason: 'superseded',
      auditIndex: expect.any(Number),
    });
    expect(versions[1].purged).toBeUndefined();
    const entry = (await owner('GET', `/v1/audit/entries/${versions[0].purged.auditIndex}`)).json;
    expect(entry.entry).toMatchObject({
      allow: true,
      operation: 'PURGE',
      target: { product: 'core', class: 'draft_note', name: 'superseded.json' },
      purge: { version: 1, reason: 'superseded', sha256: versions[0].sha256 },
    });
    const purgedEvents = (await owner('GET', '/v1/events?type=bucket.artifact.purged')).json.events;
    expect(purgedEvents.length - events.length).toBe(3);
    expect(purgedEvents.map((e: any) => e.auditindex)).toContain(versions[0].purged.auditIndex);

    // Lifting the hold lets the next sweep purge the superseded held version.
    expect(
      (await owner('DELETE', `/v1/governance/holds/${hold.json.id}?reason=closed`)).status,
    ).toBe(200);
    expect(names((await sweep(false)).purged)).toEqual(['draft_note/held/one.json@1:superseded']);
  });

  it('keeps from the sweep what a product or a class hold covers, and permanent versions always', async () => {
    at(1000);
    await put(core, note('product-held.json'), { v: 1 });
    await put(core, note('product-held.json'), { v: 2 });
    await put(gurukul, '/v1/artifacts/gurukul/user_progress/class-held.json', { p: 1 });
    await put(avatar, '/v1/artifacts/ai_avatar/avatar_config/superseded-forever.json', { a: 1 });
    await put(avatar, '/v1/artifacts/ai_avatar/avatar_config/superseded-forever.json', { a: 2 });
    const holds = [];
    for (const scope of [{ product: 'core' }, { product: 'gurukul', class: 'user_progress' }]) {
      const placed = await owner('POST', '/v1/governance/holds', {
        body: { scope, caseRef: 'CASE-SCOPES', reason: 'scopes' },
      });
      expect(placed.status, placed.bytes.toString()).toBe(201);
      holds.push(placed.json.id as string);
    }
    // Years later: the superseded draft and the expired progress record are due, but held; the
    // superseded avatar_config is permanent (compliance, no end) and never due.
    at(1000 + 3 * 366);
    const kept = names((await sweep(false)).purged);
    for (const name of [
      'draft_note/product-held.json@1',
      'user_progress/class-held.json@1',
      'avatar_config/superseded-forever.json@1',
    ]) {
      expect(
        kept.some((n) => n.startsWith(name)),
        name,
      ).toBe(false);
    }
    for (const id of holds) {
      expect((await owner('DELETE', `/v1/governance/holds/${id}?reason=closed`)).status).toBe(200);
    }
    const freed = names((await sweep(false)).purged);
    expect(freed).toEqual(
      expect.arrayContaining([
        'draft_note/product-held.json@1:superseded',
        'user_progress/class-held.json@1:retention_expired',
      ]),
    );
    expect(freed.some((n) => n.startsWith('avatar_config/superseded-forever.json'))).toBe(false);
    const forever = '/v1/artifacts/ai_avatar/avatar_config/superseded-forever.json?version=1';
    expect((await avatar('GET', forever)).status).toBe(200);
  });

  it('purges a version whose governance retention was shortened into the past', async () => {
    at(400);
    const path = '/v1/artifacts/gurukul/user_progress/shortened.json';
    await put(gurukul, path, { s: 1 });
    const mine = (purged: any[]) => names(purged).filter((n) => n.includes('shortened.json'));
    expect(mine((await sweep(false)).purged)).toEqual([]);
    const past = new Date(t0 + 399 * DAY).toISOString();
    expect((await setRetention(path, { until: past, reason: 'subject asked' })).status).toBe(200);
    expect(mine((await sweep(false)).purged)).toEqual([
      'user_progress/shortened.json@1:retention_expired',
    ]);
  });

  it('restores within 90 days and answers 409 restore_window_closed after', async () => {
    at(500);
    await put(core, note('restorable.json'), { r: 1 });
    expect((await core('DELETE', note('restorable.json'))).status).toBe(204);
    at(589);
    const restored = await core('POST', `${note('restorable.json')}/restore`);
    expect(restored.status, restored.bytes.toString()).toBe(200);
    expect((await core('DELETE', note('restorable.json'))).status).toBe(204);
    at(589 + 91);
    const late = await core('POST', `${note('restorable.json')}/restore`);
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe('restore_window_closed');
  });

  it('lets only owner and executor sweep; product keys are T4', async () => {
    const auditor = client(server.url, (await createKey(server, { kind: 'auditor' })).key);
    expect((await auditor('POST', SWEEP, { body: { dryRun: true } })).status).toBe(403);
    const denied = await core('POST', SWEEP, { body: { dryRun: true } });
    expect(denied.status).toBe(403);
    expect(threatIds(denied.json)).toContain('T4');
  });

  it('verifies after purges, and fails when a content disappears without a purge entry', async () => {
    const env = { ...server.backend?.env, BUCKET_DATA_DIR: server.dataDir };
    const clean = await runCli(['audit', 'verify'], { env });
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);

    // A blob-stored version (over the inline threshold) whose file then vanishes, no purge.
    at(700);
    const big = { text: 'x'.repeat(70 * 1024) };
    const written = await put(core, note('vanishing.json'), big);
    const blobs = await blobStoreFor(configFromEnv({ ...process.env, ...env }));
    try {
      expect(await blobs.removeIfOlder(written.json.sha256, Date.now() + 60_000)).toBe(true);
    } finally {
      await blobs.close();
    }
    const broken = await runCli(['audit', 'verify'], { env });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('vanishing.json v1');
  });
});
