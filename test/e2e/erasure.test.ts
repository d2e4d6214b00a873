/**
 * Erasure of a data subject (SPEC §8, GDPR Art. 17) on both backends: under a legal hold and
 * compliance retention (withheld, key kept, T3 recorded, contents still readable), then without
 * (every version erased, 410 `content_purged`, key destroyed, blobs gone); the pinned report, its
 * hash in the erasure's entry, `GET …/erasures/{id}`, one `bucket.artifact.erased` event per
 * version; the access export after erasure; `bucket audit verify` after erasures (and failing when
 * a content disappears without an entry); read_only, bad input and who may erase.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import canonicalize from 'canonicalize';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run.js';
import { whereStored } from '../helpers/raw-stores.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

const ERASURES = '/v1/governance/erasures';
const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const threatIds = (body: any): string[] =>
  (body?.error?.decision?.threats ?? []).map((t: { id: string }) => t.id);
const canonical = canonicalize as unknown as (value: unknown) => string;

describe('erasure of a data subject', () => {
  let server: InProcessTestServer;
  let owner: ReturnType<typeof client>;
  let gurukul: ReturnType<typeof client>;
  let core: ReturnType<typeof client>;
  let avatar: ReturnType<typeof client>;
  const marker = `ERASE-ME-${Date.now()}-`;
  const paths = {
    progress: '/v1/artifacts/gurukul/user_progress/erase/progress.json',
    progress2: '/v1/artifacts/gurukul/user_progress/erase/progress-2.json',
    output: '/v1/artifacts/core/agent_output/erase/output.json',
    model: '/v1/artifacts/ai_avatar/model_checkpoint/erase/model.bin',
    other: '/v1/artifacts/gurukul/user_progress/erase/other.json',
  };

  const put = async (api: typeof owner, path: string, body: string, subject: string | null) => {
    const type = path.endsWith('.bin') ? 'application/octet-stream' : 'application/json';
    const answer = await api('PUT', path, {
      body,
      headers: {
        'content-type': type,
        ...(subject === null ? {} : { 'x-bucket-meta-subject': subject }),
      },
    });
    expect([200, 201], answer.bytes.toString()).toContain(answer.status);
    return answer.json as { version: number; sha256: string };
  };
  const erase = (subject: string, reason = 'Art. 17 request #42') =>
    owner('POST', ERASURES, { body: { subject, reason } });

  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.ownerKey);
    gurukul = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'gurukul' })).key,
    );
    core = client(server.url, (await createKey(server, { kind: 'core' })).key);
    avatar = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
    // Subject A: governance-retained progress (inline), a large (blob) agent output.
    await put(gurukul, paths.progress, JSON.stringify({ step: 1, who: marker }), 'subj:A');
    await put(gurukul, paths.progress2, JSON.stringify({ step: 2, who: marker }), 'subj:A');
    await put(core, paths.output, JSON.stringify({ text: marker.repeat(5000) }), 'subj:A');
    // Not the subject's: never touched.
    await put(gurukul, paths.other, JSON.stringify({ step: 9 }), null);
    // Subject B: a compliance-retained (permanent) model, and governance-retained progress.
    await put(avatar, paths.model, marker.repeat(3000), 'subj:B');
    await put(gurukul, '/v1/artifacts/gurukul/user_progress/erase/b.json', '{"b":1}', 'subj:B');
  });
  afterAll(async () => server?.dispose());

  it('refuses bad input (400), other keys (403, T4 for product keys), and read_only (503)', async () => {
    for (const body of [{ subject: 'subj:A' }, { subject: 'has space', reason: 'r' }, {}]) {
      const refused = await owner('POST', ERASURES, { body });
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.json.error.code).toBeTypeOf('string');
    }
    const executor = client(server.url, (await createKey(server, { kind: 'executor' })).key);
    expect(
      (await executor('POST', ERASURES, { body: { subject: 'subj:A', reason: 'r' } })).status,
    ).toBe(403);
    const denied = await gurukul('POST', ERASURES, { body: { subject: 'subj:A', reason: 'r' } });
    expect(denied.status).toBe(403);
    expect(threatIds(denied.json)).toContain('T4');
    await owner('POST', '/v1/governance/mode', { body: { mode: 'read_only', reason: 'test' } });
    const readOnly = await erase('subj:A');
    expect(readOnly.status).toBe(503);
    expect(readOnly.json.error.code).toBe('bucket_read_only');
    await owner('POST', '/v1/governance/mode', { body: { mode: 'normal', reason: 'test' } });
    // Nothing was erased by any of them.
    expect((await gurukul('GET', paths.progress)).status).toBe(200);
  });

  it('withholds what a legal hold covers; keeps the key; reports it, with a T3 record', async () => {
    const hold = await owner('POST', '/v1/governance/holds', {
      body: { scope: { subject: 'subj:A' }, caseRef: 'CASE-7', reason: 'litigation' },
    });
    expect(hold.status).toBe(201);
    const answer = await erase('subj:A');
    expect(answer.status, answer.bytes.toString()).toBe(201);
    const report = answer.json;
    expect(report).toMatchObject({
      subject: 'subj:A',
      erased: [],
      keyDestroyed: false,
      keyFound: true,
    });
    expect(report.withheld).toEqual([
      {
        product: 'core',
        class: 'agent_output',
        name: 'erase/output.json',
        version: 1,
        reason: 'legal_hold',
      },
      {
        product: 'gurukul',
        class: 'user_progress',
        name: 'erase/progress-2.json',
        version: 1,
        reason: 'legal_hold',
      },
      {
        product: 'gurukul',
        class: 'user_progress',
        name: 'erase/progress.json',
        version: 1,
        reason: 'legal_hold',
      },
    ]);
    expect((await gurukul('GET', paths.progress)).status).toBe(200);
    expect((await core('GET', paths.output)).status).toBe(200);
    const threats = await owner('GET', '/v1/governance/threats');
    expect(JSON.stringify(threats.json)).toContain(report.id);
    const lifted = await owner('DELETE', `/v1/governance/holds/${hold.json.id}?reason=settled`);
    expect(lifted.status).toBe(200);
  });

  it('withholds what a product or a class hold covers, and only that', async () => {
    for (const [subject, scope, withheld, erased] of [
      ['subj:C', { product: 'gurukul' }, 'progress', 'output'],
      ['subj:D', { product: 'core', class: 'agent_output' }, 'output', 'progress'],
    ] as const) {
      const tag = subject.slice(-1);
      await put(
        gurukul,
        `/v1/artifacts/gurukul/user_progress/erase/${tag}-progress.json`,
        '{}',
        subject,
      );
      await put(core, `/v1/artifacts/core/agent_output/erase/${tag}-output.json`, '{}', subject);
      const hold = await owner('POST', '/v1/governance/holds', {
        body: { scope, caseRef: 'CASE-SCOPE', reason: 'scope' },
      });
      expect(hold.status, hold.bytes.toString()).toBe(201);
      try {
        const answer = await erase(subject);
        expect(answer.status, answer.bytes.toString()).toBe(201);
        const names = (list: { name: string }[]) => list.map((v) => v.name);
        expect(names(answer.json.withheld)).toEqual([`erase/${tag}-${withheld}.json`]);
        expect(names(answer.json.erased)).toEqual([`erase/${tag}-${erased}.json`]);
        expect(answer.json.keyDestroyed).toBe(false);
      } finally {
        const lifted = await owner('DELETE', `/v1/governance/holds/${hold.json.id}?reason=done`);
        expect(lifted.status).toBe(200);
      }
      // Nothing held any more: the rest goes, and the key with it.
      const last = await erase(subject);
      expect(last.json.erased.map((e: { name: string }) => e.name)).toEqual([
        `erase/${tag}-${withheld}.json`,
      ]);
      expect(last.json.keyDestroyed).toBe(true);
    }
  });

  it('without a hold erases every version, destroys the key, and answers 410 after', async () => {
    const output = await server.bucket.metadata.getVersion(
      { product: 'core', class: 'agent_output', name: 'erase/output.json' },
      1,
    );
    const contentId = output?.sealed?.contentId ?? '';
    const keyId = output?.sealed?.keyId ?? '';
    expect(await server.bucket.blobs.exists(contentId)).toBe(true);

    const answer = await erase('subj:A');
    expect(answer.status).toBe(201);
    const report = answer.json;
    expect(Object.keys(report).sort()).toEqual([
      'audit',
      'completedAt',
      'erased',
      'id',
      'keyDestroyed',
      'keyFound',
      'reason',
      'requestedAt',
      'subject',
      'withheld',
    ]);
    expect(report.withheld).toEqual([]);
    expect(report.keyDestroyed).toBe(true);
    expect(report.keyFound).toBe(true);

    // The report is a legal record: a subject with no live key has none destroyed, in so many
    // words — never known to the Bucket, or erased once already.
    for (const subject of ['subj:never-seen', 'subj:A']) {
      const none = await erase(subject);
      expect(none.status).toBe(201);
      expect(none.json).toMatchObject({
        subject,
        erased: [],
        withheld: [],
        keyDestroyed: false,
        keyFound: false,
      });
    }
    expect(report.erased.map((e: any) => `${e.name} v${e.version}`)).toEqual([
      'erase/output.json v1',
      'erase/progress-2.json v1',
      'erase/progress.json v1',
    ]);
    for (const [api, path] of [
      [gurukul, paths.progress],
      [gurukul, `${paths.progress2}?version=1`],
      [core, paths.output],
    ] as const) {
      const read = await api('GET', path);
      expect(read.status, path).toBe(410);
      expect(read.json.error.code).toBe('content_purged');
    }
    expect((await gurukul('GET', paths.other)).status).toBe(200);
    expect((await server.bucket.metadata.subjectKey(keyId))?.wrapped).toBeNull();
    expect(await server.bucket.blobs.exists(contentId)).toBe(false);
    const versions = await gurukul(
      'GET',
      `/v1/artifacts/gurukul/user_progress/erase/progress.json/versions`,
    );
    expect(versions.json.versions[0].purged).toMatchObject({ reason: 'erasure' });
    expect(await whereStored(server, Buffer.from(marker))).toEqual([]);

    // The report again; its hash in the erasure's entry; an event per erased version.
    const again = await owner('GET', `${ERASURES}/${report.id}`);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(report);
    const { audit, ...findings } = report;
    const entry = await owner('GET', `/v1/audit/entries/${audit.leafIndex}`);
    expect(entry.json.leafHash).toBe(audit.leafHash);
    expect(entry.json.entry.governance.erasure).toMatchObject({
      id: report.id,
      subject: 'subj:A',
      reportSha256: sha256(canonical(findings)),
      keyDestroyed: true,
    });
    const events = await owner('GET', '/v1/events?type=bucket.artifact.erased&limit=100');
    const erased = events.json.events.filter((e: any) => e.data.erasureId === report.id);
    expect(erased.map((e: any) => e.subject).sort()).toEqual([
      'core/agent_output/erase/output.json',
      'gurukul/user_progress/erase/progress-2.json',
      'gurukul/user_progress/erase/progress.json',
    ]);
    expect(JSON.stringify(erased)).not.toContain(marker);

    // Art. 15 after Art. 17: nothing of the subject is held any more.
    const dsar = await owner('GET', '/v1/governance/subjects/subj:A/export');
    expect(
      dsar.bytes
        .toString()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ summary: { versions: 0, bytes: 0, products: [] } }]);
    // The subject may come back: a new write gets a new key.
    await put(gurukul, '/v1/artifacts/gurukul/user_progress/erase/again.json', '{"n":1}', 'subj:A');
    expect(
      (await gurukul('GET', '/v1/artifacts/gurukul/user_progress/erase/again.json')).json,
    ).toEqual({ n: 1 });
  });

  it('never erases compliance-retained data: withheld, the key kept, still readable', async () => {
    const answer = await erase('subj:B');
    expect(answer.status).toBe(201);
    expect(answer.json.erased.map((e: any) => e.name)).toEqual(['erase/b.json']);
    expect(answer.json.withheld).toEqual([
      {
        product: 'ai_avatar',
        class: 'model_checkpoint',
        name: 'erase/model.bin',
        version: 1,
        reason: 'compliance_retention',
      },
    ]);
    expect(answer.json.keyDestroyed).toBe(false);
    const model = await avatar('GET', paths.model);
    expect(model.status).toBe(200);
    expect(model.bytes.toString()).toBe(marker.repeat(3000));
    const dsar = await owner('GET', '/v1/governance/subjects/subj:B/export');
    const lines = dsar.bytes
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.name ?? 'summary')).toEqual(['erase/model.bin', 'summary']);
  });

  it("names the subject in the access export's entry", async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    await owner('GET', '/v1/governance/subjects/subj:B/export');
    const entries = await owner('GET', `/v1/audit/entries?limit=100&since=${since}`);
    const found = entries.json.entries.findLast((e: any) => e.entry.governance?.subjectExport);
    expect(found?.entry.operation).toBe('subjects.export');
    expect(found?.entry.governance.subjectExport).toEqual({ subject: 'subj:B' });
  });

  it('verifies after erasures, and fails when a content disappears without an entry', async () => {
    const env = { ...server.backend?.env, BUCKET_DATA_DIR: server.dataDir };
    const clean = await runCli(['audit', 'verify'], { env });
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    // A sealed blob of the subject's kept version, removed past the Bucket.
    const model = await server.bucket.metadata.getVersion(
      { product: 'ai_avatar', class: 'model_checkpoint', name: 'erase/model.bin' },
      1,
    );
    expect(
      await server.bucket.blobs.removeIfOlder(model?.sealed?.contentId ?? '', Date.now() + 60_000),
    ).toBe(true);
    // And an erasure report rewritten past the Bucket: it no longer hashes to its entry's hash.
    await rewriteReports(server, '"subj:A"', '"subj:Z"');
    const broken = await runCli(['audit', 'verify'], { env });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('erase/model.bin v1');
    expect(broken.stderr).toContain('erasure_mismatch');
  });
});

/** Replaces `from` by `to` in every stored erasure report, in the server's database. */
async function rewriteReports(server: InProcessTestServer, from: string, to: string) {
  const url = server.backend?.env['BUCKET_DATABASE_URL'];
  if (url) {
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      await db.query('UPDATE erasures SET report = replace(report, $1, $2)', [from, to]);
    } finally {
      await db.end();
    }
    return;
  }
  const db = new Database(join(server.dataDir, 'bucket.db'));
  try {
    db.prepare('UPDATE erasures SET report = replace(report, ?, ?)').run(from, to);
  } finally {
    db.close();
  }
}
