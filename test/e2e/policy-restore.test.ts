/**
 * The owner's restore of a stored policy version (decision 0050): the repair of a live version
 * that is unusable (a row edited by hand, which fails closed everywhere else — decision 0040).
 * Decided by the fixed owner-only rule, refused while halted; the version restored must itself
 * be usable; the restore is a new version, audited with the version it restored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyHash } from '../../src/domain/canonical.js';
import type { PolicyDocument } from '../../src/domain/policy.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';

const WRITE = '/v1/artifacts/ai_avatar/avatar_config/restore/look.json';

describe('restoring a policy version', () => {
  let server: InProcessTestServer;
  let owner: ReturnType<typeof client>;
  let product: ReturnType<typeof client>;
  let good: { version: number; document: PolicyDocument };

  beforeAll(async () => {
    server = await startTestServer();
    owner = client(server.url, server.ownerKey);
    product = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
    const live = (await owner('GET', '/v1/governance/policy')).json;
    const document = {
      ...live.document,
      limits: { ...live.document.limits, maxBatch: live.document.limits.maxBatch - 1 },
    };
    const put = await owner('PUT', '/v1/governance/policy', {
      body: { document, reason: 'tighten' },
    });
    expect(put.json).toMatchObject({ version: 2, changed: true });
    good = { version: 2, document };
    // Version 3: a row written by hand that no longer validates.
    const broken = { products: null, classes: null } as unknown as PolicyDocument;
    await server.bucket.metadata.insertPolicy({
      version: 3,
      hash: policyHash(broken),
      document: broken,
      reason: 'edited in the database',
      createdAt: new Date().toISOString(),
      createdBy: 'nobody',
    });
    await server.bucket.policies.reload();
  });
  afterAll(async () => server?.dispose());

  it('is refused to every key but the owner, by the fixed rule', async () => {
    expect((await product('PUT', WRITE, { body: { look: 'calm' } })).json.error.code).toBe(
      'gate_unavailable',
    );
    const refused = await product('POST', '/v1/governance/policy/restore', {
      body: { version: 2, reason: 'mine' },
    });
    expect(refused.status).toBe(403);
    expect(refused.json.error.decision.reasons[0].rule).toBe('action_access');
  });

  it('refuses an unknown version, an unusable one, and bad input, changing nothing', async () => {
    const restore = (body: unknown) => owner('POST', '/v1/governance/policy/restore', { body });
    const unknown = await restore({ version: 99, reason: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('policy_version_not_found');
    const unusable = await restore({ version: 3, reason: 'x' });
    expect(unusable.status).toBe(400);
    expect(unusable.json.error.code).toBe('invalid_policy');
    expect(unusable.json.error.message).toContain('policy version 3 cannot be restored');
    for (const body of [
      { version: 2 },
      { version: 0, reason: 'x' },
      { version: 'two', reason: 'x' },
    ]) {
      expect((await restore(body)).status, JSON.stringify(body)).toBe(400);
    }
    expect(server.bucket.policies.versionNumber()).toBe(3);
    expect(server.bucket.policies.usable()).toBe(false);
  });

  it('is refused while halted, and repairs the Bucket from read_only', async () => {
    const mode = (to: string) =>
      owner('POST', '/v1/governance/mode', { body: { mode: to, reason: 'repair' } });
    expect((await mode('halted')).status).toBe(200);
    const halted = await owner('POST', '/v1/governance/policy/restore', {
      body: { version: 2, reason: 'repair' },
    });
    expect(halted.status).toBe(503);
    expect(halted.json.error.code).toBe('bucket_halted');
    expect((await mode('read_only')).status).toBe(200);
    const restored = await owner('POST', '/v1/governance/policy/restore', {
      body: { version: good.version, reason: 'repair after a hand edit' },
    });
    expect(restored.status).toBe(200);
    expect(restored.json).toMatchObject({ version: 4, changed: true, document: good.document });
    expect(server.bucket.policies.usable()).toBe(true);
    expect((await mode('normal')).status).toBe(200);
    expect((await product('PUT', WRITE, { body: { look: 'calm' } })).status).toBe(201);
    const health = (await owner('GET', '/health')).json;
    expect(health.governance).toMatchObject({ policyVersion: 4 });
    expect(health.governance.gate).not.toBe('degraded');
    const version = (await owner('GET', '/v1/governance/policy/versions/4')).json;
    expect(version).toMatchObject({ reason: 'repair after a hand edit', hash: restored.json.hash });
  });

  it('records the restore in the audit log with the version it restored', async () => {
    const entries = (await owner('GET', '/v1/audit/entries?decision=allow&limit=500')).json
      .entries as { entry: Record<string, unknown> }[];
    const restore = entries.find((found) => found.entry['operation'] === 'policy.restore');
    expect(restore?.entry).toMatchObject({
      governance: { restoredFrom: 2 },
      policy: { version: 4, hash: policyHash(good.document) },
    });
  });

  it('changes nothing when the version restored is the live document', async () => {
    const again = await owner('POST', '/v1/governance/policy/restore', {
      body: { version: 2, reason: 'same again' },
    });
    expect(again.json).toMatchObject({ version: 4, changed: false });
    expect(server.bucket.policies.versionNumber()).toBe(4);
  });
});
