/**
 * Certification checks that read stored state (SPEC §9), on either backend: a version row
 * rewritten, renumbered, given an unknown creator or no retention, the audit tree's stored nodes
 * changed, an exception left running past its time box, a route bound to no gate — each fails
 * exactly its own check; put back, the Bucket is certified again. A product key sees the evidence
 * that would name artifacts as counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certify, failing, scrubToEnd } from '../helpers/certification.js';
import { liveSql } from '../helpers/live-sql.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

const PATH = '/v1/artifacts/ai_avatar/avatar_config/cert/b.json';
const WHERE = "WHERE product = 'ai_avatar' AND name = 'cert/b.json'";

describe('stored state tampered after the last scrub', () => {
  let server: InProcessTestServer;
  let clock = Date.parse('2027-03-01T10:00:00.000Z');
  let keyId = '';
  let productKey = '';
  let sha256 = '';

  beforeAll(async () => {
    server = await startTestServer({
      bucket: {
        scrubThrottle: { share: 1, bytesPerSecond: 0 },
        now: () => clock,
        // The exceptions' reverter as good as off: R1 must see an exception outlive its time box.
        exceptionPollMs: 3_600_000,
      },
    });
    const created = await createKey(server, { kind: 'product', product: 'ai_avatar' });
    keyId = created.id;
    productKey = created.key;
    const api = client(server.url, created.key);
    const first = await api('PUT', '/v1/artifacts/ai_avatar/avatar_config/cert/a.json', {
      body: { look: 'calm' },
    });
    expect(first.status).toBe(201);
    expect(await scrubToEnd(server)).toBe('passed');
    expect((await api('PUT', PATH, { body: { look: 'one' } })).status).toBe(201);
    const second = await api('PUT', PATH, { body: { look: 'two' } });
    expect(second.status).toBe(200);
    sha256 = second.json.sha256 as string;
  });

  afterAll(async () => {
    await server?.dispose();
  });

  it('is certified before anything is tampered with', async () => {
    expect(failing(await certify(server))).toEqual([]);
  });

  it('G1 fails when a stored version row is rewritten', async () => {
    await liveSql(server, `UPDATE versions SET sha256 = ? ${WHERE} AND version = 2`, [
      'f'.repeat(64),
    ]);
    const answer = await certify(server);
    expect(failing(answer)).toEqual(['G1']);
    expect(answer.checks[0]?.evidence.rewritten).toEqual([
      'ai_avatar/avatar_config/cert/b.json v2',
    ]);
    // Products are isolated: a product key sees how many, not which artifacts.
    const scoped = await certify(server, productKey);
    expect(scoped.checks[0]?.evidence.rewritten).toBe(1);
    await liveSql(server, `UPDATE versions SET sha256 = ? ${WHERE} AND version = 2`, [sha256]);
    expect(failing(await certify(server))).toEqual([]);
  });

  it('G3 fails when a version goes missing from the history', async () => {
    await liveSql(server, `UPDATE versions SET version = 7 ${WHERE} AND version = 1`);
    expect(failing(await certify(server))).toEqual(['G3']);
    await liveSql(server, `UPDATE versions SET version = 1 ${WHERE} AND version = 7`);
    expect(failing(await certify(server))).toEqual([]);
  });

  it('G4 fails when a version names a creator that was never a key', async () => {
    await liveSql(server, `UPDATE versions SET created_by = ? ${WHERE} AND version = 2`, [
      'key_never_existed',
    ]);
    const answer = await certify(server);
    expect(failing(answer)).toEqual(['G4']);
    await liveSql(server, `UPDATE versions SET created_by = ? ${WHERE} AND version = 2`, [keyId]);
    expect(failing(await certify(server))).toEqual([]);
  });

  it('G7 fails when a version has no recorded retention', async () => {
    await liveSql(server, `UPDATE versions SET retention_mode = ? ${WHERE} AND version = 2`, [
      'unrecorded',
    ]);
    expect(failing(await certify(server))).toEqual(['G7']);
    await liveSql(server, `UPDATE versions SET retention_mode = ? ${WHERE} AND version = 2`, [
      'compliance',
    ]);
    expect(failing(await certify(server))).toEqual([]);
  });

  it('R2 fails when a route answers without the gate', async () => {
    server.bucket.certification.invalidate();
    const sideDoor = {
      method: 'GET',
      url: '/v1/side-door',
      binding: 'public',
      action: null,
    } as const;
    const answer = await server.bucket.certification.certify([
      ...server.app.gateBindings,
      sideDoor,
    ]);
    expect(answer.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['R2']);
    expect(answer.checks.find((c) => c.id === 'R2')?.evidence['notBound']).toEqual([
      'GET /v1/side-door',
    ]);
  });

  it('L4 fails when a batch endpoint reads past limits.maxBatch', async () => {
    server.bucket.certification.invalidate();
    const batch = server.app.gateBindings.find((route) => route.action === 'artifact.batch');
    expect(batch?.batchItems).toBeDefined();
    // The same endpoint with its count check gone: every line an item, however many.
    const unbounded = {
      ...batch!,
      url: '/v1/batch-unbounded',
      batchItems: (body: Buffer) =>
        body
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map(() => new Error('not read')),
    };
    const answer = await server.bucket.certification.certify([
      ...server.app.gateBindings,
      unbounded,
    ]);
    expect(answer.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['L4']);
    expect(answer.checks.find((c) => c.id === 'L4')?.evidence['notEnforced']).toEqual([
      'POST /v1/batch-unbounded',
    ]);
  });

  it('R1 fails while an approved exception outlives its time box', async () => {
    const owner = client(server.url, server.ownerKey);
    const asked = await owner('POST', '/v1/governance/exceptions', {
      body: {
        title: 'launch',
        justification: 'a campaign needs room',
        patch: [{ op: 'replace', path: '/products/ai_avatar/quotaBytes', value: 333_333_333 }],
        durationMinutes: 1,
      },
    });
    expect(asked.status).toBe(201);
    const approval = await owner('POST', `/v1/governance/exceptions/${asked.json.id}/approve`, {
      body: { reason: 'ok' },
    });
    expect(approval.status).toBe(200);
    expect(failing(await certify(server))).toEqual([]);
    clock += 2 * 60_000;
    expect(failing(await certify(server))).toEqual(['R1']);
    await server.bucket.exceptions.expireDue();
    expect(failing(await certify(server))).toEqual([]);
  });

  it('G2 fails when an audit entry written since the last scrub is changed', async () => {
    // An entry the latest checkpoint covers.
    const { size } = await server.bucket.audit.checkpoint();
    const stored = await server.bucket.metadata.auditEntry(size - 1);
    if (!stored) throw new Error('no entry');
    const changed = Buffer.from(
      stored.canonical.toString('utf8').replace('"allow":true', '"allow":false'),
    );
    expect(changed.equals(stored.canonical)).toBe(false);
    await liveSql(server, 'UPDATE audit_entries SET canonical = ? WHERE idx = ?', [
      changed,
      size - 1,
    ]);
    const answer = await certify(server);
    expect(failing(answer)).toEqual(['G2']);
    expect(answer.checks.find((c) => c.id === 'G2')?.evidence.tailSinceScrub.verified).toBe(false);
    await liveSql(server, 'UPDATE audit_entries SET canonical = ? WHERE idx = ?', [
      stored.canonical,
      size - 1,
    ]);
    expect(failing(await certify(server))).toEqual([]);
  });

  it('G2 fails when the audit tree no longer folds to the root the scrub verified', async () => {
    await liveSql(server, 'UPDATE audit_nodes SET hash = ? WHERE idx = 0', [Buffer.alloc(32, 7)]);
    const answer = await certify(server);
    expect(failing(answer)).toEqual(['G2']);
    expect(answer.checks.find((c) => c.id === 'G2')?.evidence.logExtendsScrubCheckpoint).toBe(
      false,
    );
  });
});
