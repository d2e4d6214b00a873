/**
 * Webhooks across nodes (SPEC §10): two nodes on one PostgreSQL + Redis + S3 share one webhook;
 * the changes made on both reach its receiver exactly once each, in cursor order — one node at a
 * time holds the webhook's lease, and the database wakes the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type TestS3 } from '../helpers/s3.js';
import { createScaleOutBackend, type ScaleOutBackend } from '../helpers/scaleout.js';
import { client, createKey, startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

const available = (await serviceAvailable('postgres')) && (await serviceAvailable('redis'));
const FAST = { retry: { baseMs: 20, maxMs: 100 }, pollMs: 100 };

describe.runIf(available)('webhooks on two nodes', () => {
  let s3: TestS3;
  let backend: ScaleOutBackend;
  let nodeA: TestServer;
  let nodeB: TestServer;
  let receiver: Receiver;

  beforeAll(async () => {
    s3 = await startS3();
    backend = await createScaleOutBackend(s3.endpoint);
    nodeA = await startTestServer({ backend, bucket: { webhooks: FAST } });
    nodeB = await startTestServer({
      backend,
      env: { BUCKET_OWNER_KEY: nodeA.ownerKey },
      bucket: { webhooks: FAST },
    });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await nodeA?.dispose();
    await nodeB?.dispose();
    await backend?.dispose();
    await s3?.stop();
    await receiver?.close();
  });

  it('delivers the changes of both nodes once each, in cursor order', async () => {
    const owner = client(nodeA.url, nodeA.ownerKey);
    const { document } = (await owner('GET', '/v1/governance/policy')).json;
    const policy = await owner('PUT', '/v1/governance/policy', {
      body: { document: { ...document, egress: { allow: ['127.0.0.1'] } }, reason: 'receiver' },
    });
    expect(policy.status).toBe(200);
    const created = await owner('POST', '/v1/webhooks', {
      body: { url: `${receiver.url}/both`, types: ['bucket.key.created'] },
    });
    expect(created.status).toBe(201);
    const keys = await Promise.all(
      Array.from({ length: 20 }, (_, i) => createKey(i % 2 ? nodeB : nodeA, { kind: 'auditor' })),
    );
    const got = await receiver.waitFor(keys.length, 20_000);
    const events = got.map((request) => JSON.parse(request.body));
    expect(new Set(events.map((event) => event.subject))).toEqual(new Set(keys.map((k) => k.id)));
    const ids = events.map((event) => Number(event.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.received).toHaveLength(keys.length); // none twice
  });
});
