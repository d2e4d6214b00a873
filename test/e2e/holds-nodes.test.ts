/**
 * Legal holds across nodes (SPEC §8, issue 6's coherence): a hold placed on one node applies on
 * the other within a second — its reads carry `x-bucket-legal-hold: on` and its tombstones are
 * refused — and lifting it there frees the artifact everywhere; a tombstone on the other node is
 * refused at once, before that node has heard of the hold (its commit reads the holds in force).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/durability.js';
import { startS3, type TestS3 } from '../helpers/s3.js';
import { createScaleOutBackend, type ScaleOutBackend } from '../helpers/scaleout.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';

const available = (await serviceAvailable('postgres')) && (await serviceAvailable('redis'));
const PATH = '/v1/artifacts/core/basket_config/nodes/held.json';

describe.runIf(available)('legal holds on two nodes', () => {
  let s3: TestS3;
  let backend: ScaleOutBackend;
  let nodeA: TestServer;
  let nodeB: TestServer;

  beforeAll(async () => {
    s3 = await startS3();
    backend = await createScaleOutBackend(s3.endpoint);
    nodeA = await startTestServer({ backend });
    nodeB = await startTestServer({ backend, env: { BUCKET_OWNER_KEY: nodeA.ownerKey } });
  });
  afterAll(async () => {
    await nodeA?.dispose();
    await nodeB?.dispose();
    await backend?.dispose();
    await s3?.stop();
  });

  it('applies a hold placed on A to reads and tombstones on B within a second', async () => {
    const { key } = await createKey(nodeA, { kind: 'core' });
    const onB = client(nodeB.url, key);
    const ownerA = client(nodeA.url, nodeA.ownerKey);
    const written = await client(nodeA.url, key)('PUT', PATH, {
      body: '{"strategy":"x"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(written.status).toBe(201);
    const placed = await ownerA('POST', '/v1/governance/holds', {
      body: { scope: { product: 'core', prefix: 'nodes/' }, caseRef: 'N-1', reason: 'r' },
    });
    expect(placed.status).toBe(201);
    const held = () =>
      onB('HEAD', PATH).then((answer) => answer.headers.get('x-bucket-legal-hold') === 'on');
    expect(await eventually(held, 1000)).toBe(true);
    const refused = await onB('DELETE', PATH);
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('legal_hold');

    const lifted = await client(nodeB.url, nodeA.ownerKey)(
      'DELETE',
      `/v1/governance/holds/${placed.json.id}?reason=done`,
    );
    expect(lifted.status).toBe(200);
    const free = () =>
      client(nodeA.url, key)('HEAD', PATH).then((a) => !a.headers.has('x-bucket-legal-hold'));
    expect(await eventually(free, 1000)).toBe(true);
    expect((await client(nodeA.url, key)('DELETE', PATH)).status).toBe(204);
  });

  it('refuses a tombstone on B at once after a hold on A, before B has heard of it', async () => {
    const { key } = await createKey(nodeA, { kind: 'core' });
    const path = '/v1/artifacts/core/basket_config/nodes/at-once.json';
    const written = await client(nodeA.url, key)('PUT', path, {
      body: '{"strategy":"y"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(written.status).toBe(201);
    const placed = await client(nodeA.url, nodeA.ownerKey)('POST', '/v1/governance/holds', {
      body: { scope: { product: 'core', prefix: 'nodes/at-once' }, caseRef: 'N-2', reason: 'r' },
    });
    expect(placed.status).toBe(201);
    // No wait for B's coherence poll: its gate still allows, the commit reads the hold.
    const refused = await client(nodeB.url, key)('DELETE', path);
    expect(refused.status, refused.bytes.toString()).toBe(403);
    expect(refused.json.error.code).toBe('legal_hold');
    expect(refused.bytes.toString()).toContain('N-2');
    // A detection like stage 4's: T3, in the threat records.
    const threats = await client(nodeA.url, nodeA.ownerKey)('GET', '/v1/governance/threats');
    expect(JSON.stringify(threats.json)).toContain('nodes/at-once.json under legal hold');
    const head = await client(nodeA.url, key)('GET', path);
    expect(head.status).toBe(200);
  });
});
