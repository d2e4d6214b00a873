/**
 * Webhooks over real HTTP (SPEC §10): deliveries signed per Standard Webhooks and checked here by
 * an independent verifier, in cursor order, retried after failures, the webhook disabled (with its
 * event) after the retry window, the delivery log, a restart that continues where it stopped, and
 * a subscriber that throws disturbing no one. The retry schedule is shortened through
 * createBucket's options instead of waiting seconds.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from '../helpers/http.js';
import { SCALE_OUT } from '../helpers/scaleout.js';
import { client, createKey, startTestServer, type InProcessTestServer } from '../helpers/server.js';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

/**
 * Retries every 20–80 ms. The window is long (a loaded machine must not disable a webhook a test
 * is still waiting on), except where the window is the point: SHORT_WINDOW.
 */
const FAST = {
  retry: { baseMs: 20, maxMs: 80, windowMs: 60_000 },
  pollMs: 50,
  timeoutMs: 2000,
};
const SHORT_WINDOW = { ...FAST, retry: { ...FAST.retry, windowMs: 600 } };

type Api = ReturnType<typeof client>;

/**
 * The Standard Webhooks verification a receiver makes, written from the spec and not from the
 * Bucket's code: HMAC-SHA256 keyed by the base64 after `whsec_`, over `<id>.<timestamp>.<body>`.
 */
function verify(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const id = String(headers['webhook-id']);
  const timestamp = String(headers['webhook-timestamp']);
  const key = Buffer.from(secret.split('_')[1] ?? '', 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return String(headers['webhook-signature'])
    .split(' ')
    .some((candidate) => {
      const [version, mac = ''] = candidate.split(',');
      const given = Buffer.from(mac, 'base64');
      return (
        version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected)
      );
    });
}

async function allowLoopback(owner: Api, allow: string[]): Promise<void> {
  const { document } = (await owner('GET', '/v1/governance/policy')).json;
  const answer = await owner('PUT', '/v1/governance/policy', {
    body: { document: { ...document, egress: { allow } }, reason: 'webhook receivers on loopback' },
  });
  expect(answer.status).toBe(200);
}

async function subscribe(owner: Api, url: string, types = ['bucket.key.']) {
  const answer = await owner('POST', '/v1/webhooks', { body: { url, types } });
  expect(answer.status).toBe(201);
  return answer.json as { id: string; url: string; types: string[]; secret: string };
}

async function deliveries(owner: Api, id: string) {
  const answer = await owner('GET', `/v1/webhooks/${id}/deliveries?limit=1000`);
  expect(answer.status).toBe(200);
  return answer.json.deliveries as {
    eventId: number;
    attempt: number;
    status: number | null;
    error: string | null;
  }[];
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(25);
  }
}

/**
 * A server with the fast schedule and a receiver, registered as beforeAll/afterAll; `allow` is the
 * policy's egress.allow (none: the shipped policy). Members are there once the hook has run.
 */
function webhookRig(allow: string[] | null, webhooks = FAST) {
  const rig = {} as { server: InProcessTestServer; owner: Api; receiver: Receiver };
  beforeAll(async () => {
    rig.server = await startTestServer({ bucket: { webhooks } });
    rig.owner = client(rig.server.url, rig.server.ownerKey);
    rig.receiver = await startReceiver();
    if (allow) await allowLoopback(rig.owner, allow);
  });
  afterAll(async () => {
    await rig.server?.dispose();
    await rig.receiver?.close();
  });
  return rig;
}

