/**
 * The scrub and drift on two nodes of one scale-out Bucket (SPEC §9): one scrub at a time across
 * nodes (the other node answers 409 while it runs), any node answers for a scrub by id (its
 * progress, then its outcome), both nodes share the one signed baseline, and a scheduled scrub
 * runs on one node per interval.
 */
import { describe, expect, it } from 'vitest';
import { client, createKey } from '../helpers/server.js';
import { twoNodes, twoNodesAvailable } from '../helpers/two-nodes.js';

const BLOB = '/v1/artifacts/ai_avatar/model_checkpoint/nodes/big.ckpt';
const CONTENT = Buffer.alloc(200 * 1024, 7);

describe.runIf(await twoNodesAvailable())('the scrub on two nodes', () => {
  // 50 KiB/s over a 200 KiB blob: about four seconds of scrub to look at from the other node.
  const nodes = twoNodes({ scrubThrottle: { bytesPerSecond: 50 * 1024 } });

  it('runs one scrub at a time across nodes, answered by either', async () => {
    const { nodeA, nodeB } = nodes;
    const { key } = await createKey(nodeA, { kind: 'product', product: 'ai_avatar' });
    const put = await client(nodeA.url, key)('PUT', BLOB, {
      body: CONTENT,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(put.status).toBe(201);
    const onA = client(nodeA.url, nodeA.ownerKey);
    const onB = client(nodeB.url, nodeA.ownerKey);
    const started = await onA('POST', '/v1/governance/scrub');
    expect(started.status).toBe(202);
    const refused = await onB('POST', '/v1/governance/scrub');
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('scrub_running');
    const seen = await onB('GET', `/v1/governance/scrub/${started.json.id}`);
    expect(seen.status).toBe(200);
    expect(seen.json.status).toBe('running');
    let outcome = seen.json;
    for (let attempt = 0; attempt < 400 && outcome.status === 'running'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      outcome = (await onB('GET', `/v1/governance/scrub/${started.json.id}`)).json;
    }
    expect(outcome).toMatchObject({ status: 'passed', checked: { contents: 1, versions: 1 } });
    expect((await nodeB.bucket.scrub.lastPassed())?.id).toBe(started.json.id);
  });

  it('shares one signed baseline, and no scheduled scrub is due while the last is fresh', async () => {
    const { nodeA, nodeB } = nodes;
    const [a, b] = await Promise.all(
      [nodeA, nodeB].map(
        async (node) =>
          (await client(node.url, nodeA.ownerKey)('GET', '/v1/governance/drift')).json,
      ),
    );
    expect(a.baseline).toEqual(b.baseline);
    expect(a.status).toBe('clean');
    expect(b.status).toBe('clean');
    // The scrub above is younger than the 24 h interval: a scheduled look on either node starts none.
    const last = await nodeA.bucket.scrub.latest();
    for (const node of [nodeA, nodeB]) {
      expect(await node.bucket.scrub.begin('system', { scheduled: true })).toBeNull();
    }
    expect((await nodeB.bucket.scrub.latest())?.id).toBe(last?.id);
  });
});
