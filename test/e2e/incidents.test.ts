/**
 * Incidents (SPEC §9): opened by the Bucket (an integrity incident switches it to read_only in the
 * same transaction; 10 fail-closed decisions in 60 s open a gate_failure one), listed by owner,
 * executor and auditor, resolved by the owner only — and the owner's off-switch (with the mode and
 * incident reads) decided by the fixed stage, so it works with a failing gate or a broken policy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../src/domain/policy.js';
import { policyHash } from '../../src/domain/canonical.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

const PATH = '/v1/artifacts/ai_avatar/avatar_config/incidents/a.json';

describe('incidents', () => {
  let server: InProcessTestServer;
  let productKey: string;

  beforeAll(async () => {
    server = await startTestServer();
    productKey = (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key;
    expect((await client(server.url, productKey)('PUT', PATH, { body: { a: 1 } })).status).toBe(
      201,
    );
  });
  afterAll(async () => server?.dispose());

  it('an integrity incident switches to read_only, audited and announced, until the owner says', async () => {
    const api = client(server.url, server.ownerKey);
    const since = Number((await api('GET', '/v1/events?limit=1000')).json.nextCursor);
    const opened = await server.bucket.incidents.open('integrity', {
      product: 'ai_avatar',
      sha256: 'ab'.repeat(32),
    });
    expect(opened).toMatchObject({ kind: 'integrity', status: 'open' });

    const mode = (await api('GET', '/v1/governance/mode')).json;
    expect(mode).toMatchObject({ mode: 'read_only', by: 'system', incidentId: opened.id });
    const write = await client(server.url, productKey)('PUT', PATH, { body: { a: 2 } });
    expect(write.status).toBe(503);
    expect(write.json.error.code).toBe('bucket_read_only');
    expect((await client(server.url, productKey)('GET', PATH)).status).toBe(200);

    const listed = (await api('GET', '/v1/governance/incidents?status=open')).json.incidents;
    expect(listed).toEqual([
      {
        id: opened.id,
        kind: 'integrity',
        status: 'open',
        detectedAt: opened.detectedAt,
        evidence: { product: 'ai_avatar', sha256: 'ab'.repeat(32) },
        resolvedAt: null,
        resolvedBy: null,
        resolution: null,
      },
    ]);
    const events = (await api('GET', `/v1/events?since=${since}`)).json.events;
    expect(events.map((event: { type: string }) => event.type)).toEqual([
      'bucket.incident.opened',
      'bucket.mode.changed',
    ]);
    const entry = (await api('GET', `/v1/audit/entries/${events[0].auditindex}`)).json;
    expect(entry.entry ?? entry).toMatchObject({
      operation: 'incidents.open',
      principal: { id: 'system' },
      incident: { id: opened.id, kind: 'integrity', status: 'open' },
      mode: { mode: 'read_only', previous: 'normal', incidentId: opened.id },
    });

    // Executors and auditors read incidents; product keys do not.
    for (const kind of ['executor', 'auditor'] as const) {
      const { key } = await createKey(server, { kind });
      expect((await client(server.url, key)('GET', '/v1/governance/incidents')).status).toBe(200);
      const resolve = await client(server.url, key)(
        'POST',
        `/v1/governance/incidents/${opened.id}/resolve`,
        { body: { resolution: 'not mine' } },
      );
      expect(resolve.status).toBe(403);
    }
    expect((await client(server.url, productKey)('GET', '/v1/governance/incidents')).status).toBe(
      403,
    );

    // Resolving it leaves the Bucket read_only: only the owner's explicit switch returns it.
    const resolved = await api('POST', `/v1/governance/incidents/${opened.id}/resolve`, {
      body: { resolution: 'blob restored from backup' },
    });
    expect(resolved.status).toBe(200);
    expect(resolved.json).toMatchObject({
      status: 'resolved',
      resolution: 'blob restored from backup',
      resolvedBy: expect.any(String),
      resolvedAt: expect.any(String),
    });
    expect((await api('GET', '/v1/governance/mode')).json.mode).toBe('read_only');
    const again = await api('POST', `/v1/governance/incidents/${opened.id}/resolve`, {
      body: { resolution: 'twice' },
    });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('incident_resolved');
    const unknown = await api('POST', '/v1/governance/incidents/inc_nope/resolve', {
      body: { resolution: 'x' },
    });
    expect(unknown.status).toBe(404);
    const types = (await api('GET', `/v1/events?since=${since}&type=bucket.incident`)).json.events;
    expect(types.map((event: { type: string }) => event.type)).toEqual([
      'bucket.incident.opened',
      'bucket.incident.resolved',
    ]);

    await api('POST', '/v1/governance/mode', { body: { mode: 'normal', reason: 'checked' } });
    expect((await client(server.url, productKey)('PUT', PATH, { body: { a: 2 } })).status).toBe(
      200,
    );
    expect((await api('GET', '/v1/governance/incidents?status=open')).json.incidents).toEqual([]);
  });

  it('an incident never relaxes the mode: halted stays halted', async () => {
    const api = client(server.url, server.ownerKey);
    await api('POST', '/v1/governance/mode', { body: { mode: 'halted', reason: 'maintenance' } });
    const opened = await server.bucket.incidents.open('drift', { table: 'versions' });
    expect((await api('GET', '/v1/governance/mode')).json).toMatchObject({
      mode: 'halted',
      reason: 'maintenance',
    });
    await api('POST', `/v1/governance/incidents/${opened.id}/resolve`, {
      body: { resolution: 'ok' },
    });
    await api('POST', '/v1/governance/mode', { body: { mode: 'normal', reason: 'done' } });
  });
  it('opens one incident when two checks find the same failure at once', async () => {
    const api = client(server.url, server.ownerKey);
    const [first, second] = await Promise.all([
      server.bucket.incidents.openUnlessOpen('drift', { table: 'versions' }),
      server.bucket.incidents.openUnlessOpen('drift', { table: 'versions' }),
    ]);
    const opened = [first, second].filter((incident) => incident !== null);
    expect(opened).toHaveLength(1);
    const open = (await api('GET', '/v1/governance/incidents?status=open')).json.incidents;
    expect(open.map((incident: { id: string }) => incident.id)).toEqual([opened[0]?.id]);
    await api('POST', `/v1/governance/incidents/${opened[0]?.id}/resolve`, {
      body: { resolution: 'ok' },
    });
    await api('POST', '/v1/governance/mode', { body: { mode: 'normal', reason: 'done' } });
  });
});

describe('the fixed stage', () => {
  let server: InProcessTestServer;

  afterAll(async () => server?.dispose());

  it('switches the mode and resolves incidents while the gate fails closed; 10 failures open an incident', async () => {
    server = await startTestServer({
      env: { BUCKET_TEST_GATE_FAULT: 'identity', NODE_ENV: 'test' },
    });
    const api = client(server.url, server.ownerKey);
    const health = client(server.url);
    expect((await health('GET', '/health')).json.governance.gate).toBe('active');
    for (let n = 0; n < 10; n++) {
      const refused = await api('GET', '/v1/keys');
      expect(refused.status).toBe(503);
      expect(refused.json.error.code).toBe('gate_unavailable');
    }
    await server.bucket.gateHealth.settled();
    const reading = (await health('GET', '/health')).json;
    expect(reading).toMatchObject({ status: 'degraded', governance: { gate: 'degraded' } });

    // The off-switch and the incident routes still answer.
    const incidents = (await api('GET', '/v1/governance/incidents?status=open')).json.incidents;
    expect(incidents).toEqual([
      expect.objectContaining({
        kind: 'gate_failure',
        evidence: expect.objectContaining({ failClosed: 10, windowSeconds: 60 }),
      }),
    ]);
    const halted = await api('POST', '/v1/governance/mode', {
      body: { mode: 'halted', reason: 'the gate is failing' },
    });
    expect(halted.status).toBe(200);
    expect(halted.json.mode).toBe('halted');
    // More failures while one is open open no second incident.
    for (let n = 0; n < 10; n++) await api('GET', '/v1/keys');
    await server.bucket.gateHealth.settled();
    expect((await api('GET', '/v1/governance/incidents')).json.incidents).toHaveLength(1);
    const resolved = await api('POST', `/v1/governance/incidents/${incidents[0].id}/resolve`, {
      body: { resolution: 'restarted without the fault' },
    });
    expect(resolved.status).toBe(200);
    // A non-owner key is still refused by the fixed stage.
    const { key } = await createKeyDirect(server);
    const refused = await client(server.url, key)('POST', '/v1/governance/mode', {
      body: { mode: 'normal', reason: 'x' },
    });
    expect(refused.status).toBe(403);
  });

  it('switches the mode with a broken policy (a row edited by hand) that breaks the artifact routes', async () => {
    await server?.dispose();
    server = await startTestServer();
    const api = client(server.url, server.ownerKey);
    const broken = { products: null, classes: null } as unknown as PolicyDocument;
    await server.bucket.metadata.insertPolicy({
      version: 2,
      hash: policyHash(broken),
      document: broken,
      reason: 'edited in the database',
      createdAt: new Date().toISOString(),
      createdBy: 'nobody',
    });
    await server.bucket.policies.reload();
    // Everything that needs the policy fails closed, in the envelope, never a 500.
    for (const [method, path] of [
      ['GET', '/v1/artifacts/ai_avatar/avatar_config/a.json'],
      ['PUT', '/v1/artifacts/ai_avatar/avatar_config/b.json'],
      ['GET', '/v1/artifacts/ai_avatar?limit=5'],
      ['GET', '/v1/governance/policy'],
      ['GET', '/governance/gate/status'],
    ] as const) {
      const refused = await api(method, path, method === 'PUT' ? { body: { a: 1 } } : {});
      expect(refused.status, `${method} ${path}`).toBe(503);
      expect(refused.json.error.code).toBe('gate_unavailable');
      expect(refused.json.error.message).toContain('policy version 2 is unusable');
    }
    const health = await api('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.json.governance).toMatchObject({ gate: 'degraded', policyVersion: 2 });
    // The gate's refusals are fail-closed decisions (audit reads fail closed too, so: its health).
    expect(server.bucket.gateHealth.status('normal')).toBe('degraded');

    // A restart on the broken row starts (the owner must be able to stop it) and still refuses.
    await server.stop();
    server = await startTestServer({
      dataDir: server.dataDir,
      backend: server.backend ?? undefined,
    });
    const again = client(server.url, server.ownerKey);
    const put = await again('PUT', '/v1/artifacts/ai_avatar/avatar_config/c.json', { body: {} });
    expect(put.status).toBe(503);
    expect(put.json.error.code).toBe('gate_unavailable');
    const halted = await again('POST', '/v1/governance/mode', {
      body: { mode: 'halted', reason: 'the policy is broken' },
    });
    expect(halted.status).toBe(200);
    expect((await again('GET', '/v1/governance/mode')).json.mode).toBe('halted');
  });
});

/** An executor key written straight to the store: the key API itself fails closed here. */
async function createKeyDirect(server: InProcessTestServer): Promise<{ key: string }> {
  const { createHash, randomBytes } = await import('node:crypto');
  const key = `bkt_${randomBytes(24).toString('base64url')}`;
  await server.bucket.metadata.insertKey({
    id: `key_${randomBytes(6).toString('hex')}`,
    hash: createHash('sha256').update(key).digest('hex'),
    kind: 'executor',
    product: null,
    integrationId: null,
    name: 'direct',
    createdAt: new Date().toISOString(),
    expiresAt: null,
    revokedAt: null,
  });
  return { key };
}