describe('webhooks', () => {
  const rig = webhookRig(['127.0.0.1']);

  it('delivers each event once, signed, in cursor order, and logs every attempt', async () => {
    const { server, owner, receiver } = rig;
    receiver.received.length = 0;
    receiver.script = () => 204;
    const webhook = await subscribe(owner, `${receiver.url}/hook`);
    expect(webhook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const keys = [];
    for (let i = 0; i < 3; i++) keys.push(await createKey(server, { kind: 'auditor' }));
    const got = await receiver.waitFor(3);
    const events = got.map((request) => JSON.parse(request.body));
    expect(events.map((event) => event.type)).toEqual(Array(3).fill('bucket.key.created'));
    expect(events.map((event) => event.subject)).toEqual(keys.map((key) => key.id));
    const ids = events.map((event) => Number(event.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    for (const request of got) {
      expect(request.path).toBe('/hook');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['webhook-id']).toBe(JSON.parse(request.body).id);
      const timestamp = Number(request.headers['webhook-timestamp']);
      expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(60);
      expect(verify(webhook.secret, request.headers, request.body)).toBe(true);
      // The same body under another secret does not verify: the check has teeth.
      expect(
        verify('whsec_' + Buffer.alloc(24).toString('base64'), request.headers, request.body),
      ).toBe(false);
    }
    const log = await until(
      () => deliveries(owner, webhook.id),
      (rows) => rows.length >= 3,
    );
    expect(log.map((row) => [row.eventId, row.attempt, row.status])).toEqual(
      ids.map((id) => [id, 1, 204]),
    );
    await sleep(200);
    expect(receiver.received).toHaveLength(3); // once each
    expect((await owner('DELETE', `/v1/webhooks/${webhook.id}`)).status).toBe(200);
  });

  it('retries a failing event with backoff and holds the later ones back until it succeeds', async () => {
    const { server, owner, receiver } = rig;
    receiver.received.length = 0;
    receiver.script = (n) => (n <= 2 ? 500 : 200);
    const webhook = await subscribe(owner, `${receiver.url}/retry`);
    const first = await createKey(server, { kind: 'auditor' });
    const second = await createKey(server, { kind: 'auditor' });
    const got = await receiver.waitFor(4);
    const subjects = got.map((request) => JSON.parse(request.body).subject);
    // The first event three times (500, 500, 200), then the second: never out of order.
    expect(subjects).toEqual([first.id, first.id, first.id, second.id]);
    const log = await until(
      () => deliveries(owner, webhook.id),
      (rows) => rows.length >= 4,
    );
    expect(log.map((row) => [row.attempt, row.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
      [1, 200],
    ]);
    expect((await owner('DELETE', `/v1/webhooks/${webhook.id}`)).status).toBe(200);
  });

  it('does not follow redirects', async () => {
    const { server, owner, receiver } = rig;
    receiver.received.length = 0;
    receiver.script = (_n, request) =>
      request.path === '/moved' ? { status: 307, headers: { location: '/elsewhere' } } : 200;
    const webhook = await subscribe(owner, `${receiver.url}/moved`);
    await createKey(server, { kind: 'auditor' });
    const log = await until(
      () => deliveries(owner, webhook.id),
      (rows) => rows.length >= 2,
    );
    expect(log[0]).toMatchObject({ status: 307, error: expect.stringMatching(/redirect/) });
    expect(receiver.received.every((request) => request.path === '/moved')).toBe(true);
    expect((await owner('DELETE', `/v1/webhooks/${webhook.id}`)).status).toBe(200);
  });

  it('keeps delivering when another subscriber of the events throws', async () => {
    const { server, owner, receiver } = rig;
    receiver.received.length = 0;
    receiver.script = () => 200;
    const stop = server.bucket.metadata.watchEvents(() => {
      throw new Error('a broken subscriber');
    });
    try {
      await subscribe(owner, `${receiver.url}/isolated`);
      const key = await createKey(server, { kind: 'auditor' });
      const [request] = await receiver.waitFor(1);
      expect(JSON.parse(request?.body ?? '{}').subject).toBe(key.id);
    } finally {
      stop();
    }
  });

  it('is for the owner only, announces creation and deletion, and refuses bad input', async () => {
    const { server, owner, receiver } = rig;
    const auditor = await createKey(server, { kind: 'auditor' });
    const asAuditor = client(server.url, auditor.key);
    expect((await asAuditor('GET', '/v1/webhooks')).status).toBe(403);
    const refused = await asAuditor('POST', '/v1/webhooks', {
      body: { url: `${receiver.url}/x`, types: ['bucket.'] },
    });
    expect(refused.status).toBe(403);
    for (const body of [
      { url: 'ftp://example.com/x', types: ['bucket.'] },
      { url: 'not a url', types: ['bucket.'] },
      { url: 'http://user:pw@example.com/', types: ['bucket.'] },
      { url: 'https://example.com/', types: [] },
      { url: 'https://example.com/', types: ['Bucket Key'] },
      { url: 'http://10.0.0.1/', types: ['bucket.'] },
      { url: 'http://[::ffff:127.0.0.2]/', types: ['bucket.'] },
    ]) {
      const answer = await owner('POST', '/v1/webhooks', { body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.json.error.code).toMatch(/invalid_webhook|invalid_request/);
    }
    expect((await owner('DELETE', '/v1/webhooks/wh_missing')).status).toBe(404);
    expect((await owner('GET', '/v1/webhooks/wh_missing/deliveries')).status).toBe(404);

    const created = await subscribe(owner, 'https://hooks.example.com/in/secret-token', [
      'bucket.',
    ]);
    const listed = (await owner('GET', '/v1/webhooks')).json;
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect((await owner('DELETE', `/v1/webhooks/${created.id}`)).status).toBe(200);
    const events = (await owner('GET', '/v1/events?type=bucket.webhook.&limit=1000')).json
      .events as {
      type: string;
      subject: string;
      data: Record<string, unknown>;
      auditindex: number | null;
    }[];
    const mine = events.filter((event) => event.subject === created.id);
    expect(mine.map((event) => event.type)).toEqual([
      'bucket.webhook.created',
      'bucket.webhook.deleted',
    ]);
    for (const event of mine) {
      expect(event.auditindex).not.toBeNull();
      expect(event.data['target']).toBe('https://hooks.example.com');
      // The URL's path may carry a receiver's token: only the origin is announced.
      expect(JSON.stringify(event)).not.toContain('secret-token');
    }
  });
});

describe('the retry window', () => {
  const rig = webhookRig(['127.0.0.1'], SHORT_WINDOW);

  it('disables a webhook whose event fails for the whole retry window, and says so', async () => {
    const { server, owner, receiver } = rig;
    receiver.received.length = 0;
    receiver.script = () => 503;
    const webhook = await subscribe(owner, `${receiver.url}/down`);
    await createKey(server, { kind: 'auditor' });
    const listed = await until(
      async () =>
        (await owner('GET', '/v1/webhooks')).json.webhooks as { id: string; status: string }[],
      (all) => all.find((one) => one.id === webhook.id)?.status === 'disabled',
      30_000,
    );
    expect(listed.find((one) => one.id === webhook.id)?.status).toBe('disabled');
    const events = (await owner('GET', '/v1/events?type=bucket.webhook.disabled&limit=1000')).json
      .events as { subject: string; data: Record<string, unknown> }[];
    const disabled = events.find((event) => event.subject === webhook.id);
    expect(disabled?.data['reason']).toMatch(/retry window/);
    expect(JSON.stringify(disabled)).not.toContain(webhook.secret);
    const attempts = receiver.received.length;
    expect(attempts).toBeGreaterThanOrEqual(2); // retried before giving up
    await createKey(server, { kind: 'auditor' });
    await sleep(300);
    expect(receiver.received.length).toBe(attempts); // no more deliveries
  });
});

describe('webhook delivery state lives in the database', () => {
  it('continues after a restart on the same data directory', async () => {
    const receiver = await startReceiver(() => 500);
    let server = await startTestServer({ bucket: { webhooks: FAST } });
    const dataDir = server.dataDir;
    try {
      let owner = client(server.url, server.ownerKey);
      await allowLoopback(owner, [`127.0.0.1:${receiver.port}`]);
      const webhook = await subscribe(owner, `${receiver.url}/restart`);
      const key = await createKey(server, { kind: 'auditor' });
      await receiver.waitFor(1);
      await server.stop();
      const failedBefore = receiver.received.length;
      receiver.script = () => 200;
      server = await startTestServer({ dataDir, bucket: { webhooks: FAST } });
      owner = client(server.url, server.ownerKey);
      const got = await receiver.waitFor(failedBefore + 1);
      const last = got.at(-1);
      expect(JSON.parse(last?.body ?? '{}').subject).toBe(key.id);
      const log = await until(
        () => deliveries(owner, webhook.id),
        (rows) => rows.some((row) => row.status === 200),
      );
      expect(log.at(-1)).toMatchObject({ status: 200, attempt: log.length });
    } finally {
      await server.dispose();
      await receiver.close();
      const { rm } = await import('node:fs/promises');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('webhook targets and secrets', () => {
  // The shipped policy: egress.allow is empty.
  const rig = webhookRig(null);

  it('refuses at connect time a host name that resolves to the loopback', async () => {
    const { server, owner, receiver } = rig;
    const webhook = await subscribe(owner, `http://localhost:${receiver.port}/hook`);
    await createKey(server, { kind: 'auditor' });
    const log = await until(
      () => deliveries(owner, webhook.id),
      (rows) => rows.length >= 2,
    );
    expect(log[0]).toMatchObject({ status: null, error: expect.stringMatching(/egress refused/) });
    expect(receiver.received).toHaveLength(0);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/bucket_webhook_deliveries_total\{outcome="refused"\} [1-9]/);

    // Once the policy names the host, the same webhook delivers the event it was retrying.
    await allowLoopback(owner, ['localhost']);
    await receiver.waitFor(1);
    expect(JSON.parse(receiver.received[0]?.body ?? '{}').type).toBe('bucket.key.created');
    const after = await until(
      async () => (await fetch(`${server.url}/metrics`)).text(),
      (text) => /bucket_webhook_delivery_lag_seconds_count [1-9]/.test(text),
    );
    expect(after).toMatch(/bucket_webhook_deliveries_total\{outcome="delivered"\} [1-9]/);
    expect(after).toMatch(/bucket_webhook_delivery_lag_seconds_count [1-9]/);
    expect(after).toContain(`bucket_webhook_backlog_events{webhook="${webhook.id}"}`);
    expect((await owner('DELETE', `/v1/webhooks/${webhook.id}`)).status).toBe(200);
  });

  it.skipIf(SCALE_OUT)('keeps secrets out of the database in clear', async () => {
    const { server, owner } = rig;
    const created = await subscribe(owner, 'https://hooks.example.com/at-rest', ['bucket.']);
    const secretBytes = created.secret.slice('whsec_'.length);
    const raw = Buffer.from(secretBytes, 'base64');
    // Every byte the embedded store wrote: the database, its WAL, anything beside them.
    const files = (await readdir(server.dataDir)).filter((name) => name.startsWith('bucket.db'));
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) {
      const bytes = await readFile(join(server.dataDir, name));
      expect(bytes.includes(Buffer.from(created.secret)), name).toBe(false);
      expect(bytes.includes(Buffer.from(secretBytes)), name).toBe(false);
      expect(bytes.includes(raw), name).toBe(false);
    }
    const audit = (await owner('GET', '/v1/audit/entries?limit=1000')).bytes.toString();
    expect(audit).not.toContain(secretBytes);
  });
});
