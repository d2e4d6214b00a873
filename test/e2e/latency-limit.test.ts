/**
 * The latency limit (SPEC §15): while the event-loop delay is over `limits.maxEventLoopDelayMs`,
 * artifact requests are answered 503 `overloaded` with `Retry-After` before anything is done;
 * health, metrics, the mode, incidents, the policy and the audit log still answer. The delay is
 * forced here (a test reading), not produced by blocking the loop — but in the last test, which
 * checks the server's own reading on a turn kept busy on purpose (decision record 0069).
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/durability.js';
import { blockLoop, sleep } from '../helpers/http.js';
import {
  client,
  createKey,
  startTestServer,
  type InProcessTestServer,
  type TestServer,
} from '../helpers/server.js';

const PATH = '/v1/artifacts/ai_avatar/avatar_config/latency/a.json';

describe('the latency limit', () => {
  let server: TestServer;
  let delayMs = 0;
  let product: ReturnType<typeof client>;
  let owner: ReturnType<typeof client>;

  beforeAll(async () => {
    server = await startTestServer({ bucket: { eventLoopDelayMs: () => delayMs } });
    owner = client(server.url, server.ownerKey);
    product = client(
      server.url,
      (await createKey(server, { kind: 'product', product: 'ai_avatar' })).key,
    );
  });
  afterAll(async () => server?.dispose());

  it('sheds artifact requests while the delay is over 200 ms, storing nothing', async () => {
    expect((await product('PUT', PATH, { body: { v: 1 } })).status).toBe(201);
    const entriesBefore = (await owner('GET', '/v1/audit/checkpoint')).json.size;
    delayMs = 250;
    const requests = [
      product('PUT', PATH, { body: { v: 2 } }),
      product('PUT', `${PATH}.new`, { body: { v: 1 } }),
      product('GET', PATH),
      product('HEAD', PATH),
      product('GET', `${PATH}/versions`),
      product('GET', '/v1/artifacts/ai_avatar?limit=10'),
      product('DELETE', PATH),
    ];
    for (const answer of await Promise.all(requests)) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('1');
      if (answer.bytes.length > 0) {
        expect(answer.json.error.code).toBe('overloaded');
        expect(answer.json.error.message).toContain('250 ms, over its limit of 200 ms');
      }
    }
    delayMs = 0;
    // Nothing was done: no version, no new name, no audit entry.
    expect((await product('GET', PATH)).json).toEqual({ v: 1 });
    expect((await product('GET', `${PATH}.new`)).status).toBe(404);
    const entriesAfter = (await owner('GET', '/v1/audit/checkpoint')).json.size;
    // The only entries since: the first checkpoint read and the two reads just made.
    expect(entriesAfter - entriesBefore).toBe(3);
  });

  it('answers a shed request with its request id, and counts it by route and status', async () => {
    delayMs = 250;
    try {
      const answer = await product('PUT', `${PATH}.counted`, { body: { v: 1 } });
      expect(answer.status).toBe(503);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.headers.get('x-request-id')).toBe(answer.json.error.requestId);
    } finally {
      delayMs = 0;
    }
    const metrics = (await owner('GET', '/metrics')).bytes.toString();
    expect(metrics).toMatch(
      /bucket_http_requests_total\{route="\/v1\/artifacts\/:product\/:class\/\*",method="PUT",status="503"\} [1-9]/,
    );
  });

  it('does not keep the connection of a shed upload whose body never comes', async () => {
    delayMs = 250;
    try {
      const { hostname, port } = new URL(server.url);
      const socket = connect(Number(port), hostname);
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('error', () => undefined);
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      // 1 MiB announced, one byte sent: the client stalls after it.
      socket.write(
        `PUT ${PATH}.stalled HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
          'content-length: 1048576\r\n\r\n{',
      );
      // Answered at once, then the rest drained a while (5 s) and the socket closed: the server
      // does not wait for the body, nor hold the connection until its idle timeout.
      await closed;
      expect(text).toMatch(/^HTTP\/1\.1 503 /);
      expect(text).toContain('"code":"overloaded"');
    } finally {
      delayMs = 0;
    }
  }, 20_000);

  it('never sheds health, metrics, the mode, incidents, the policy or the audit log', async () => {
    delayMs = 10_000;
    try {
      for (const [api, path] of [
        [owner, '/health'],
        [owner, '/metrics'],
        [owner, '/v1/governance/mode'],
        [owner, '/v1/governance/incidents'],
        [owner, '/v1/governance/policy'],
        [owner, '/v1/audit/checkpoint'],
        [owner, '/governance/gate/status'],
        [product, '/v1/events?limit=1'],
      ] as const) {
        const answer = await api('GET', path);
        expect(answer.status, path).toBe(200);
      }
      const halted = await owner('POST', '/v1/governance/mode', {
        body: { mode: 'read_only', reason: 'overloaded, checking' },
      });
      expect(halted.status).toBe(200);
      const normal = await owner('POST', '/v1/governance/mode', {
        body: { mode: 'normal', reason: 'checked' },
      });
      expect(normal.status).toBe(200);
    } finally {
      delayMs = 0;
    }
  });

  it('follows the live policy, and shows the latency in scale-status', async () => {
    delayMs = 250;
    try {
      const { document } = (await owner('GET', '/v1/governance/policy')).json;
      expect(document.limits.maxEventLoopDelayMs).toBe(200);
      document.limits.maxEventLoopDelayMs = 1000;
      const changed = await owner('PUT', '/v1/governance/policy', {
        body: { document, reason: 'a slower disk' },
      });
      expect(changed.status, changed.bytes.toString()).toBe(200);
      expect((await product('GET', PATH)).status).toBe(200);
      const { limits } = (await owner('GET', '/v1/metrics/scale-status')).json;
      expect(limits).toContainEqual({
        name: 'latency',
        limit: 1000,
        current: 250,
        ratio: 0.25,
        status: 'GREEN',
      });
    } finally {
      delayMs = 0;
    }
  });

  it('refuses a latency limit below 1 ms', async () => {
    const { document } = (await owner('GET', '/v1/governance/policy')).json;
    document.limits.maxEventLoopDelayMs = 0;
    const refused = await owner('PUT', '/v1/governance/policy', {
      body: { document, reason: 'no limit' },
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe('invalid_policy');
  });
});

describe('the latency limit, read from the loop itself', () => {
  let server: InProcessTestServer;
  let authorization: string;

  beforeAll(async () => {
    // No test reading: the server's own monitor (decision record 0069).
    server = await startTestServer({ env: { BUCKET_TEST_EVENT_LOOP_DELAY_MS: '' } });
    authorization = `Bearer ${(await createKey(server, { kind: 'product', product: 'ai_avatar' })).key}`;
  });
  afterAll(async () => server?.dispose());

  const put = (name: string) =>
    server.app.inject({
      method: 'PUT',
      url: `/v1/artifacts/ai_avatar/avatar_config/turn/${name}.json`,
      headers: { authorization, 'content-type': 'application/json' },
      payload: { v: 1 },
    });

  it('sheds what it reads in a turn busy past the limit, and serves again the next turns', async () => {
    await sleep(600);
    // A turn kept busy 300 ms (a flood read in one poll phase): no timer has run since it began.
    blockLoop(300);
    const [shed, health] = await Promise.all([
      put('late'),
      server.app.inject({ method: 'GET', url: '/health' }),
    ]);
    expect(shed.statusCode).toBe(503);
    expect(shed.headers['retry-after']).toBe('1');
    expect(shed.json().error.code).toBe('overloaded');
    expect(shed.json().error.message).toMatch(/over its limit of 200 ms/);
    // Health is never shed (SPEC §15): it answers whatever the loop's delay.
    expect(health.json().status).toBeDefined();
    // Once the loop has turned it is free again: nothing was stored, and the same write is served.
    const read = () =>
      server.app.inject({
        method: 'GET',
        url: '/v1/artifacts/ai_avatar/avatar_config/turn/late.json',
        headers: { authorization },
      });
    expect(await eventually(async () => (await read()).statusCode === 404)).toBe(true);
    expect((await put('late')).statusCode).toBe(201);
  });
});
