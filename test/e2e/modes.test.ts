/**
 * The mode (SPEC §9): any key reads it, only the owner switches it; every switch is audited (its
 * entry names the new mode) and announced (`bucket.mode.changed`); `/health` and the gate's status
 * follow it; it survives a restart; and on a shared backend every node follows a switch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';
import { twoNodes, twoNodesAvailable } from '../helpers/two-nodes.js';

const PATH = '/v1/artifacts/ai_avatar/avatar_config/modes/m.json';

describe('the mode', () => {
  let server: InProcessTestServer;
  let productKey: string;

  beforeAll(async () => {
    server = await startTestServer();
    productKey = (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key;
  });
  afterAll(async () => server?.dispose());

  it('starts normal, is read by any key and switched by the owner only (T4 otherwise)', async () => {
    const asProduct = client(server.url, productKey);
    const read = await asProduct('GET', '/v1/governance/mode');
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ mode: 'normal', by: 'system', since: expect.any(String) });
    expect(read.json).not.toHaveProperty('incidentId');
    for (const kind of ['executor', 'auditor'] as const) {
      const { key } = await createKey(server, { kind });
      const refused = await client(server.url, key)('POST', '/v1/governance/mode', {
        body: { mode: 'halted', reason: 'not mine' },
      });
      expect(refused.status).toBe(403);
      expect(refused.json.error.decision.threats).toEqual([expect.objectContaining({ id: 'T4' })]);
    }
    const refused = await asProduct('POST', '/v1/governance/mode', {
      body: { mode: 'halted', reason: 'not mine' },
    });
    expect(refused.status).toBe(403);
    expect((await asProduct('GET', '/v1/governance/mode')).json.mode).toBe('normal');
  });

  it('refuses a mode it does not know or a switch without a reason (400), changing nothing', async () => {
    const api = client(server.url, server.ownerKey);
    for (const body of [
      { mode: 'off', reason: 'x' },
      { mode: 'halted' },
      { mode: 'halted', reason: '' },
    ]) {
      const answer = await api('POST', '/v1/governance/mode', { body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.json.error.code).toBe('invalid_request');
    }
    expect((await api('GET', '/v1/governance/mode')).json.mode).toBe('normal');
  });

  it('audits every switch with the new mode and announces it as an event', async () => {
    const api = client(server.url, server.ownerKey);
    const since = Number((await api('GET', '/v1/events?limit=1000')).json.nextCursor);
    const switched = await api('POST', '/v1/governance/mode', {
      body: { mode: 'read_only', reason: 'disk check' },
    });
    expect(switched.status).toBe(200);
    expect(switched.json).toMatchObject({ mode: 'read_only', reason: 'disk check' });
    const events = (await api('GET', `/v1/events?since=${since}&type=bucket.mode`)).json.events;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'bucket.mode.changed',
      data: { mode: 'read_only', previous: 'normal', reason: 'disk check' },
      bucketproduct: null,
    });
    const entry = (await api('GET', `/v1/audit/entries/${events[0].auditindex}`)).json;
    expect(entry.entry ?? entry).toMatchObject({
      allow: true,
      operation: 'mode.set',
      mode: { mode: 'read_only', previous: 'normal', reason: 'disk check' },
    });
    expect(
      (await api('POST', '/v1/governance/mode', { body: { mode: 'normal', reason: 'ok' } })).status,
    ).toBe(200);
  });

  it('makes /health and the gate status live', async () => {
    const api = client(server.url, server.ownerKey);
    const health = client(server.url);
    const normal = await health('GET', '/health');
    expect(normal.status).toBe(200);
    expect(normal.json).toMatchObject({
      status: 'healthy',
      governance: { gate: 'active', mode: 'normal' },
    });
    await api('POST', '/v1/governance/mode', { body: { mode: 'read_only', reason: 'check' } });
    const readOnly = await health('GET', '/health');
    expect(readOnly.status).toBe(200);
    expect(readOnly.json).toMatchObject({
      status: 'degraded',
      governance: { gate: 'active', mode: 'read_only' },
    });
    expect((await api('GET', '/governance/gate/status')).json).toMatchObject({
      status: 'active',
      mode: 'read_only',
    });
    await api('POST', '/v1/governance/mode', { body: { mode: 'halted', reason: 'stop' } });
    const halted = await health('GET', '/health');
    expect(halted.status).toBe(503);
    expect(halted.json).toMatchObject({
      status: 'unhealthy',
      governance: { gate: 'halted', mode: 'halted' },
    });
    await api('POST', '/v1/governance/mode', { body: { mode: 'normal', reason: 'back' } });
    expect((await health('GET', '/health')).json.status).toBe('healthy');
  });

  it('keeps the mode across a restart', async () => {
    const api = client(server.url, server.ownerKey);
    expect((await client(server.url, productKey)('PUT', PATH, { body: { a: 1 } })).status).toBe(
      201,
    );
    await api('POST', '/v1/governance/mode', { body: { mode: 'read_only', reason: 'restart' } });
    await server.stop();
    server = await startTestServer({
      dataDir: server.dataDir,
      env: { BUCKET_OWNER_KEY: server.ownerKey },
      ...(server.backend ? { backend: server.backend } : {}),
    });
    const after = client(server.url, server.ownerKey);
    expect((await after('GET', '/v1/governance/mode')).json).toMatchObject({
      mode: 'read_only',
      reason: 'restart',
    });
    const write = await client(server.url, productKey)('PUT', PATH, { body: { a: 2 } });
    expect(write.status).toBe(503);
    expect(write.json.error.code).toBe('bucket_read_only');
    expect((await client(server.url, productKey)('GET', PATH)).json).toEqual({ a: 1 });
    await after('POST', '/v1/governance/mode', { body: { mode: 'normal', reason: 'done' } });
    expect((await client(server.url, productKey)('PUT', PATH, { body: { a: 2 } })).status).toBe(
      200,
    );
  });
});

describe.runIf(await twoNodesAvailable())('the mode on two nodes', () => {
  const nodes = twoNodes();

  // The other node takes the switch at its next coherence poll (every 250 ms); the bound waited
  // for here is wide, as a loaded machine delays any poll (no timing is asserted in tests).
  it('applies a switch made on one node on the other', async () => {
    const { nodeA, nodeB } = nodes;
    const { key } = await createKey(nodeA, { kind: 'product', product: 'ai_avatar' });
    const onB = client(nodeB.url, key);
    expect((await onB('PUT', PATH, { body: { a: 1 } })).status).toBe(201);
    const switched = await client(nodeA.url, nodeA.ownerKey)('POST', '/v1/governance/mode', {
      body: { mode: 'read_only', reason: 'both nodes' },
    });
    expect(switched.status).toBe(200);
    const deadline = Date.now() + 15_000;
    let code: string | undefined;
    while (Date.now() < deadline) {
      code = (await onB('PUT', PATH, { body: { a: 2 } })).json?.error?.code;
      if (code === 'bucket_read_only') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(code).toBe('bucket_read_only');
    expect((await onB('GET', '/v1/governance/mode')).json.mode).toBe('read_only');
  });
});
